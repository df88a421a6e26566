import { describe, expect, it } from 'vitest';
import { completeTotal, computeGroupLag } from '../../src/core/lag.js';
import { findingsOfRead } from '../support/findings.js';
import { describedShareSnapshot, kip848Offsets } from './kip848-fixture.js';

describe('share-group lag', () => {
  it('is the broker\'s count, not the log end minus the start offset', () => {
    const lag = computeGroupLag(describedShareSnapshot(), kip848Offsets(), 0);
    const row = lag.partitions.find((p) => p.partition === 0);
    expect(row?.committedOffset).toBe(1_000);
    expect(row?.lag).toBe(6);
    // The fixture's log end is far past the start offset: the broker's count is not that difference.
    expect((row?.logEndOffset ?? 0) - 1_000).not.toBe(6);
    expect(row?.flags).toEqual([]);
    expect(findingsOfRead(lag).map((f) => f.kind)).not.toContain('share-lag-not-reported');
  });

  it('is unknown, flagged and said with the Kafka version it needs when the broker does not count it', () => {
    const snapshot = describedShareSnapshot();
    snapshot.committed = snapshot.committed.map((c) => ({ ...c, reportedLag: null }));
    const lag = computeGroupLag(snapshot, kip848Offsets(), 0);
    expect(lag.partitions.map((p) => [p.partition, p.committedOffset, p.lag, p.flags])).toEqual([
      [0, 1_000, null, ['lag-not-reported']],
      [1, 1_000, null, ['lag-not-reported']],
    ]);
    expect(lag.totalLag).toBeNull();
    expect(completeTotal(lag)).toBeNull();
    expect(findingsOfRead(lag).find((f) => f.kind === 'share-lag-not-reported')).toEqual({
      kind: 'share-lag-not-reported',
      partitions: [
        { topic: 'orders', partition: 0 },
        { topic: 'orders', partition: 1 },
      ],
    });
  });

  it('a share-partition never read has no start offset: unknown lag, said as such', () => {
    const snapshot = describedShareSnapshot();
    snapshot.committed = [{ topic: 'orders', partition: 0, offset: null, reportedLag: null }];
    const lag = computeGroupLag(snapshot, kip848Offsets(), 0);
    expect(lag.partitions.find((p) => p.partition === 0)?.flags).toEqual(['no-committed-offset']);
    expect(findingsOfRead(lag).find((f) => f.kind === 'no-committed-offset')).toMatchObject({ share: true });
  });
});
