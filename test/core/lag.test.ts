import { describe, expect, it } from 'vitest';
import { completeTotal, computeGroupLag, listingOf, partitionLag, sortListings } from '../../src/core/lag.js';
import type { TopicOffsets } from '../../src/core/protocol.js';
import { caseStudyOffsets, caseStudySnapshot } from '../support/fixtures.js';

describe('partitionLag', () => {
  it('is log-end minus committed, as kafka-consumer-groups computes it', () => {
    expect(partitionLag({ committedOffset: 8_100_442, logEndOffset: 12_543_210, logStartOffset: 0 })).toEqual({
      lag: 4_442_768,
      belowLogStart: false,
    });
  });

  it('is unknown without a committed offset: never 0, never the whole log', () => {
    expect(partitionLag({ committedOffset: null, logEndOffset: 500, logStartOffset: 0 }).lag).toBeNull();
  });

  it('is unknown when the log end is unknown', () => {
    expect(partitionLag({ committedOffset: 10, logEndOffset: null, logStartOffset: null }).lag).toBeNull();
  });

  it('counts only what retention left when the committed offset is below the log start', () => {
    expect(partitionLag({ committedOffset: 100, logEndOffset: 1_000, logStartOffset: 400 })).toEqual({
      lag: 600,
      belowLogStart: true,
    });
  });

  it('is zero, not negative, when the commit is past the last stable offset', () => {
    expect(partitionLag({ committedOffset: 120, logEndOffset: 100, logStartOffset: 0 }).lag).toBe(0);
  });
});

describe('computeGroupLag', () => {
  it('reproduces the case study baseline, hot partition first, with its owner', () => {
    const lag = computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), 1_000);
    expect(lag.partitions.map((p) => [p.partition, p.lag, p.memberId, p.host])).toEqual([
      [1, 4_442_768, 'consumer-2-def456', '10.0.1.15'],
      [0, 488_333, 'consumer-1-abc123', '10.0.1.14'],
      [2, 164_432, 'consumer-3-ghi789', '10.0.1.16'],
    ]);
    expect(lag.totalLag).toBe(4_442_768 + 488_333 + 164_432);
    expect(lag.topics).toEqual([{ topic: 'user-events', lag: lag.totalLag, partitions: 3, unknownLagPartitions: 0 }]);
    expect(lag.readAt).toBe(1_000);
  });

  it('keeps offsets and lag of a group with no members, owners empty', () => {
    const lag = computeGroupLag(caseStudySnapshot({ state: 'Empty', members: [] }), caseStudyOffsets(), 0);
    expect(lag.totalLag).toBe(5_095_533);
    expect(lag.partitions.every((p) => p.memberId === null && p.host === null && p.clientId === null)).toBe(true);
  });

  it('lists assigned partitions without a commit as unknown lag, after the known ones', () => {
    const snapshot = caseStudySnapshot({ committed: [{ topic: 'user-events', partition: 0, offset: 8_901_000 }] });
    const lag = computeGroupLag(snapshot, caseStudyOffsets(), 0);
    expect(lag.partitions.map((p) => [p.partition, p.lag])).toEqual([
      [0, 234],
      [1, null],
      [2, null],
    ]);
    expect(lag.partitions[1]?.flags).toContain('no-committed-offset');
    expect(lag.totalLag).toBe(234);
    expect(lag.topics[0]?.unknownLagPartitions).toBe(2);
  });

  it('gives a partition committed twice one row, with the later offset and its owner', () => {
    const snapshot = caseStudySnapshot({
      committed: [...caseStudySnapshot().committed, { topic: 'user-events', partition: 1, offset: 12_543_000 }],
    });
    const lag = computeGroupLag(snapshot, caseStudyOffsets(), 0);
    expect(lag.partitions.map((p) => [p.partition, p.committedOffset, p.lag, p.memberId])).toEqual([
      [0, 8_412_901, 488_333, 'consumer-1-abc123'],
      [2, 9_023_011, 164_432, 'consumer-3-ghi789'],
      [1, 12_543_000, 210, 'consumer-2-def456'],
    ]);
  });

  it('has null total lag when nothing is known', () => {
    const snapshot = caseStudySnapshot({ committed: [] });
    expect(computeGroupLag(snapshot, caseStudyOffsets(), 0).totalLag).toBeNull();
  });

  it('flags offsets on a deleted topic and leaves their lag unknown', () => {
    const offsets = caseStudyOffsets();
    offsets.set('gone', { topic: 'gone', exists: false } satisfies TopicOffsets);
    const snapshot = caseStudySnapshot({
      committed: [...caseStudySnapshot().committed, { topic: 'gone', partition: 0, offset: 42 }],
    });
    const row = computeGroupLag(snapshot, offsets, 0).partitions.find((p) => p.topic === 'gone');
    expect(row).toMatchObject({ committedOffset: 42, logEndOffset: null, lag: null, flags: ['topic-deleted'] });
  });

  it('sorts groups by total lag, unknown last, ties by name', () => {
    const base = computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), 0);
    const listings = [
      { ...listingOf(base), group: 'b', totalLag: 5 },
      { ...listingOf(base), group: 'z', totalLag: null },
      { ...listingOf(base), group: 'a', totalLag: 5 },
      { ...listingOf(base), group: 'c', totalLag: 900 },
    ];
    expect(sortListings(listings).map((l) => l.group)).toEqual(['c', 'a', 'b', 'z']);
  });
});

describe('a partition whose leader cannot be asked (a broker down)', () => {
  const withoutPartition1 = (): Map<string, TopicOffsets> => {
    const offsets = caseStudyOffsets();
    const topic = offsets.get('user-events');
    if (!topic?.exists) throw new Error('the case study topic exists');
    return new Map([['user-events', { ...topic, partitions: topic.partitions.filter((p) => p.partition !== 1) }]]);
  };

  it('is unknown, flagged as such, and leaves the total incomplete for the rules', async () => {
    const lag = computeGroupLag(caseStudySnapshot(), withoutPartition1(), 0);
    const p1 = lag.partitions.find((p) => p.partition === 1)!;
    expect(p1).toMatchObject({ committedOffset: 8_100_442, logEndOffset: null, lag: null, flags: ['log-end-unknown'] });
    expect(lag.totalLag).toBe(488_333 + 164_432);
    expect(completeTotal(lag)).toBeNull();
    expect(completeTotal(computeGroupLag(caseStudySnapshot(), caseStudyOffsets(), 0))).toBe(5_095_533);
    const { findingsOf } = await import('../../src/core/findings.js');
    const { DEFAULT_RULES } = await import('../../src/core/rules.js');
    const { findingText } = await import('../../src/views/finding-text.js');
    const unknown = findingsOf({ lag, history: [], settings: DEFAULT_RULES.signals }).find((f) => f.kind === 'log-end-unknown')!;
    const { listingRow } = await import('../../src/views/table.js');
    const { groupJson } = await import('../../src/views/json.js');
    expect(listingOf(lag)).toMatchObject({ totalLag: 652_765, totalComplete: false });
    expect(listingRow(listingOf(lag))[4]).toBe('≥ 652,765');
    expect(groupJson(lag).totalLag).toBeNull();
    expect(findingText(unknown)).toBe(
      'The log end of user-events-1 cannot be read right now (its leader is down or moving): lag there is unknown, so the total of 652,765 counts only the other partitions. lagbot neither opens nor resolves incidents on such a read.',
    );
  });
});
