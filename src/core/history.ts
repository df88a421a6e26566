import type { GroupLag, GroupState } from './protocol.js';

/**
 * One check's reading of a group, stored compactly: an hour of 30-second samples for
 * thousands of partitions has to fit in memory, so offsets live in typed arrays (NaN for
 * unknown) and the partition key list is shared between samples while it is unchanged.
 */
export interface GroupSample {
  at: number;
  state: GroupState;
  memberIds: readonly string[];
  /** `topic\0partition`, in the same order as the offset arrays. */
  keys: readonly string[];
  committed: Float64Array;
  logEnd: Float64Array;
  totalLag: number | null;
}

export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export function splitKey(key: string): { topic: string; partition: number } {
  const cut = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)) };
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

/** Make a sample of a read; reuses the previous sample's key list when nothing changed. */
export function sampleOf(lag: GroupLag, previous?: GroupSample): GroupSample {
  const ordered = [...lag.partitions].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  const keys = ordered.map((p) => partitionKey(p.topic, p.partition));
  const committed = new Float64Array(ordered.length);
  const logEnd = new Float64Array(ordered.length);
  ordered.forEach((p, i) => {
    committed[i] = p.committedOffset ?? Number.NaN;
    logEnd[i] = p.logEndOffset ?? Number.NaN;
  });
  return {
    at: lag.readAt,
    state: lag.state,
    memberIds: lag.membersVisible ? lag.members.map((m) => m.memberId).sort() : [],
    keys: previous && sameKeys(previous.keys, keys) ? previous.keys : keys,
    committed,
    logEnd,
    totalLag: lag.totalLag,
  };
}

/** Append a sample and drop those older than the window (the newest is always kept). */
export function appendSample(history: readonly GroupSample[], sample: GroupSample, windowMs: number): GroupSample[] {
  const cutoff = sample.at - windowMs;
  const kept = history.filter((s) => s.at >= cutoff && s.at < sample.at);
  kept.push(sample);
  return kept;
}

/** The newest sample at or before `at`, if any: the reference point for "X minutes ago". */
export function sampleAtOrBefore(history: readonly GroupSample[], at: number): GroupSample | undefined {
  for (let i = history.length - 1; i >= 0; i -= 1) {
    const s = history[i] as GroupSample;
    if (s.at <= at) return s;
  }
  return undefined;
}

/** Sum of offset growth over partitions known in both samples. */
function growth(then: GroupSample, now: GroupSample, pick: (s: GroupSample) => Float64Array): number {
  const index = then.keys === now.keys ? null : new Map(then.keys.map((k, i) => [k, i]));
  const before = pick(then);
  const after = pick(now);
  let sum = 0;
  now.keys.forEach((key, i) => {
    const j = index ? index.get(key) : i;
    if (j === undefined) return;
    const delta = (after[i] as number) - (before[j] as number);
    if (Number.isFinite(delta)) sum += delta;
  });
  return sum;
}

export interface Rates {
  /** Messages per second arriving (log-end offset growth). */
  producePerSec: number;
  /** Messages per second consumed (committed offset growth). */
  consumePerSec: number;
  /** Total lag change per second. */
  lagGrowthPerSec: number | null;
  /** Seconds actually spanned by the two samples used. */
  spanSec: number;
}

/**
 * Rates over roughly the last `windowMs`: from the newest sample at or before
 * now − window (or the oldest held, if the history is shorter) to the newest.
 */
export function ratesOf(history: readonly GroupSample[], windowMs: number): Rates | null {
  const now = history[history.length - 1];
  if (!now || history.length < 2) return null;
  const then = sampleAtOrBefore(history, now.at - windowMs) ?? (history[0] as GroupSample);
  const spanSec = (now.at - then.at) / 1000;
  if (spanSec <= 0) return null;
  const lagGrowth = now.totalLag !== null && then.totalLag !== null ? (now.totalLag - then.totalLag) / spanSec : null;
  return {
    producePerSec: growth(then, now, (s) => s.logEnd) / spanSec,
    consumePerSec: growth(then, now, (s) => s.committed) / spanSec,
    lagGrowthPerSec: lagGrowth,
    spanSec,
  };
}

/**
 * How long the committed offset of each lagging partition has stood still while its
 * log end grew (Burrow's STALL). Returns partitions stalled for at least `minMs`.
 */
export function stalledPartitions(history: readonly GroupSample[], minMs: number): Array<{ key: string; sinceMs: number; arrived: number }> {
  const now = history[history.length - 1];
  if (!now) return [];
  const stalled: Array<{ key: string; sinceMs: number; arrived: number }> = [];
  now.keys.forEach((key, i) => {
    const committed = now.committed[i] as number;
    const end = now.logEnd[i] as number;
    if (!Number.isFinite(committed) || !Number.isFinite(end) || end - committed <= 0) return;
    let since = now.at;
    let firstEnd = end;
    for (let h = history.length - 2; h >= 0; h -= 1) {
      const s = history[h] as GroupSample;
      const j = s.keys === now.keys ? i : s.keys.indexOf(key);
      if (j < 0 || s.committed[j] !== committed) break;
      since = s.at;
      firstEnd = s.logEnd[j] as number;
    }
    const arrived = end - firstEnd;
    if (now.at - since >= minMs && arrived > 0) stalled.push({ key, sinceMs: now.at - since, arrived });
  });
  return stalled;
}

/**
 * Rebalances seen in the history: a step where the group left Stable, or where its
 * member set changed (kafkajs does not expose the generation id, and every
 * generation change goes with one of these).
 */
export function rebalancesIn(history: readonly GroupSample[]): number[] {
  const at: number[] = [];
  for (let i = 1; i < history.length; i += 1) {
    const prev = history[i - 1] as GroupSample;
    const cur = history[i] as GroupSample;
    const leftStable = prev.state === 'Stable' && cur.state !== 'Stable';
    const membersChanged = prev.memberIds.length > 0 && cur.memberIds.length > 0 && !sameKeys(prev.memberIds, cur.memberIds);
    if (leftStable || membersChanged) at.push(cur.at);
  }
  return at;
}
