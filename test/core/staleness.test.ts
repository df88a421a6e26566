import { describe, expect, it } from 'vitest';
import { sampleOf, type GroupSample } from '../../src/core/history.js';
import type { GroupLag } from '../../src/core/protocol.js';
import { DEFAULT_STALENESS, estimateStaleness, groupStaleness, partitionStaleness } from '../../src/core/staleness.js';

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);

function read(at: number, rows: ReadonlyArray<readonly [partition: number, committed: number | null, logEnd: number | null]>): GroupLag {
  return {
    cluster: 'default',
    group: 'g',
    state: 'Stable',
    protocol: 'classic',
    protocolType: 'consumer',
    assignmentStrategy: null,
    membersVisible: true,
    members: [],
    partitions: rows.map(([partition, committed, logEnd]) => ({
      topic: 'events',
      partition,
      committedOffset: committed,
      logEndOffset: logEnd,
      logStartOffset: 0,
      lag: committed !== null && logEnd !== null ? Math.max(0, logEnd - committed) : null,
      memberId: null,
      clientId: null,
      host: null,
      flags: [],
    })),
    topics: [],
    totalLag: null,
    readAt: at,
  };
}

/** A history of one partition: log end and committed offset every 30 s. */
function historyOf(points: ReadonlyArray<readonly [logEnd: number, committed: number]>): GroupSample[] {
  const samples: GroupSample[] = [];
  points.forEach(([logEnd, committed], i) => samples.push(sampleOf(read(T0 + i * 30_000, [[0, committed, logEnd]]), samples.at(-1))));
  return samples;
}

const partition = (committed: number | null, logEnd: number | null) => ({
  topic: 'events',
  partition: 0,
  committedOffset: committed,
  logEndOffset: logEnd,
  lag: committed !== null && logEnd !== null ? Math.max(0, logEnd - committed) : null,
});

describe('lag in seconds', () => {
  // 100 messages a second: the log end at 0, 3,000, 6,000, ... every 30 s.
  const steady = historyOf(Array.from({ length: 11 }, (_, i) => [i * 3_000, 0] as const));
  const now = T0 + 10 * 30_000;

  it('interpolates when the log end passed the committed offset', () => {
    // Offset 15,000 arrived 150 s after T0 (log end 15,001 at 150.01 s), read 300 s after T0.
    const s = partitionStaleness(partition(15_000, 30_000), now, steady, DEFAULT_STALENESS);
    expect(s.method).toBe('estimated');
    expect(s.seconds).toBeCloseTo(150, 0);
    // Between two readings: 4,500 arrived halfway between 30 s and 60 s.
    expect(partitionStaleness(partition(4_500, 30_000), now, steady, DEFAULT_STALENESS).seconds).toBeCloseTo(255, 0);
  });

  it('ignores readings at or after the read time (the monitor already holds this read)', () => {
    const withThis = [...steady, ...historyOf([[30_000, 0]]).map(() => steady.at(-1) as GroupSample)];
    expect(partitionStaleness(partition(15_000, 30_000), now, withThis, DEFAULT_STALENESS)).toEqual(partitionStaleness(partition(15_000, 30_000), now, steady, DEFAULT_STALENESS));
  });

  it('caught up is 0 s; unknown offsets are unknown', () => {
    expect(partitionStaleness(partition(30_000, 30_000), now, steady, DEFAULT_STALENESS)).toEqual({ seconds: 0, method: 'estimated', idle: false });
    expect(partitionStaleness(partition(null, 30_000), now, steady, DEFAULT_STALENESS)).toEqual({ seconds: null, method: null, idle: false });
    expect(partitionStaleness(partition(10, null), now, steady, DEFAULT_STALENESS).seconds).toBeNull();
  });

  it('an idle topic is 0 s stale whatever the offsets say', () => {
    // Nothing produced for 5 minutes, 40 messages never consumed (a transaction marker, a dead consumer on a quiet topic).
    const idle = historyOf(Array.from({ length: 11 }, () => [5_000, 4_960] as const));
    expect(partitionStaleness(partition(4_960, 5_000), now, idle, DEFAULT_STALENESS)).toEqual({ seconds: 0, method: 'estimated', idle: true });
    // Not idle yet when the stillness is shorter than the idle window: the last produce 2 min ago.
    const recent = historyOf([...Array.from({ length: 7 }, (_, i) => [i * 100, 0] as const), ...Array.from({ length: 4 }, () => [700, 600] as const)]);
    const s = partitionStaleness(partition(600, 700), now, recent, DEFAULT_STALENESS);
    expect(s.idle).toBe(false);
    // 600 arrived between the readings at 150 s (500) and 180 s (600 → 601 at ~180.3 s).
    expect(s.seconds).toBeCloseTo(300 - 180.3, 0);
  });

  it('extrapolates beyond the history from the broker\'s log-start timestamp', () => {
    // The log start's record (offset 0) was written 30 minutes before the history begins.
    const late = historyOf(Array.from({ length: 11 }, (_, i) => [180_000 + i * 3_000, 0] as const));
    const logStart = { offset: 0, timestamp: T0 - 30 * 60_000 };
    const s = partitionStaleness(partition(90_000, 210_000), now, late, DEFAULT_STALENESS, { logStart });
    expect(s.method).toBe('extrapolated');
    // Halfway from the log start (T0 - 1,800 s) to the oldest reading (T0): T0 - 900 s, read at T0 + 300 s.
    expect(s.seconds).toBeCloseTo(1_200, -1);
  });

  it('extrapolates from the produce rate when the broker gave no timestamp, and says so', () => {
    const late = historyOf(Array.from({ length: 11 }, (_, i) => [180_000 + i * 3_000, 0] as const));
    const s = partitionStaleness(partition(90_000, 210_000), now, late, DEFAULT_STALENESS);
    expect(s.method).toBe('extrapolated');
    // 100/s: 90,000 messages before the oldest reading is 900 s before T0.
    expect(s.seconds).toBeCloseTo(1_200, -1);
  });

  it('with no history at all, only the broker can tell', () => {
    const logStart = { offset: 0, timestamp: now - 1_000_000 };
    expect(partitionStaleness(partition(500, 1_000), now, [], DEFAULT_STALENESS, { logStart })).toMatchObject({ method: 'extrapolated' });
    expect(partitionStaleness(partition(500, 1_000), now, [], DEFAULT_STALENESS)).toEqual({ seconds: null, method: null, idle: false });
  });

  it('the record\'s own timestamp is exact and wins over the estimate', () => {
    const s = partitionStaleness(partition(15_000, 30_000), now, steady, DEFAULT_STALENESS, { exactTimestamp: now - 45_000 });
    expect(s).toEqual({ seconds: 45, method: 'exact', idle: false });
    // A record timestamp from the future (a producer's skewed clock) is not negative staleness.
    expect(partitionStaleness(partition(15_000, 30_000), now, steady, DEFAULT_STALENESS, { exactTimestamp: now + 5_000 }).seconds).toBe(0);
  });

  it('a group is as stale as its stalest partition, and says how that one was found', () => {
    expect(groupStaleness([{ lag: 10, lagSeconds: 3, lagSecondsMethod: 'estimated' }, { lag: 900, lagSeconds: 45, lagSecondsMethod: 'exact' }, { lag: 5, lagSeconds: null, lagSecondsMethod: null }])).toEqual({ seconds: 45, method: 'exact' });
    expect(groupStaleness([{ lag: 5, lagSeconds: null, lagSecondsMethod: null }])).toEqual({ seconds: null, method: null });
  });

  it('is unknown, not 0 s, when only caught-up partitions have a figure', () => {
    const behind = { lag: 1_200, lagSeconds: null, lagSecondsMethod: null };
    const caughtUp = { lag: 0, lagSeconds: 0, lagSecondsMethod: 'estimated' as const };
    expect(groupStaleness([behind, caughtUp])).toEqual({ seconds: null, method: null });
    expect(groupStaleness([caughtUp])).toEqual({ seconds: 0, method: 'estimated' });
    expect(groupStaleness([behind, caughtUp, { lag: 50, lagSeconds: 12, lagSecondsMethod: 'extrapolated' }])).toEqual({ seconds: 12, method: 'extrapolated' });
  });

  it('writes seconds onto a read and returns the idle partitions that still have lag', () => {
    const samples: GroupSample[] = [];
    for (let i = 0; i <= 10; i += 1) samples.push(sampleOf(read(T0 + i * 30_000, [[0, i * 2_000, i * 3_000], [1, 40, 50]]), samples.at(-1)));
    const lag = read(now + 30_000, [[0, 22_000, 33_000], [1, 40, 50]]);
    const idle = estimateStaleness(lag, samples, DEFAULT_STALENESS);
    const p0 = lag.partitions.find((p) => p.partition === 0);
    expect(p0?.lagSecondsMethod).toBe('estimated');
    // 22,000 arrived at ~220 s; read at 330 s.
    expect(p0?.lagSeconds).toBeCloseTo(110, 0);
    expect(lag.partitions.find((p) => p.partition === 1)?.lagSeconds).toBe(0);
    expect([...idle].map((p) => p.partition)).toEqual([1]);
    expect(lag.lagSeconds).toBe(p0?.lagSeconds);
    expect(lag.lagSecondsMethod).toBe('estimated');
  });
});
