import { describe, expect, it } from 'vitest';
import { appendSampleInPlace, partitionKey, sampleFrom, type GroupSample } from '../../src/core/history.js';
import { DEFAULT_STALENESS, partitionStaleness, type PartitionTimes, type StalenessSettings } from '../../src/core/staleness.js';
import { referenceStaleness } from './staleness-reference.js';

/**
 * partitionStaleness reads the history's blocks directly and stops early; the walk it
 * replaced (staleness-reference.ts) read every sample through its getters. Both must give
 * the same answer for any history, sensible or not: seeded random ones here.
 */

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);
const TOPIC = 'events';
const PARTITIONS = 4;

/** mulberry32: small, seeded, good enough for test cases. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  history: GroupSample[];
  readAt: number;
  p: { topic: string; partition: number; committedOffset: number | null; logEndOffset: number | null; lag: number | null };
  settings: StalenessSettings;
  times: PartitionTimes;
}

function caseOf(seed: number): Case {
  const r = random(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(r() * values.length)] as T;
  const chance = (p: number): boolean => r() < p;

  // Each partition's log end and committed offset, walked along.
  const ends = Array.from({ length: PARTITIONS }, () => Math.floor(r() * 1_000_000));
  const committed = ends.map((e) => Math.max(0, e - Math.floor(r() * 5_000)));
  const present = Array.from({ length: PARTITIONS }, () => chance(0.85));
  const step = pick([1_000, 15_000, 30_000, 30_000, 30_000, 60_000]);
  const samples = Math.floor(r() * 60);
  let history: GroupSample[] = [];
  let at = T0;
  let previous: GroupSample | undefined;
  const made: GroupSample[] = [];
  for (let i = 0; i < samples; i += 1) {
    at += chance(0.05) ? 0 : chance(0.03) ? -step : chance(0.1) ? step * Math.ceil(r() * 10) : step;
    for (let q = 0; q < PARTITIONS; q += 1) {
      if (chance(0.04)) present[q] = !present[q];
      const shape = r();
      const old = ends[q] as number;
      // Idle, a few, many, a jump past a block's width, falling back, unknown, a fraction.
      ends[q] = shape < 0.3 ? old : shape < 0.6 ? old + Math.floor(r() * 100) : shape < 0.75 ? old + Math.floor(r() * 40_000) : shape < 0.8 ? old + Math.floor(r() * 3e9) : shape < 0.87 ? Math.max(0, old - Math.floor(r() * 2_000)) : shape < 0.93 ? Number.NaN : shape < 0.94 ? old + 0.5 : old;
      if (Number.isNaN(old) && !Number.isNaN(ends[q] as number)) ends[q] = Math.floor(r() * 1_000_000);
      if (Number.isNaN(ends[q] as number) && chance(0.5)) ends[q] = Math.floor(r() * 1_000_000);
      committed[q] = chance(0.05) ? Number.NaN : Math.max(0, (Number.isFinite(ends[q]) ? (ends[q] as number) : 0) - Math.floor(r() * 10_000));
    }
    const qs = [...Array(PARTITIONS).keys()].filter((q) => present[q]);
    // Now and then the same partition twice: which one a lookup finds must not change.
    if (chance(0.02) && qs.length > 0) qs.push(qs[qs.length - 1] as number);
    const keys = qs.map((q) => partitionKey(TOPIC, q));
    const values = new Float64Array(2 * qs.length);
    qs.forEach((q, k) => {
      values[k] = committed[q] as number;
      values[qs.length + k] = ends[q] as number;
    });
    const record = { at: chance(0.005) ? Number.NaN : at, state: 'Stable' as const, memberIds: [], totalLag: null, afterGap: chance(0.1), keys, values };
    let sample: GroupSample;
    if (chance(0.05)) {
      // A sample as a plain object, not from the blocks.
      sample = { at: record.at, state: 'Stable', memberIds: [], keys, committed: values.slice(0, qs.length), logEnd: values.slice(qs.length), totalLag: null, afterGap: record.afterGap };
    } else {
      // Mostly the newest as the previous; sometimes none (a block of its own) or an older one.
      const from = chance(0.05) ? undefined : chance(0.05) && made.length > 2 ? made[Math.floor(r() * made.length)] : previous;
      sample = sampleFrom(record, from);
    }
    made.push(sample);
    previous = sample;
    if (chance(0.3)) appendSampleInPlace(history, sample, pick([10 * 60_000, 60 * 60_000, 1e12]));
    else history.push(sample);
  }
  // Now and then samples missing from the middle (slots of a block not next to each other).
  if (chance(0.15)) history = history.filter(() => chance(0.8));
  if (chance(0.05)) history = [...history].reverse();

  const q = Math.floor(r() * (PARTITIONS + 1));
  const seen = history.flatMap((s) => {
    const i = s.keys.indexOf(partitionKey(TOPIC, q));
    return i < 0 ? [] : [s.logEnd[i] as number].filter(Number.isFinite);
  });
  const lowest = seen.length > 0 ? Math.min(...seen) : 1_000;
  const highest = seen.length > 0 ? Math.max(...seen) : 2_000;
  const logEnd = chance(0.05) ? null : pick([highest, highest, highest + Math.floor(r() * 5_000), pick(seen.length > 0 ? seen : [highest]), lowest]);
  const place = r();
  const c = chance(0.04)
    ? null
    : place < 0.3
      ? Math.max(0, lowest - 1 - Math.floor(r() * 50_000))
      : place < 0.6
        ? pick(seen.length > 0 ? seen : [lowest]) + pick([-1, 0, 0, 1, Math.floor(r() * 100)])
        : place < 0.8
          ? lowest + Math.floor(r() * Math.max(1, highest - lowest))
          : place < 0.9
            ? (logEnd ?? highest)
            : highest + Math.floor(r() * 100);
  const lag = chance(0.03) ? null : c !== null && logEnd !== null ? (chance(0.03) ? 0 : Math.max(0, logEnd - c)) : null;
  const last = history.at(-1)?.at ?? T0;
  const readAt = last + pick([0, 0, 1, 30_000, -30_000, -1, 5 * 60_000, -Math.floor(r() * 20 * 60_000)]);
  const settings = { idleAfterMs: pick([DEFAULT_STALENESS.idleAfterMs, 0, 30_000, 20 * 60_000]) };
  const times: PartitionTimes = {};
  if (chance(0.3)) times.logStart = chance(0.1) ? null : { offset: c === null ? 0 : Math.max(0, c - Math.floor(r() * 10_000)) + pick([0, 0, 1, 20_000]), timestamp: T0 - Math.floor(r() * 3_600_000) + pick([0, 0, 7_200_000]) };
  if (chance(0.2)) times.newest = chance(0.1) ? null : { offset: highest, timestamp: readAt - Math.floor(r() * 20 * 60_000) };
  if (chance(0.1)) times.exactTimestamp = chance(0.2) ? null : readAt - Math.floor(r() * 600_000);
  if (chance(0.05)) times.caughtUp = true;
  return { history, readAt, p: { topic: TOPIC, partition: q, committedOffset: c, logEndOffset: logEnd, lag }, settings, times };
}

describe('partitionStaleness against the walk it replaced', () => {
  it('gives the same answer on 20,000 seeded random histories', () => {
    const methods = new Map<string, number>();
    for (let seed = 1; seed <= 20_000; seed += 1) {
      const { history, readAt, p, settings, times } = caseOf(seed);
      const expected = referenceStaleness(p, readAt, history, settings, times);
      const actual = partitionStaleness(p, readAt, history, settings, times);
      if (JSON.stringify(actual) !== JSON.stringify(expected) || !Object.is(actual.seconds, expected.seconds)) expect({ seed, ...actual }).toEqual({ seed, ...expected });
      const kind = `${expected.method}${expected.idle ? ' idle' : ''}`;
      methods.set(kind, (methods.get(kind) ?? 0) + 1);
    }
    // The cases reach every answer, not only the easy ones.
    for (const kind of ['estimated', 'estimated idle', 'extrapolated', 'exact', 'null']) expect(methods.get(kind) ?? 0).toBeGreaterThan(200);
  });

  it('answers the same when one walk follows another over other histories (nothing carried over)', () => {
    const cases = Array.from({ length: 500 }, (_, i) => caseOf(100_000 + i));
    const expected = cases.map((c) => referenceStaleness(c.p, c.readAt, c.history, c.settings, c.times));
    // Twice over, interleaved: the key lookup remembers the last key list it indexed.
    for (let round = 0; round < 2; round += 1) cases.forEach((c, i) => expect(partitionStaleness(c.p, c.readAt, c.history, c.settings, c.times)).toEqual(expected[i]));
  });
});
