import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import { computeGroupLag, listingOf } from '../../src/core/lag.js';
import type { GroupMember, GroupSnapshot, TopicOffsets } from '../../src/core/protocol.js';
import { LIMITS } from '../../src/views/blocks.js';
import {
  groupAcrossClustersMessage,
  groupLagMessage,
  groupListMessage,
  groupMembersMessage,
  unknownGroupMessage,
  usageErrorMessage,
  type SlackMessage,
} from '../../src/views/lag-message.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';
import { describedShareSnapshot, kip848Offsets, kip848Snapshot, shareSnapshot } from './kip848-fixture.js';
import { findingsOfRead } from '../support/findings.js';
import type { GroupLag } from '../../src/core/protocol.js';

const read = (lag: GroupLag): [GroupLag, ReturnType<typeof findingsOfRead>] => [lag, findingsOfRead(lag)];

/** Every string Slack will parse in a message, to check limits and escaping. */
function texts(message: SlackMessage): string[] {
  const out = [message.text];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(message.blocks);
  return out;
}

function assertWithinLimits(message: SlackMessage): void {
  expect(message.text.length).toBeGreaterThan(0);
  expect(message.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
  for (const block of message.blocks as Array<KnownBlock & { text?: { text: string }; fields?: unknown[] }>) {
    if (block.type === 'header') expect(block.text?.text.length).toBeLessThanOrEqual(LIMITS.headerText);
    if (block.type === 'section') {
      if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      expect(block.fields?.length ?? 0).toBeLessThanOrEqual(LIMITS.fieldsPerSection);
    }
  }
}

function bigGroup(partitions: number): { snapshot: GroupSnapshot; offsets: Map<string, TopicOffsets> } {
  const members: GroupMember[] = Array.from({ length: 50 }, (_, m) => ({
    memberId: `consumer-${m}-${'x'.repeat(36)}`,
    clientId: `consumer-${m}`,
    host: `10.0.${m}.1`,
    assignment: [{ topic: 'clicks', partitions: Array.from({ length: partitions / 50 }, (_, i) => m * (partitions / 50) + i) }],
  }));
  const snapshot = caseStudySnapshot({
    members,
    committed: Array.from({ length: partitions }, (_, p) => ({ topic: 'clicks', partition: p, offset: 1_000 })),
  });
  const offsets = new Map<string, TopicOffsets>([
    ['clicks', { topic: 'clicks', exists: true, partitions: Array.from({ length: partitions }, (_, p) => ({ partition: p, logEndOffset: 1_000 + p * 7, logStartOffset: 0 })) }],
  ]);
  return { snapshot, offsets };
}

describe('fallback text', () => {
  it('shows a group name as a code span, so its formatting characters stay characters', () => {
    const lag = computeGroupLag(caseStudySnapshot({ group: '*bold*_x_' }), caseStudyOffsets(), 0);
    for (const message of [groupLagMessage(...read(lag)), groupMembersMessage(...read(lag))]) {
      expect(message.text.startsWith('`*bold*_x_`:')).toBe(true);
      expect(message.text.replace(/`[^`]*`/g, '')).not.toMatch(/[*_~]/);
    }
  });
});

describe('groupLagMessage', () => {
  const message = groupLagMessage(...read(computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), Date.UTC(2024, 6, 23, 3, 31))), {
    commandText: 'user-events-consumer',
  });
  const all = texts(message).join('\n');

  it('leads with the hot partition, its lag and owner', () => {
    expect(message.text).toContain('total lag 5,095,533 over 3 partitions');
    expect(all).toContain(':fire: Hot partition `user-events-1` holds 87% of the lag');
    const table = all.slice(all.indexOf('Lag by partition'));
    expect(table.indexOf('user-events-1')).toBeLessThan(table.indexOf('user-events-0'));
    expect(table).toMatch(/user-events-1\s+4,442,768\s+-\s+8,100,442\s+12,543,210\s+consumer-2 @ 10\.0\.1\.15/);
  });

  it('shows state, members and read time', () => {
    expect(all).toContain('*State*\nStable');
    expect(all).toContain('*Members*\n3');
    expect(all).toContain('2024-07-23 03:31:00 UTC');
  });

  it('offers a post-to-channel button that carries the command', () => {
    const actions = message.blocks.find((b) => b.type === 'actions');
    expect(actions).toMatchObject({ elements: [{ action_id: ActionIds.postLagToChannel, value: 'user-events-consumer' }] });
  });

  it('has no button once shared, and credits who shared it', () => {
    const shared = groupLagMessage(...read(computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), 0)), { sharedBy: 'U024BE7LH' });
    expect(shared.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(texts(shared).join('\n')).toContain('Shared by <@U024BE7LH>');
  });

  it('stays inside Block Kit limits at 1,000 partitions and says how many rows it left out', () => {
    const { snapshot, offsets } = bigGroup(1_000);
    const big = groupLagMessage(...read(computeGroupLag(snapshot, offsets, 0)));
    assertWithinLimits(big);
    const joined = texts(big).join('\n');
    expect(joined).toMatch(/\d+ more partitions not shown \(the totals include them\)/);
    const shownRows = (joined.match(/clicks-\d+ /g) ?? []).length;
    const omitted = Number(/(\d+) more partitions not shown/.exec(joined)?.[1]);
    expect(shownRows + omitted).toBe(1_000);
    expect(joined).toContain('clicks-999 '); // largest lag first
  });

  it('sizes the partition columns to the rows it shows, not to partitions far down the list', () => {
    const { snapshot, offsets } = bigGroup(1_000);
    // Partition 0 has the smallest lag (not shown) and offsets of 16 digits.
    const huge = 1_234_567_890_123_456;
    const committed = snapshot.committed.map((c) => (c.partition === 0 ? { ...c, offset: huge } : c));
    const topic = offsets.get('clicks') as Extract<TopicOffsets, { exists: true }>;
    const wide = new Map([['clicks', { ...topic, partitions: topic.partitions.map((p) => (p.partition === 0 ? { ...p, logEndOffset: huge } : p)) }]]);
    const joined = texts(groupLagMessage(...read(computeGroupLag({ ...snapshot, committed }, wide, 0)))).join('\n');
    expect(joined).not.toContain('1,234,567,890,123,456');
    const head = joined.split('\n').find((l) => l.startsWith('PARTITION')) as string;
    // LOG-END's cells are 5 characters wide (`7,993`): no 21-character column is left for partition 0.
    expect(head).toMatch(/COMMITTED {2}LOG-END {2}OWNER/);
  });

  it('escapes Kafka-derived text so a group named <!channel> pings no one', () => {
    const evil = caseStudySnapshot({
      group: '<!channel> & <@U1>',
      members: [{ memberId: '<!here>', clientId: '<!everyone>', host: '<http://x|y>', assignment: [{ topic: 'user-events', partitions: [1] }] }],
    });
    const escaped = texts(groupLagMessage(...read(computeGroupLag(evil, caseStudyOffsets(), 0)), { commandText: 'x' })).join('\n');
    expect(escaped).not.toMatch(/<!channel>|<!here>|<!everyone>|<@U1>|<http/);
    expect(escaped).toContain('&lt;!channel&gt; &amp; &lt;@U1&gt;');
    expect(escaped).toContain('&lt;!here&gt;');
  });
});

describe('other /lag views', () => {
  it('escapes user input echoed in a usage error', () => {
    const message = usageErrorMessage('Unknown view "<!here>" for group "<!channel>"');
    expect(texts(message).join('\n')).not.toMatch(/<!here>|<!channel>/);
  });

  it('lists groups largest lag first within limits', () => {
    const lag = computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), 0);
    const listings = Array.from({ length: 300 }, (_, i) => ({ ...listingOf(lag), group: `group-${i}`, totalLag: 300 - i }));
    const message = groupListMessage([{ cluster: 'default', groups: [], listings }], [], 0);
    assertWithinLimits(message);
    const joined = texts(message).join('\n');
    expect(joined.indexOf('group-0 ')).toBeLessThan(joined.indexOf('group-1 '));
    expect(joined).toMatch(/\d+ more groups not shown/);
  });

  it('shows members with assignments in --members --verbose form', () => {
    const message = groupMembersMessage(...read(computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), 0)));
    expect(texts(message).join('\n')).toMatch(/consumer-2-def456\s+10\.0\.1\.15\s+consumer-2\s+1\s+user-events\(1\)/);
  });

  it('says members of a KIP-848 group are not visible where the broker could not describe them', () => {
    const lag = computeGroupLag(caseStudySnapshot({ protocol: 'consumer', members: [], membersVisible: false, state: 'Unknown' }), caseStudyOffsets(), 0);
    const joined = texts(groupMembersMessage(...read(lag))).join('\n');
    expect(joined).toContain('*Members*\nnot visible');
    expect(joined).toContain('Members not visible: reading them takes ConsumerGroupDescribe (Kafka 3.8+)');
  });

  it('shows the group type in the list', () => {
    const listing = (snapshot: GroupSnapshot) => listingOf(computeGroupLag(snapshot, kip848Offsets(), 0));
    const listings = [listing(kip848Snapshot()), listing(shareSnapshot()), listing(caseStudySnapshot({ group: 'classic-group' }))];
    const joined = texts(groupListMessage([{ cluster: 'default', groups: [], listings }], [], 0)).join('\n');
    expect(joined).toMatch(/GROUP\s+STATE\s+MEMBERS\s+PARTITIONS\s+TOTAL-LAG\s+TYPE/);
    expect(joined).toMatch(/orders-consumer\s+Reconciling\s+3\s+4\s+90,060\s+consumer\n/);
    expect(joined).toMatch(/orders-share\s+Unknown\s+\?\s+0\s+-\s+share\n/);
    expect(joined).toMatch(/classic-group\s+Stable\s+3\s+3\s+-\s+classic\n/);
  });

  it('suggests close names for an unknown group, escaped', () => {
    const message = unknownGroupMessage('user-event', ['user-events-consumer', '<!here>']);
    const joined = texts(message).join('\n');
    expect(joined).toContain('No such group `user-event`');
    expect(joined).toContain('`user-events-consumer`, `&lt;!here&gt;`');
  });
});

describe('KIP-848 groups, members visible', () => {
  const lag = computeGroupLag(kip848Snapshot(), kip848Offsets(), 0);

  for (const [view, build] of [['/lag GROUP', groupLagMessage], ['/lag GROUP members', groupMembersMessage]] as const) {
    describe(view, () => {
      const message = build(...read(lag));
      const all = texts(message).join('\n');

      it('shows state, type, assignor, epochs and the member count, not "not visible"', () => {
        expect(all).toContain('*State*\nReconciling');
        expect(all).toContain('*Type*\nconsumer (KIP-848)');
        expect(all).toContain('*Assignor*\nuniform');
        expect(all).toContain('*Epochs*\ngroup epoch 12, assignment epoch 12');
        expect(all).toContain('*Members*\n3');
        expect(all).not.toContain('not visible');
        assertWithinLimits(message);
      });

      it('lists members like classic ones, with their epoch and the target where it differs', () => {
        const table = all.slice(all.indexOf('*Members*\n```'));
        expect(table).toMatch(/CONSUMER-ID\s+HOST\s+CLIENT-ID\s+#PARTITIONS\s+EPOCH\s+ASSIGNMENT\s+TARGET-ASSIGNMENT/);
        expect(table).toMatch(/Jx1AbCdEfGhIjKlMnOpQrS\s+10\.0\.2\.11\s+orders-1\s+2\s+12\s+orders\(0,1\)\s+\(same\)/);
        expect(table).toMatch(/Kq2ZyXwVuTsRqPoNmLkJiH\s+10\.0\.2\.12\s+orders-2\s+2\s+11\s+orders\(2,3\)\s+orders\(2\)\n/);
        expect(table).toMatch(/Lp3MnBvCxZaSdFgHjKlQwE\s+10\.0\.2\.13\s+orders-3\s+0\s+12\s+-\s+orders\(3\)\n/);
      });

      it('says which partition is moving, from whom to whom', () => {
        expect(all).toContain(':point_right: 2 of 3 members have not reached target assignment epoch 12 (KIP-848)');
        expect(all).toContain('`orders-3` (lag 90,000) from `orders-2` on `10.0.2.12` to `orders-3` on `10.0.2.13`');
      });
    });
  }

  it('keeps the classic member table for classic groups', () => {
    const all = texts(groupMembersMessage(...read(computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), 0)))).join('\n');
    expect(all).not.toContain('EPOCH');
    expect(all).toContain('*Assignment strategy*\nrange');
    expect(all).toContain('*Type*\nclassic');
    expect(all).not.toContain('*Epochs*');
  });

  it('escapes Kafka-derived text: member ids, client ids, hosts, target assignments and the assignor', () => {
    const evil = kip848Snapshot({
      assignmentStrategy: '<!channel>',
      members: [
        {
          memberId: '<!here>',
          clientId: '<!everyone>',
          host: '<http://x|y>',
          assignment: [{ topic: 'orders', partitions: [3] }],
          memberEpoch: 11,
          targetAssignment: [{ topic: '<@U1>', partitions: [0] }],
        },
        { memberId: '<@U2>', clientId: 'a&b', host: 'h', assignment: [], memberEpoch: 12, targetAssignment: [{ topic: 'orders', partitions: [3] }] },
      ],
    });
    for (const build of [groupLagMessage, groupMembersMessage]) {
      const escaped = texts(build(...read(computeGroupLag(evil, kip848Offsets(), 0)))).join('\n');
      expect(escaped).not.toMatch(/<!channel>|<!here>|<!everyone>|<@U1>|<@U2>|<http/);
      expect(escaped).toContain('*Assignor*\n&lt;!channel&gt;');
      expect(escaped).toContain('&lt;@U1&gt;(0)');
      expect(escaped).toContain('`a&amp;b` on `h`');
    }
  });
});

describe('share and other groups', () => {
  const share = computeGroupLag(shareSnapshot(), new Map(), 0);

  it('a share group gets an honest line: no consumer lag because it commits no offsets, never dead or stopped', () => {
    for (const message of [groupLagMessage(...read(share)), groupMembersMessage(...read(share))]) {
      const all = texts(message).join('\n');
      expect(all).toContain('Share group (KIP-932): it consumes without committed offsets, so it has no consumer lag');
      expect(all).toContain('*Type*\nshare (KIP-932)');
      expect(all).toContain('*Total lag*\n- (no committed offsets)');
      expect(all).not.toMatch(/Dead|stopped|No active members|KIP-848/);
    }
    expect(groupLagMessage(...read(share)).text).toBe('`orders-share`: share group (KIP-932), no consumer lag: it commits no offsets');
    expect(texts(groupMembersMessage(...read(share))).join('\n')).toContain('lagbot does not read the members of share groups');
  });

  it('a share group described by its broker shows members with epochs, its assignor and lag, not the no-lag line', () => {
    const lag = computeGroupLag(describedShareSnapshot(), kip848Offsets(), 0);
    const all = texts(groupMembersMessage(...read(lag))).join('\n');
    expect(all).toContain('*Type*\nshare (KIP-932)');
    expect(all).toContain('*Assignor*\nsimple');
    expect(all).toContain('*Epochs*\ngroup epoch 4, assignment epoch 4');
    expect(all).toMatch(/CONSUMER-ID\s+HOST\s+CLIENT-ID\s+#PARTITIONS\s+EPOCH\s+ASSIGNMENT\n/);
    expect(all).toMatch(/Sh1AbCdEfGhIjKlMnOpQrS\s+10\.0\.3\.11\s+share-1\s+2\s+4\s+orders\(0,1\)\n/);
    expect(all).not.toContain('TARGET-ASSIGNMENT');
    expect(all).not.toContain('no consumer lag');
    expect(texts(groupLagMessage(...read(lag))).join('\n')).toContain('*Total lag*\n12');
  });

  it('a group found in several clusters: each line names a non-classic type, a share group says it has no lag', () => {
    const kip848 = computeGroupLag(kip848Snapshot({ cluster: 'prod-eu', group: 'orders' }), kip848Offsets(), 0);
    const shared = computeGroupLag(shareSnapshot({ cluster: 'prod-us', group: 'orders' }), new Map(), 0);
    const all = texts(groupAcrossClustersMessage([{ lag: kip848, findings: findingsOfRead(kip848) }, { lag: shared, findings: findingsOfRead(shared) }], [])).join('\n');
    expect(all).toContain('*prod-eu*: total lag 90,060 over 4 partitions (Reconciling, consumer (KIP-848), 3 members)');
    expect(all).toContain('*prod-us*: share group (KIP-932), no consumer lag: it commits no offsets');
    expect(all).not.toMatch(/Dead|stopped/);
  });

  it('a group of another type shows its lag and says why its members are not read', () => {
    const other = computeGroupLag(kip848Snapshot({ protocol: 'other', state: 'Unknown', membersVisible: false, members: [], assignmentStrategy: null, epochs: undefined }), kip848Offsets(), 0);
    const all = texts(groupLagMessage(...read(other))).join('\n');
    expect(all).toContain('*Type*\nother');
    expect(all).toContain('*Total lag*\n90,060');
    expect(all).toContain(':eyes: lagbot does not describe groups of this type');
    expect(all).not.toContain('KIP-848');
    expect(texts(groupMembersMessage(...read(other))).join('\n')).toContain('lagbot does not read the members of this group type');
  });
});

describe('the last hour as a sparkline', () => {
  const lag = computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), Date.UTC(2024, 6, 23, 3, 31));
  const point = (i: number, l: number) => ({ at: i * 30_000, lag: l, producePerSec: null, consumePerSec: null });

  it('shows the lag of the monitor history under the figures, scaled to its peak', () => {
    const message = groupLagMessage(...read(lag), { history: [0, 100, 400, 800].map((l, i) => point(i, l)) });
    expect(JSON.stringify(message.blocks)).toContain('Last hour `▁▂▅█` peak 800');
  });

  it('says nothing without at least two samples', () => {
    expect(JSON.stringify(groupLagMessage(...read(lag), { history: [point(0, 5)] }).blocks)).not.toContain('Last hour');
    expect(JSON.stringify(groupLagMessage(...read(lag)).blocks)).not.toContain('Last hour');
  });
});
