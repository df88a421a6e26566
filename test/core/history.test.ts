import { describe, expect, it } from 'vitest';
import { completeTotal } from '../../src/core/lag.js';
import {
  appendSample,
  appendSampleInPlace,
  logEndHolder,
  LogEnds,
  partitionKey,
  ratesOf,
  recordOf,
  rewindsIn,
  sampleFrom,
  sampleOf,
  stalledPartitions,
  stepRates,
  type GroupSample,
} from '../../src/core/history.js';
import type { GroupLag } from '../../src/core/protocol.js';

interface Row {
  topic: string;
  partition: number;
  committed: number | null;
  logEnd: number | null;
}

function lagAt(at: number, rows: readonly Row[], group = 'g'): GroupLag {
  return {
    cluster: 'default',
    group,
    state: 'Stable',
    protocol: 'classic',
    protocolType: 'consumer',
    assignmentStrategy: null,
    membersVisible: true,
    members: [],
    partitions: rows.map((r) => ({
      topic: r.topic,
      partition: r.partition,
      committedOffset: r.committed,
      logEndOffset: r.logEnd,
      logStartOffset: 0,
      lag: r.committed !== null && r.logEnd !== null ? r.logEnd - r.committed : null,
      memberId: null,
      clientId: null,
      host: null,
      flags: [],
    })),
    topics: [],
    totalLag: rows.reduce((sum, r) => sum + (r.committed !== null && r.logEnd !== null ? r.logEnd - r.committed : 0), 0),
    readAt: at,
  };
}

/** What a sample holds, as plain arrays (the representation history.ts used to store). */
function plainSample(lag: GroupLag): GroupSample {
  const ordered = [...lag.partitions].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  return {
    at: lag.readAt,
    afterGap: false,
    state: lag.state,
    memberIds: [],
    keys: ordered.map((p) => `${p.topic}\u0000${p.partition}`),
    committed: Float64Array.from(ordered, (p) => p.committedOffset ?? Number.NaN),
    logEnd: Float64Array.from(ordered, (p) => p.logEndOffset ?? Number.NaN),
    // A sample keeps the total only when every committed partition's log end is known.
    totalLag: completeTotal(lag),
  };
}

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Offsets that creep, jump past 16 and 32 bits, go unknown and come back, and partitions that come and go. */
function scriptedRows(seed: number, samples: number): Row[][] {
  const rnd = random(seed);
  let rows: Row[] = Array.from({ length: 6 }, (_, p) => ({ topic: p < 3 ? 'a' : 'b', partition: p % 3, committed: 1_000, logEnd: 2_000 }));
  const out: Row[][] = [];
  for (let s = 0; s < samples; s += 1) {
    const regime = rnd();
    rows = rows.map((r) => {
      const step = regime < 0.5 ? Math.floor(rnd() * 50) : regime < 0.8 ? Math.floor(rnd() * 200_000) : regime < 0.9 ? 2 ** 33 : 0;
      const stall = rnd() < 0.3;
      const logEnd = r.logEnd === null ? (rnd() < 0.5 ? 5_000 : null) : rnd() < 0.03 ? null : r.logEnd + step;
      const committed = r.committed === null ? (rnd() < 0.5 ? 4_000 : null) : stall ? r.committed : rnd() < 0.03 ? null : r.committed + Math.floor(step / 2);
      return { ...r, committed, logEnd };
    });
    if (rnd() < 0.05) rows = rows.slice(1);
    if (rnd() < 0.05) rows = [...rows, { topic: 'c', partition: s, committed: 10, logEnd: 20 }];
    out.push(rows);
  }
  return out;
}

const sameRows = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((k, i) => k === b[i]);

describe('compact history', () => {
  it('gives back every offset exactly, through 8-, 16- and 32-bit blocks, unknowns and key changes', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      let previous: GroupSample | undefined;
      scriptedRows(seed, 200).forEach((rows, s) => {
        const lag = lagAt(s * 30_000, rows);
        const sample = sampleOf(lag, previous);
        const plain = plainSample(lag);
        expect(sample.keys).toEqual(plain.keys);
        expect([...sample.committed]).toEqual([...plain.committed]);
        expect([...sample.logEnd]).toEqual([...plain.logEnd]);
        expect(sample.totalLag).toBe(plain.totalLag);
        previous = sample;
      });
    }
  });

  it('gives back creeping offsets exactly, in one-byte blocks and across their limit', () => {
    const rnd = random(7);
    let rows: Row[] = Array.from({ length: 5 }, (_, p) => ({ topic: 't', partition: p, committed: 2 ** 40 + p, logEnd: 2 ** 40 + 10 }));
    let previous: GroupSample | undefined;
    for (let s = 0; s < 400; s += 1) {
      // Mostly idle, sometimes a step of a few hundred (past 127 from the anchor), now and then unknown.
      rows = rows.map((r) => {
        const step = rnd() < 0.9 ? Math.floor(rnd() * 3) : 100 + Math.floor(rnd() * 300);
        return { ...r, committed: rnd() < 0.02 ? null : (r.committed ?? r.logEnd ?? 0) + (rnd() < 0.5 ? step : 0), logEnd: (r.logEnd ?? 0) + step };
      });
      const lag = lagAt(s * 30_000, rows);
      const sample = sampleOf(lag, previous);
      const plain = plainSample(lag);
      expect([...sample.committed]).toEqual([...plain.committed]);
      expect([...sample.logEnd]).toEqual([...plain.logEnd]);
      previous = sample;
    }
  });

  it('gives back a busy partition among many idle ones exactly, held aside, and sees its rewinds', () => {
    const rnd = random(9);
    let rows: Row[] = Array.from({ length: 40 }, (_, p) => ({ topic: 't', partition: p, committed: 1_000, logEnd: 2_000 }));
    let compact: GroupSample[] = [];
    let plain: GroupSample[] = [];
    for (let s = 0; s < 100; s += 1) {
      rows = rows.map((r, p) => {
        // Partition 0 moves by millions (now and then back), 1 now and then by a fraction: neither fits a narrow difference.
        if (p === 0) return { ...r, committed: (r.committed ?? 0) + (rnd() < 0.2 ? -3_000_000 : 5_000_000), logEnd: (r.logEnd ?? 0) + 9_000_000 };
        if (p === 1 && rnd() < 0.1) return { ...r, committed: (r.committed ?? 0) + 0.5 };
        return { ...r, committed: (r.committed ?? 0) + Math.floor(rnd() * 3), logEnd: (r.logEnd ?? 0) + Math.floor(rnd() * 3) };
      });
      const lag = lagAt(s * 30_000, rows);
      compact = appendSample(compact, sampleOf(lag, compact.at(-1)), 60 * 60_000);
      plain = appendSample(plain, plainSample(lag), 60 * 60_000);
      expect([...(compact.at(-1) as GroupSample).committed]).toEqual([...(plain.at(-1) as GroupSample).committed]);
      expect([...(compact.at(-1) as GroupSample).logEnd]).toEqual([...(plain.at(-1) as GroupSample).logEnd]);
      expect(rewindsIn(compact, 10 * 60_000)).toEqual(rewindsIn(plain, 10 * 60_000));
    }
    expect(rewindsIn(compact, 60 * 60_000).map((r) => r.key)).toEqual([partitionKey('t', 0)]);
  });

  it('works out the step rates of every step as plain offset arrays do, partitions coming and going included', () => {
    const steps = (history: readonly GroupSample[]) => {
      const r = stepRates(history);
      return { produce: [...r.producePerSec], consume: [...r.consumePerSec] };
    };
    let compact: GroupSample[] = [];
    let plain: GroupSample[] = [];
    scriptedRows(21, 200).forEach((rows, s) => {
      const lag = lagAt(s * 30_000, rows);
      compact = appendSample(compact, sampleOf(lag, compact[compact.length - 1]), 60 * 60_000);
      plain = appendSample(plain, plainSample(lag), 60 * 60_000);
      const answer = steps(compact);
      expect(answer).toEqual(steps(plain));
      // Asked again of the same history (the answer is kept): the same figures.
      expect(steps(compact)).toEqual(answer);
    });
    expect(stepRates(compact).producePerSec).toHaveLength(compact.length - 1);
  });

  it('answers rates and stalls exactly as plain offset arrays do', () => {
    for (const seed of [11, 12, 13]) {
      let compact: GroupSample[] = [];
      let plain: GroupSample[] = [];
      scriptedRows(seed, 300).forEach((rows, s) => {
        const lag = lagAt(s * 30_000, rows);
        compact = appendSample(compact, sampleOf(lag, compact[compact.length - 1]), 60 * 60_000);
        plain = appendSample(plain, plainSample(lag), 60 * 60_000);
        expect(ratesOf(compact, 2 * 60_000)).toEqual(ratesOf(plain, 2 * 60_000));
        expect(stalledPartitions(compact, 60_000)).toEqual(stalledPartitions(plain, 60_000));
      });
    }
  });

  it('makes new keys when partitions change, even where the old key strings start the same', () => {
    const row = (topic: string, partition: number): Row => ({ topic, partition, committed: 1, logEnd: 2 });
    let previous = sampleOf(lagAt(0, [row('t', 1), row('t', 2)]));
    for (const rows of [[row('t', 1), row('t', 20)], [row('t', 10), row('t', 20)], [row('tt', 10), row('t', 20)], [row('t', 0), row('t', 20)], [row('t', 0), row('t', 20)]]) {
      const sample = sampleOf(lagAt(previous.at + 30_000, rows), previous);
      const expected = [...rows].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1)).map((r) => partitionKey(r.topic, r.partition));
      expect(sample.keys).toEqual(expected);
      if (sameRows(previous.keys, expected)) expect(sample.keys).toBe(previous.keys);
      previous = sample;
    }
  });

  it('appends in place keeping exactly what appendSample keeps, the clock going back included', () => {
    const row = (committed: number): Row[] => [{ topic: 't', partition: 0, committed, logEnd: 100 }];
    let copied: GroupSample[] = [];
    const inPlace: GroupSample[] = [];
    for (const at of [0, 30_000, 60_000, 90_000, 45_000, 120_000, 400_000, 410_000, 100_000]) {
      const sample = sampleOf(lagAt(at, row(at / 1000)), inPlace[inPlace.length - 1]);
      copied = appendSample(copied, sample, 300_000);
      appendSampleInPlace(inPlace, sample, 300_000);
      expect(inPlace).toEqual(copied);
    }
  });

  it('keeps each sample\'s time, gap and total through the blocks', () => {
    const row = (committed: number): Row[] => [{ topic: 't', partition: 0, committed, logEnd: 100 }];
    const samples: GroupSample[] = [];
    for (let s = 0; s < 40; s += 1) samples.push(sampleOf(lagAt(1.7e12 + s * 30_000, row(s % 7)), samples[samples.length - 1], s % 5 === 0));
    expect(samples.map((x) => [x.at, x.afterGap, x.totalLag])).toEqual(samples.map((_, s) => [1.7e12 + s * 30_000, s % 5 === 0, 100 - (s % 7)]));
  });

  it('keeps samples independent when two are made from the same previous one', () => {
    const row = (committed: number): Row[] => [{ topic: 't', partition: 0, committed, logEnd: 100 }];
    const first = sampleOf(lagAt(0, row(1)));
    const a = sampleOf(lagAt(30_000, row(2)), first);
    const b = sampleOf(lagAt(30_000, row(3)), first);
    const c = sampleOf(lagAt(60_000, row(4)), a);
    expect([first, a, b, c].map((s) => s.committed[0])).toEqual([1, 2, 3, 4]);
    expect(a.keys).toBe(first.keys);
  });
});

/** The offsets of a sample as plain data, to compare a sample with what it was made of. */
const offsetsOf = (s: GroupSample) => ({ at: s.at, keys: [...s.keys], committed: [...s.committed], logEnd: [...s.logEnd], totalLag: s.totalLag, afterGap: s.afterGap });

describe('log ends held once per cluster', () => {
  it('holds a partition read by two groups at one check once, and each group gives back its own offsets', () => {
    const ends = new LogEnds();
    const a = lagAt(0, [{ topic: 't', partition: 0, committed: 10, logEnd: 100 }, { topic: 't', partition: 1, committed: 20, logEnd: 200 }], 'a');
    const b = lagAt(0, [{ topic: 't', partition: 1, committed: 150, logEnd: 200 }, { topic: 'u', partition: 0, committed: 1, logEnd: 5 }], 'b');
    ends.record(0, [a, b]);
    const sa = sampleOf(a, undefined, false, ends);
    const sb = sampleOf(b, undefined, false, ends);
    expect(logEndHolder(sa)).not.toBeNull();
    expect(logEndHolder(sb)).toBe(logEndHolder(sa));
    // The key string of the partition both read is the cluster's, not one per group.
    expect(sb.keys[0]).toBe(sa.keys[1]);
    expect(offsetsOf(sa)).toEqual(offsetsOf(plainSample(a)));
    expect(offsetsOf(sb)).toEqual(offsetsOf(plainSample(b)));
  });

  it('keeps its own log ends for a read of another time, a partition not recorded, or a log end that differs', () => {
    const ends = new LogEnds();
    const row = (logEnd: number | null, partition = 0): Row => ({ topic: 't', partition, committed: 1, logEnd });
    ends.record(30_000, [lagAt(30_000, [row(100)], 'a')]);
    // A /lag read or a read after the check: not the check's row.
    const later = sampleOf(lagAt(31_000, [row(101)], 'x'), undefined, false, ends);
    const unrecorded = sampleOf(lagAt(30_000, [row(100), row(7, 1)], 'y'), undefined, false, ends);
    const differing = sampleOf(lagAt(30_000, [row(99)], 'z'), undefined, false, ends);
    const unknown = sampleOf(lagAt(30_000, [row(null)], 'w'), undefined, false, ends);
    for (const s of [later, unrecorded, differing, unknown]) expect(logEndHolder(s)).toBeNull();
    expect([later, unrecorded, differing, unknown].map((s) => [...s.logEnd])).toEqual([[101], [100, 7], [99], [Number.NaN]]);
    // The same partition unknown in both is shared: NaN equals NaN here.
    const nothing = new LogEnds();
    nothing.record(0, [lagAt(0, [row(null)], 'a')]);
    expect(logEndHolder(sampleOf(lagAt(0, [row(null)], 'b'), undefined, false, nothing))).not.toBeNull();
  });

  it('gives back every group\'s history exactly while partitions come and go, groups read at other times and blocks overflow', () => {
    for (const seed of [21, 22, 23]) {
      const ends = new LogEnds();
      const scripts = ['a', 'b', 'c'].map((_, g) => scriptedRows(seed * 10 + g, 150));
      const histories: GroupSample[][] = [[], [], []];
      const plain: GroupSample[][] = [[], [], []];
      const rnd = random(seed);
      let shared = 0;
      for (let s = 0; s < 150; s += 1) {
        const at = s * 30_000;
        // Group c reads partitions a and b also read (topics a and b), with their log ends; now and then it is read a second later, off the check.
        const own = scripts.map((rows) => rows[s] as Row[]);
        const lagOfC = rnd() < 0.2 ? lagAt(at + 1_000, own[2] as Row[], 'c') : lagAt(at, own[0]?.map((r) => ({ ...r, committed: r.committed === null ? null : r.committed - 1 })) ?? [], 'c');
        const lags = [lagAt(at, own[0] as Row[], 'a'), lagAt(at, own[1] as Row[], 'b'), lagOfC];
        ends.record(at, lags.filter((l) => l.readAt === at));
        lags.forEach((lag, g) => {
          const history = histories[g] as GroupSample[];
          const sample = sampleOf(lag, history.at(-1), false, ends);
          if (logEndHolder(sample)) shared += 1;
          appendSampleInPlace(history, sample, 60 * 60_000);
          plain[g] = appendSample(plain[g] as GroupSample[], plainSample(lag), 60 * 60_000);
        });
      }
      // Every sample still held, not only the newest, is what was read.
      histories.forEach((h, g) => expect(h.map(offsetsOf)).toEqual((plain[g] as GroupSample[]).map(offsetsOf)));
      histories.forEach((h, g) => expect(rewindsIn(h, 10 * 60_000)).toEqual(rewindsIn(plain[g] as GroupSample[], 10 * 60_000)));
      expect(shared).toBeGreaterThan(150);
    }
  });

  it('shares again after a check the group was not read in, its offsets given back exactly', () => {
    const ends = new LogEnds();
    const history: GroupSample[] = [];
    const expected: number[][] = [];
    for (let s = 0; s < 20; s += 1) {
      const at = s * 30_000;
      const other = lagAt(at, [{ topic: 't', partition: 0, committed: 1, logEnd: 1_000 + s }], 'other');
      ends.record(at, [other]);
      if (s % 3 === 2) continue;
      const lag = lagAt(at, [{ topic: 't', partition: 0, committed: s, logEnd: 1_000 + s }]);
      history.push(sampleOf(lag, history.at(-1), false, ends));
      expected.push([s, 1_000 + s]);
    }
    expect(history.every((x) => logEndHolder(x) !== null)).toBe(true);
    expect(history.map((x) => [x.committed[0], x.logEnd[0]])).toEqual(expected);
  });

  it('restores shared samples from their records, and continues them', () => {
    const ends = new LogEnds();
    const rows = scriptedRows(31, 40);
    const history: GroupSample[] = [];
    rows.forEach((r, s) => {
      const lag = lagAt(s * 30_000, r);
      ends.record(lag.readAt, [lag, lagAt(lag.readAt, r, 'other')]);
      history.push(sampleOf(lag, history.at(-1), false, ends));
    });
    const restored: GroupSample[] = [];
    for (const sample of history) restored.push(sampleFrom(recordOf(sample), restored.at(-1)));
    expect(restored.map(offsetsOf)).toEqual(history.map(offsetsOf));
    // The first check after a restart shares again.
    const next = lagAt(40 * 30_000, rows[39] as Row[]);
    ends.record(next.readAt, [next]);
    const after = sampleOf(next, restored.at(-1), true, ends);
    expect(logEndHolder(after)).not.toBeNull();
    expect(offsetsOf(after)).toEqual({ ...offsetsOf(plainSample(next)), afterGap: true });
  });
});
