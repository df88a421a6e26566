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
    expect(findingText({ kind: 'no-committed-offset', partitions: [{ topic: 't', partition: 0 }] })).toContain('No committed offset yet on t-0');
  });

  it('escapes Kafka names for Slack once, so a topic cannot mention anyone', () => {
    const text = slackText((s) => findingText({ kind: 'topic-deleted', topics: ['<!channel> & co'] }, s));
    expect(text).toContain('Topic `&lt;!channel&gt; &amp; co` no longer exists');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('&amp;lt;');
  });

  it('has an icon for every kind in the catalogue', () => {
    for (const kind of FINDING_KINDS) expect(FINDING_ICONS[kind]).toMatch(/^:[a-z_]+:$/);
  });
});
