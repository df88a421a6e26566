import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/core/action-ids.js';
import { computeGroupLag, listingOf } from '../../src/core/lag.js';
import type { GroupMember, GroupSnapshot, TopicOffsets } from '../../src/core/protocol.js';
import { LIMITS } from '../../src/views/blocks.js';
import {
  groupLagMessage,
  groupListMessage,
  groupMembersMessage,
  unknownGroupMessage,
  usageErrorMessage,
  type SlackMessage,
} from '../../src/views/lag-message.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';
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
    expect(table).toMatch(/user-events-1\s+4,442,768\s+8,100,442\s+12,543,210\s+consumer-2 @ 10\.0\.1\.15/);
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

  it('says members of a KIP-848 group are not visible', () => {
    const lag = computeGroupLag(caseStudySnapshot({ protocol: 'consumer', members: [], membersVisible: false, state: 'Unknown' }), caseStudyOffsets(), 0);
    expect(texts(groupMembersMessage(...read(lag))).join('\n')).toContain('not visible');
  });

  it('suggests close names for an unknown group, escaped', () => {
    const message = unknownGroupMessage('user-event', ['user-events-consumer', '<!here>']);
    const joined = texts(message).join('\n');
    expect(joined).toContain('No such group `user-event`');
    expect(joined).toContain('`user-events-consumer`, `&lt;!here&gt;`');
  });
});
