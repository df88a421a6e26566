import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/core/findings.js';
import { FINDING_KINDS } from '../../src/core/findings.js';
import { FINDING_ICONS, findingText } from '../../src/views/finding-text.js';
import { slackText } from '../../src/views/text-style.js';

const owner = { memberId: 'consumer-2-def456', clientId: 'consumer-2', host: '10.0.1.15' };

describe('the sentence of each finding', () => {
  it('hot partition: share, figures, and the owner led by client id and host', () => {
    const f: Finding = { kind: 'hot-partition', topic: 'user-events', partition: 1, lag: 4_442_768, share: 0.872, totalLag: 5_095_533, owner };
    expect(findingText(f)).toBe(
      'Hot partition user-events-1 holds 87% of the lag (4,442,768 of 5,095,533): a partition imbalance, not a throughput problem. ' +
        'Owner: consumer-2 on 10.0.1.15 (member consumer-2-def456).',
    );
    expect(findingText({ ...f, owner: null })).toContain('It has no owner');
  });

  it('stalled consumer: how long and how many arrived', () => {
    expect(findingText({ kind: 'stalled', topic: 'user-events', partition: 1, sinceMs: 300_000, arrived: 120_000, owner })).toBe(
      'Consumer stalled on user-events-1 (owner consumer-2 on 10.0.1.15): the committed offset has not moved for 5 min while 120,000 messages arrived.',
    );
  });

  it("slow consumer: the case study's figures, its owner, and what to do", () => {
    const f: Finding = { kind: 'slow-consumer', topic: 'user-events', partition: 1, consumePerSec: 800, producePerSec: 14_200, siblingsConsumePerSec: 14_200, siblings: 2, lag: 4_442_768, owner };
    expect(findingText(f)).toBe(
      'user-events-1 is consumed at 800/s, the other partitions at 14,200/s, while 14,200/s arrive on it (lag 4,442,768); its owner consumer-2 on 10.0.1.15 is slow: profile it.',
    );
    expect(findingText({ ...f, siblings: 1, consumePerSec: 0.4, owner: null })).toBe(
      'user-events-1 is consumed at 0.4/s, the other partition at 14,200/s, while 14,200/s arrive on it (lag 4,442,768); it has no owner now.',
    );
  });

  it('traffic spike: how many times the median, consumers at their usual rate, scale out up to the partition count', () => {
    const f: Finding = {
      kind: 'traffic-spike',
      producePerSec: 43_400,
      baselinePerSec: 14_000,
      ratio: 3.1,
      baselineMs: 3_600_000,
      consumePerSec: 14_000,
      usualConsumePerSec: 14_000,
      members: 2,
      partitions: 3,
    };
    expect(findingText(f)).toBe(
      'Traffic spike: produce rate 3.1x its 1 h median (43,400/s against 14,000/s); consumers are at their usual 14,000/s: add consumers, up to the partition count (3; 2 now).',
    );
    expect(findingText({ ...f, members: 3 })).toContain('every partition has its own consumer already (3 for 3): add partitions, or make processing faster.');
  });

  it('rewind: the partition, from and to, when, and how much is read again', () => {
    expect(findingText({ kind: 'rewind', topic: 'user-events', partition: 2, from: 9_187_443, to: 9_000_000, at: Date.UTC(2026, 10, 27, 3, 14, 5), owner })).toBe(
      'Committed offset of user-events-2 (owner consumer-2 on 10.0.1.15) went backwards from 9,187,443 to 9,000,000, seen at 2026-11-27 03:14:05 UTC: ' +
        'an offset reset or a replay; 187,443 messages are consumed again.',
    );
  });

  it('escapes the topic, client id and host of the new findings for Slack', () => {
    const evil = { memberId: 'm', clientId: '<@U0BOSS>', host: '*bold*' };
    const slow = slackText((s) =>
      findingText({ kind: 'slow-consumer', topic: '<!here>', partition: 1, consumePerSec: 1, producePerSec: 9, siblingsConsumePerSec: 9, siblings: 2, lag: 8, owner: evil }, s),
    );
    const back = slackText((s) => findingText({ kind: 'rewind', topic: '<!here>', partition: 1, from: 9, to: 1, at: 0, owner: evil }, s));
    for (const text of [slow, back]) {
      expect(text).not.toContain('<!here>');
      expect(text).not.toContain('<@U0BOSS>');
      expect(text).toContain('&lt;!here&gt;');
    }
  });

  it('rebalance storm points at max.poll.interval.ms', () => {
    const text = findingText({ kind: 'rebalance-storm', rebalances: 3, windowMs: 600_000 });
    expect(text).toContain('Rebalance storm: 3 rebalances in 10 min.');
    expect(text).toContain('max.poll.interval.ms');
  });

  it('scaling: idle members and under-scaled groups', () => {
    expect(findingText({ kind: 'idle-members', idle: 1, members: 4, partitions: 3 })).toMatch(/^1 of 4 members have no partitions \(3 assigned in all\)/);
    expect(findingText({ kind: 'under-scaled', members: 1, partitions: 3 })).toBe('1 consumer for 3 partitions: scaling to 3 consumers gives each partition its own.');
  });

  it('stopped, retention loss, unowned and uncommitted partitions', () => {
    expect(findingText({ kind: 'stopped', totalLag: 10, partitions: 1 })).toContain('No active members: nothing is consuming');
    expect(findingText({ kind: 'retention-loss', partitions: [{ topic: 't', partition: 2 }], lost: 76_989 })).toContain('Retention deleted 76,989 messages this group never read on t-2');
    expect(findingText({ kind: 'unowned-partitions', partitions: [{ topic: 't', partition: 2 }] })).toContain('1 partition has committed offsets but no owner: t-2');
    expect(findingText({ kind: 'no-committed-offset', partitions: [{ topic: 't', partition: 0 }], share: false })).toContain('No committed offset yet on t-0');
    expect(findingText({ kind: 'no-committed-offset', partitions: [{ topic: 't', partition: 0 }], share: true })).toContain('No start offset yet on t-0: the share group has not read them');
  });

  it('says which Kafka a share group\'s lag needs when the broker does not count it', () => {
    expect(findingText({ kind: 'share-lag-not-reported', partitions: [{ topic: 't', partition: 1 }] })).toBe(
      'The broker does not count share-group lag for t-1: that needs Kafka 4.2 or later; the start offsets are exact.',
    );
  });

  it('escapes Kafka names for Slack once, so a topic cannot mention anyone', () => {
    const text = slackText((s) => findingText({ kind: 'topic-deleted', topics: ['<!channel> & co'] }, s));
    expect(text).toContain('Topic `&lt;!channel&gt; &amp; co` no longer exists');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('&amp;lt;');
  });

  describe('KIP-848 reconciliation', () => {
    const two = { memberId: 'Kq2ZyXwVuTsRqPoNmLkJiH', clientId: 'orders-2', host: '10.0.2.12' };
    const three = { memberId: 'Lp3MnBvCxZaSdFgHjKlQwE', clientId: 'orders-3', host: '10.0.2.13' };
    const f: Finding = {
      kind: 'reconciling',
      moving: [
        { topic: 'orders', partition: 3, lag: 90_000, from: two, to: three },
        { topic: 'orders', partition: 5, lag: null, from: null, to: two },
        { topic: 'audit', partition: 0, lag: 7, from: three, to: null },
      ],
      membersBehind: 2,
      members: 3,
      assignmentEpoch: 12,
    };

    it('says who has each moving partition now and who will, led by client id and host', () => {
      expect(findingText(f)).toBe(
        '2 of 3 members have not reached target assignment epoch 12 (KIP-848): 3 partitions are moving: ' +
          'orders-3 (lag 90,000) from orders-2 on 10.0.2.12 to orders-3 on 10.0.2.13; orders-5 from no member to orders-2 on 10.0.2.12; ' +
          'audit-0 (lag 7) from orders-3 on 10.0.2.13 to no member. A partition is not consumed between its release and its new owner taking it.',
      );
    });

    it('names the member ids when both sides have the same client id and host', () => {
      const twin = { ...two, memberId: 'Zz9YyXxWwVvUuTtSsRrQqP' };
      const text = findingText({ ...f, moving: [{ topic: 'orders', partition: 3, lag: 1, from: two, to: twin }], membersBehind: 1 });
      expect(text).toContain('from orders-2 on 10.0.2.12 (member Kq2ZyXwVuTsRqPoNmLkJiH) to orders-2 on 10.0.2.12 (member Zz9YyXxWwVvUuTtSsRrQqP)');
      expect(text).toMatch(/^1 of 3 members has not reached/);
    });

    it('shows five moves and counts the rest', () => {
      const moving = Array.from({ length: 8 }, (_, partition) => ({ topic: 'orders', partition, lag: 8 - partition, from: two, to: three }));
      const text = findingText({ ...f, moving, assignmentEpoch: null });
      expect(text).toContain('not reached their target assignment (KIP-848): 8 partitions are moving:');
      expect(text).toContain('orders-4 (lag 4)');
      expect(text).not.toContain('orders-5 (lag 3)');
      expect(text).toContain('; and 3 more.');
    });

    it('escapes member ids, client ids and hosts for Slack', () => {
      const evil = { memberId: '<!channel>', clientId: '<@U1>', host: '<http://x|y>' };
      const text = slackText((s) => findingText({ ...f, moving: [{ topic: 'orders', partition: 3, lag: 1, from: evil, to: { ...evil, memberId: '<!here>' } }] }, s));
      expect(text).not.toMatch(/<!channel>|<!here>|<@U1>|<http/);
      expect(text).toContain('`&lt;@U1&gt;` on `&lt;http://x|y&gt;` (member `&lt;!channel&gt;`)');
    });

    it('a KIP-848 rebalance says only the moving partitions pause; a classic one that consumption pauses', () => {
      expect(findingText({ kind: 'rebalancing', state: 'Reconciling' })).toBe(
        'The group is rebalancing (Reconciling, KIP-848): members are moving to a new target assignment. Only the partitions that move pause; the others are consumed throughout.',
      );
      expect(findingText({ kind: 'rebalancing', state: 'Assigning' })).toContain('(Assigning, KIP-848)');
      expect(findingText({ kind: 'rebalancing', state: 'PreparingRebalance' })).toContain('consumption is paused');
    });
  });

  it('members not visible: why, by group type', () => {
    expect(findingText({ kind: 'members-not-visible', protocol: 'consumer' })).toContain('ConsumerGroupDescribe (Kafka 3.8+)');
    expect(findingText({ kind: 'members-not-visible', protocol: 'other' })).toContain('lagbot does not describe groups of this type');
    expect(findingText({ kind: 'members-not-visible', protocol: 'other' })).not.toContain('KIP-848');
  });

  it('has an icon for every kind in the catalogue', () => {
    for (const kind of FINDING_KINDS) expect(FINDING_ICONS[kind]).toMatch(/^:[a-z_]+:$/);
  });
});
