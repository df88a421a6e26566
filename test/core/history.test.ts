import { describe, expect, it } from 'vitest';
import { completeTotal } from '../../src/core/lag.js';
import { appendSample, appendSampleInPlace, partitionKey, ratesOf, sampleOf, stalledPartitions, type GroupSample } from '../../src/core/history.js';
import type { GroupLag } from '../../src/core/protocol.js';

interface Row {
  topic: string;
  partition: number;
  committed: number | null;
  logEnd: number | null;
}

function lagAt(at: number, rows: readonly Row[]): GroupLag {
  return {
    cluster: 'default',
    group: 'g',
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
