import { describe, expect, it } from 'vitest';
import { anchorAsks, askBrokerTimes, exactAsks, timesLookup } from '../../src/core/broker-times.js';
import { sampleOf } from '../../src/core/history.js';
import type { GroupLag } from '../../src/core/protocol.js';
import type { PartitionAnchors, PartitionOffset, PartitionRef, RecordTime, RecordTimeSource } from '../../src/core/record-time.js';
import { DEFAULT_STALENESS, estimateStaleness } from '../../src/core/staleness.js';

const NOW = Date.UTC(2026, 11, 2, 3, 14);

function lagOf(rows: ReadonlyArray<readonly [number, number | null, number]>, at = NOW): GroupLag {
  return {
    cluster: 'default',
    group: 'g',
    state: 'Stable',
    protocol: 'classic',
    protocolType: 'consumer',
    assignmentStrategy: null,
    membersVisible: true,
    members: [],
    partitions: rows
      .map(([partition, committed, logEnd]) => ({
        topic: 't',
        partition,
        committedOffset: committed,
        logEndOffset: logEnd,
        logStartOffset: 0,
        lag: committed === null ? null : logEnd - committed,
        memberId: null,
        clientId: null,
        host: null,
        flags: [],
      }))
      .sort((a, b) => (b.lag ?? -1) - (a.lag ?? -1)),
    topics: [],
    totalLag: null,
    readAt: at,
  };
}

function source(answers: { records?: (asks: readonly PartitionOffset[]) => Promise<RecordTime[]>; anchors?: (refs: readonly PartitionRef[]) => Promise<PartitionAnchors[]> }): RecordTimeSource {
  return {
    cluster: 'default',
    recordsAt: answers.records ?? (async (asks) => asks.map(() => ({ kind: 'none', reason: 'not-readable', detail: 'x' }))),
    anchors: answers.anchors ?? (async (refs) => refs.map((r) => ({ ...r, logStart: { kind: 'none', reason: 'empty', detail: '' }, newest: { kind: 'none', reason: 'empty', detail: '' } }))),
  };
}

describe('asking the broker about time', () => {
  it('asks exact times for the largest lags only, never for caught-up or uncommitted partitions', () => {
    const lag = lagOf([[0, 10, 500], [1, 490, 500], [2, 500, 500], [3, null, 500]]);
    expect(exactAsks(lag, 5)).toEqual([{ topic: 't', partition: 0, offset: 10 }, { topic: 't', partition: 1, offset: 490 }]);
    expect(exactAsks(lag, 1)).toEqual([{ topic: 't', partition: 0, offset: 10 }]);
  });

  it('asks anchors while the history is short, and later only where it does not reach', () => {
    const lag = lagOf([[0, 10, 500], [1, 490, 500]]);
    expect(anchorAsks(lag, [], DEFAULT_STALENESS).map((r) => r.partition)).toEqual([0, 1]);
    // Fifteen minutes of history with the log end from 400 to 500: offset 490 is inside it, 10 is not.
    const history = Array.from({ length: 31 }, (_, i) => sampleOf(lagOf([[0, 10, 400 + Math.round(i * 3.3)], [1, 300, 400 + Math.round(i * 3.3)]], NOW - (31 - i) * 30_000)));
    expect(anchorAsks(lag, history, DEFAULT_STALENESS).map((r) => r.partition)).toEqual([0]);
  });

  it('turns records, caught-up answers and anchors into staleness, flagging what was skipped', async () => {
    const lag = lagOf([[0, 10, 500], [1, 490, 500], [2, 100, 200]]);
    const times = await askBrokerTimes(
      source({
        records: async (asks) =>
          asks.map((a): RecordTime =>
            a.partition === 0
              ? { kind: 'record', offset: 12, timestamp: NOW - 45_000, timestampType: 'create', skipped: 'compacted' }
              : { kind: 'none', reason: 'at-log-end', detail: '' },
          ),
        anchors: async (refs) => refs.map((r) => ({ ...r, logStart: { kind: 'record', offset: 0, timestamp: NOW - 3_600_000 }, newest: { kind: 'record', offset: 199, timestamp: NOW - 20 * 60_000 } })),
      }),
      { exact: [{ topic: 't', partition: 0, offset: 10 }, { topic: 't', partition: 1, offset: 490 }], anchors: [{ topic: 't', partition: 2 }] },
      1_000,
      (e) => {
        throw e;
      },
    );
    estimateStaleness(lag, [], DEFAULT_STALENESS, timesLookup(times));
    const [p0, p1, p2] = [0, 1, 2].map((n) => lag.partitions.find((p) => p.partition === n));
    expect(p0).toMatchObject({ lagSeconds: 45, lagSecondsMethod: 'exact', lagSecondsSkipped: 'compacted' });
    // Only transaction markers before the log end: caught up, by the broker's word.
    expect(p1).toMatchObject({ lagSeconds: 0, lagSecondsMethod: 'exact' });
    // Its newest record is 20 minutes old: idle.
    expect(p2).toMatchObject({ lagSeconds: 0, lagSecondsMethod: 'estimated' });
  });

  it('goes on with estimates when the broker fails or is too slow, and says why', async () => {
    const errors: unknown[] = [];
    const failing = await askBrokerTimes(source({ records: async () => Promise.reject(new Error('leader down')) }), { exact: [{ topic: 't', partition: 0, offset: 1 }], anchors: [] }, 1_000, (e) => errors.push(e));
    expect(failing.size).toBe(0);
    expect(String(errors[0])).toContain('leader down');
    const started = Date.now();
    const slow = await askBrokerTimes(source({ records: () => new Promise(() => undefined) }), { exact: [{ topic: 't', partition: 0, offset: 1 }], anchors: [] }, 50, () => undefined);
    expect(slow.size).toBe(0);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
