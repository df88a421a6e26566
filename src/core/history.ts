import { completeTotal } from './lag.js';
import type { GroupLag, GroupState, PartitionLag } from './protocol.js';

/**
 * One check's reading of a group. An hour of 30-second samples for every partition of
 * every group has to fit in memory (1,000 groups over 10,000 partitions is 6 million
 * partition-samples), so samples made by `sampleOf` keep their offsets in shared blocks:
 * see SampleBlock. The partition key list is shared between samples while it is unchanged.
 */
export interface GroupSample {
  at: number;
  state: GroupState;
  memberIds: readonly string[];
  /** `topic\0partition`, in the same order as the offset arrays. */
  keys: readonly string[];
  /** Committed offset per key, NaN for unknown. For samples from `sampleOf`, built on each access. */
  committed: Float64Array;
  /** Log end offset per key, NaN for unknown. For samples from `sampleOf`, built on each access. */
  logEnd: Float64Array;
  totalLag: number | null;
  /**
   * Nothing was seen between the previous sample and this one (a check failed, or the group
   * could not be read): that stretch is not observed time, and no "for N minutes" rule
   * counts it.
   */
  afterGap: boolean;
}

export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export function splitKey(key: string): { topic: string; partition: number } {
  const cut = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)) };
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((k, i) => k === b[i]));
}

/** `key === partitionKey(topic, partition)`, without making the string. */
function isKeyOf(key: string, topic: string, partition: number): boolean {
  const cut = topic.length;
  if (!Number.isSafeInteger(partition) || partition < 0) return key === partitionKey(topic, partition);
  if (key.length < cut + 2 || key.charCodeAt(cut) !== 0 || !key.startsWith(topic)) return false;
  // The decimal digits String(partition) writes: no sign, no leading zero but for 0 itself.
  if (key.charCodeAt(cut + 1) === 48 && key.length > cut + 2) return false;
  let n = 0;
  for (let i = cut + 1; i < key.length; i += 1) {
    const digit = key.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return false;
    n = n * 10 + digit;
  }
  return n === partition;
}

/** The previous sample's keys when they are those of `ordered`: the key strings are made only when the partitions changed. */
function keysOf(ordered: readonly PartitionLag[], previous: GroupSample | undefined): readonly string[] {
  const known = previous?.keys;
  if (known && known.length === ordered.length && ordered.every((p, i) => isKeyOf(known[i] as string, p.topic, p.partition))) return known;
  return ordered.map((p) => partitionKey(p.topic, p.partition));
}

/**
 * One string per group state, kept by every sample in the window: a state decoded from each
 * read is a string of its own, an hour of 1,000 groups' samples 120,000 copies of "Empty".
 */
const STATES = new Map<string, GroupState>();
function stateOf(state: GroupState): GroupState {
  const known = STATES.get(state);
  if (known !== undefined) return known;
  STATES.set(state, state);
  return state;
}

/** Samples per block: a block is freed once all of its samples left the window. */
const BLOCK_SAMPLES = 16;
const COMMITTED = 0;
const LOG_END = 1;
type Column = typeof COMMITTED | typeof LOG_END;

/** Bytes per stored difference: 1, 2 or 4. */
type Width = 1 | 2 | 4;

/** The largest difference each width holds; its most negative value stands for "unknown". */
const LIMIT: Record<Width, number> = { 1: 0x7f, 2: 0x7fff, 4: 0x7fffffff };

/**
 * Consecutive samples of one group with the same keys, stored as integer differences from
 * the block's first sample (its anchor, kept as float64). Offsets grow slowly against
 * their size, so a difference usually fits 8 or 16 bits and always 32: 1 to 4 bytes per
 * offset instead of 8, and one allocation per 16 samples instead of two per sample (a
 * typed array costs several hundred bytes of bookkeeping besides its data). Lossless: a
 * value a block cannot hold (too far from the anchor, not an integer, known where the
 * anchor was not) starts a new block anchored on it.
 */
class SampleBlock {
  /** Slots written; samples only ever append, so a written slot never changes. */
  count = 0;
  /** Largest difference written, to pick the next block's width. */
  maxDelta = 0;
  /** A sample did not fit this block's width. */
  overflowed = false;
  /** Committed offsets then log end offsets of the first sample. */
  readonly anchor: Float64Array;
  readonly data: Int8Array | Int16Array | Int32Array;
  /** Each slot's sample time, here rather than on the sample: a number field is a heap number of its own per sample. */
  readonly times: number[] = [];
  /** The width's most negative value, standing for "unknown" (NaN). */
  readonly missing: number;
  readonly limit: number;

  constructor(
    readonly keys: readonly string[],
    first: Float64Array,
    readonly width: Width,
  ) {
    // Anchor and differences in one buffer: one allocation per block, not two.
    const columns = 2 * keys.length;
    const size = BLOCK_SAMPLES * columns;
    const buffer = new ArrayBuffer(8 * columns + width * size);
    this.anchor = new Float64Array(buffer, 0, columns);
    this.anchor.set(first);
    const at = 8 * columns;
    this.data = width === 4 ? new Int32Array(buffer, at, size) : width === 2 ? new Int16Array(buffer, at, size) : new Int8Array(buffer, at, size);
    this.limit = LIMIT[width];
    this.missing = -this.limit - 1;
  }

  /** Write `values` into the next slot; false (nothing counted) when they do not fit. */
  append(values: Float64Array): boolean {
    if (this.count >= BLOCK_SAMPLES) return false;
    const base = this.count * values.length;
    let max = this.maxDelta;
    for (let j = 0; j < values.length; j += 1) {
      const v = values[j] as number;
      if (Number.isNaN(v)) {
        this.data[base + j] = this.missing;
        continue;
      }
      const d = v - (this.anchor[j] as number);
      // NaN when the anchor was unknown; a fraction never comes from Kafka, but stays exact.
      if (!Number.isInteger(d)) return false;
      const abs = d < 0 ? -d : d;
      if (abs > this.limit) {
        this.overflowed = true;
        return false;
      }
      if (abs > max) max = abs;
      this.data[base + j] = d;
    }
    this.maxDelta = max;
    this.count += 1;
    return true;
  }

  value(slot: number, column: Column, i: number): number {
    const j = column * this.keys.length + i;
    const d = this.data[slot * 2 * this.keys.length + j] as number;
    return d === this.missing ? Number.NaN : (this.anchor[j] as number) + d;
  }
}

/**
 * A sample in a block. Small on purpose, an hour of 1,000 groups is 120,000 of them: its
 * time is in the block, and slot and afterGap share one field.
 */
class CompactSample implements GroupSample {
  /** slot * 2 + (afterGap ? 1 : 0) */
  private readonly slotAndGap: number;

  constructor(
    readonly state: GroupState,
    readonly memberIds: readonly string[],
    readonly totalLag: number | null,
    readonly block: SampleBlock,
    slot: number,
    afterGap: boolean,
  ) {
    this.slotAndGap = slot * 2 + (afterGap ? 1 : 0);
  }

  get at(): number {
    return this.block.times[this.slot] as number;
  }

  get slot(): number {
    return this.slotAndGap >> 1;
  }

  get afterGap(): boolean {
    return (this.slotAndGap & 1) === 1;
  }

  get keys(): readonly string[] {
    return this.block.keys;
  }

  get committed(): Float64Array {
    return this.column(COMMITTED);
  }

  get logEnd(): Float64Array {
    return this.column(LOG_END);
  }

  private column(column: Column): Float64Array {
    const out = new Float64Array(this.block.keys.length);
    for (let i = 0; i < out.length; i += 1) out[i] = this.block.value(this.slot, column, i);
    return out;
  }
}

/** One offset of a sample, without building the whole array. */
function offsetAt(sample: GroupSample, column: Column, i: number): number {
  if (sample instanceof CompactSample) return sample.block.value(sample.slot, column, i);
  return (column === COMMITTED ? sample.committed : sample.logEnd)[i] as number;
}

/** A partition's log end offset in a sample (NaN: unknown). */
export const logEndAt = (sample: GroupSample, index: number): number => offsetAt(sample, LOG_END, index);

/** A partition's committed offset in a sample (NaN: unknown). */
export const committedAt = (sample: GroupSample, index: number): number => offsetAt(sample, COMMITTED, index);

/**
 * The key list firstKeyIndex last looked in, and where each key first is in it: the
 * partitions of one group are looked up one after the other in the same list (the history
 * shares it while the partitions stay the same), and a scan of the keys for each would cost
 * more than the rest of the walk. Only the last list is kept.
 */
let indexedKeys: readonly string[] | null = null;
const keyIndex = new Map<string, number>();

/** keyIndexIn without a hint: where a partition first is in `keys` (-1: not there). */
function firstKeyIndex(keys: readonly string[], topic: string, partition: number): number {
  if (keys !== indexedKeys) {
    keyIndex.clear();
    for (let i = keys.length - 1; i >= 0; i -= 1) keyIndex.set(keys[i] as string, i);
    indexedKeys = keys;
  }
  return keyIndex.get(partitionKey(topic, partition)) ?? -1;
}

/** Where a walk back over one partition's log ends stands, between calls of logEndsBack. */
export interface LogEndWalk {
  /** The next sample to read, an index into the history; -1 once the walk ended. */
  next: number;
  /** The keys `index` was found in (null: none yet). */
  keys: readonly string[] | null;
  /** Where the partition is in `keys`. */
  index: number;
}

/**
 * One partition's log-end readings, newest first, from sample `walk.next` back, into `at`
 * (the sample's time) and `end`, as many as they hold; returns how many it wrote. Samples at
 * or after `readAt` are passed over. The walk ends (`walk.next` -1) at the history's start,
 * at a sample whose keys lack the partition, or at one where its log end is unknown or not
 * finite (neither is written). What sample-by-sample reading through `at`, keyIndexIn
 * (hinted with the last index, found again only when the keys change) and logEndAt reads,
 * straight from the blocks: this runs for every lagging partition of every group each check.
 */
export function logEndsBack(history: readonly GroupSample[], topic: string, partition: number, readAt: number, walk: LogEndWalk, at: Float64Array, end: Float64Array): number {
  const room = Math.min(at.length, end.length);
  let written = 0;
  let h = walk.next;
  while (h >= 0 && written < room) {
    const s = history[h] as GroupSample;
    if (!(s instanceof CompactSample)) {
      const t = s.at;
      if (!(t >= readAt)) {
        if (s.keys !== walk.keys) {
          walk.index = walk.keys === null ? firstKeyIndex(s.keys, topic, partition) : keyIndexIn(s, topic, partition, walk.index);
          walk.keys = s.keys;
        }
        const e = walk.index < 0 ? Number.NaN : (s.logEnd[walk.index] as number);
        if (!Number.isFinite(e)) return ended(walk, written);
        at[written] = t;
        end[written] = e;
        written += 1;
      }
      h -= 1;
      continue;
    }
    // A run of samples of one block: its column read directly, the partition found once.
    const block = s.block;
    const { times, data, missing, anchor } = block;
    const stride = 2 * block.keys.length;
    let j = -1;
    let base = 0;
    let sample: CompactSample = s;
    for (;;) {
      const slot = sample.slot;
      const t = times[slot] as number;
      if (!(t >= readAt)) {
        if (j < 0) {
          if (block.keys !== walk.keys) {
            walk.index = walk.keys === null ? firstKeyIndex(block.keys, topic, partition) : keyIndexIn(sample, topic, partition, walk.index);
            walk.keys = block.keys;
          }
          if (walk.index < 0) return ended(walk, written);
          j = block.keys.length + walk.index;
          base = anchor[j] as number;
        }
        const d = data[slot * stride + j] as number;
        const e = d === missing ? Number.NaN : base + d;
        if (!Number.isFinite(e)) return ended(walk, written);
        at[written] = t;
        end[written] = e;
        written += 1;
      }
      h -= 1;
      if (h < 0 || written === room) break;
      const next = history[h];
      if (!(next instanceof CompactSample) || next.block !== block) break;
      sample = next;
    }
  }
  walk.next = h;
  return written;
}

function ended(walk: LogEndWalk, written: number): number {
  walk.next = -1;
  return written;
}

/** Where seekLogEndAtOrBelow stopped: the last reading it read, and the one read just before it. */
export interface LogEndSeek {
  at: number;
  end: number;
  /** The reading read before `at`, when it read two or more. */
  newerAt: number;
  newerEnd: number;
  /** `end` is at or below the limit (else the walk ended there, or read nothing). */
  found: boolean;
}

/**
 * logEndsBack read on, writing nothing, until a log end at or below `limit` or the walk's
 * end: when all that matters is the first reading at or below an offset, and the last one
 * read if none is. Returns how many readings it read; ends the walk (`walk.next` -1).
 */
export function seekLogEndAtOrBelow(history: readonly GroupSample[], topic: string, partition: number, readAt: number, walk: LogEndWalk, limit: number, out: LogEndSeek): number {
  let read = 0;
  let lastAt = Number.NaN;
  let lastEnd = Number.NaN;
  let newerAt = Number.NaN;
  let newerEnd = Number.NaN;
  let found = false;
  let h = walk.next;
  walking: while (h >= 0) {
    const s = history[h] as GroupSample;
    if (!(s instanceof CompactSample)) {
      const t = s.at;
      if (!(t >= readAt)) {
        if (s.keys !== walk.keys) {
          walk.index = walk.keys === null ? firstKeyIndex(s.keys, topic, partition) : keyIndexIn(s, topic, partition, walk.index);
          walk.keys = s.keys;
        }
        const e = walk.index < 0 ? Number.NaN : (s.logEnd[walk.index] as number);
        if (!Number.isFinite(e)) break;
        newerAt = lastAt;
        newerEnd = lastEnd;
        lastAt = t;
        lastEnd = e;
        read += 1;
        if (e <= limit) {
          found = true;
          break;
        }
      }
      h -= 1;
      continue;
    }
    const block = s.block;
    const { times, data, missing, anchor } = block;
    const stride = 2 * block.keys.length;
    let j = -1;
    let base = 0;
    let sample: CompactSample = s;
    for (;;) {
      const slot = sample.slot;
      const t = times[slot] as number;
      if (!(t >= readAt)) {
        if (j < 0) {
          if (block.keys !== walk.keys) {
            walk.index = walk.keys === null ? firstKeyIndex(block.keys, topic, partition) : keyIndexIn(sample, topic, partition, walk.index);
            walk.keys = block.keys;
          }
          if (walk.index < 0) break walking;
          j = block.keys.length + walk.index;
          base = anchor[j] as number;
        }
        const d = data[slot * stride + j] as number;
        const e = d === missing ? Number.NaN : base + d;
        if (!Number.isFinite(e)) break walking;
        newerAt = lastAt;
        newerEnd = lastEnd;
        lastAt = t;
        lastEnd = e;
        read += 1;
        if (e <= limit) {
          found = true;
          break walking;
        }
      }
      h -= 1;
      if (h < 0) break walking;
      const next = history[h];
      if (!(next instanceof CompactSample) || next.block !== block) break;
      sample = next;
    }
  }
  walk.next = -1;
  out.at = lastAt;
  out.end = lastEnd;
  out.newerAt = newerAt;
  out.newerEnd = newerEnd;
  out.found = found;
  return read;
}

/** Where a partition is in a sample's keys (-1: not there); `hint` is tried first (samples of a group mostly share their keys). */
export function keyIndexIn(sample: GroupSample, topic: string, partition: number, hint = -1): number {
  const keys = sample.keys;
  if (hint >= 0 && hint < keys.length && isKeyOf(keys[hint] as string, topic, partition)) return hint;
  for (let i = 0; i < keys.length; i += 1) if (isKeyOf(keys[i] as string, topic, partition)) return i;
  return -1;
}

const NO_MEMBERS: readonly string[] = Object.freeze([]);

/**
 * The next block's width: 16 bits for a group's first block; one step wider after a sample
 * did not fit; otherwise the narrowest the previous block's differences would have fitted
 * (idle partitions, the many that barely move, take one byte an offset).
 */
function nextWidth(previous: SampleBlock | null): Width {
  if (!previous) return 2;
  if (previous.overflowed) return previous.width === 1 ? 2 : 4;
  return previous.maxDelta <= LIMIT[1] ? 1 : previous.maxDelta <= LIMIT[2] ? 2 : 4;
}

/**
 * Make a sample of a read; reuses the previous sample's key list (and block) when nothing
 * changed. `afterGap`: checks were missed since `previous`.
 */
export function sampleOf(lag: GroupLag, previous?: GroupSample, afterGap = false): GroupSample {
  const ordered = [...lag.partitions].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  const n = ordered.length;
  const values = new Float64Array(2 * n);
  ordered.forEach((p, i) => {
    values[i] = p.committedOffset ?? Number.NaN;
    values[n + i] = p.logEndOffset ?? Number.NaN;
  });
  const memberIds = lag.membersVisible && lag.members.length > 0 ? lag.members.map((m) => m.memberId).sort() : NO_MEMBERS;
  return sampleFrom({ at: lag.readAt, state: lag.state, memberIds, totalLag: completeTotal(lag), afterGap, keys: keysOf(ordered, previous), values }, previous);
}

/** A sample as plain data: what the store keeps so the history survives a restart. */
export interface SampleRecord {
  at: number;
  state: GroupState;
  memberIds: readonly string[];
  totalLag: number | null;
  afterGap: boolean;
  /** `topic\0partition`, sorted by topic then partition. */
  keys: readonly string[];
  /** Committed offsets, then log end offsets, one per key each; NaN for unknown. */
  values: Float64Array;
}

export function recordOf(sample: GroupSample): SampleRecord {
  const n = sample.keys.length;
  const values = new Float64Array(2 * n);
  if (sample instanceof CompactSample) {
    // Straight from the block: the committed and logEnd getters would each build an array first.
    for (let i = 0; i < n; i += 1) {
      values[i] = sample.block.value(sample.slot, COMMITTED, i);
      values[n + i] = sample.block.value(sample.slot, LOG_END, i);
    }
  } else {
    values.set(sample.committed, 0);
    values.set(sample.logEnd, n);
  }
  return { at: sample.at, state: sample.state, memberIds: sample.memberIds, totalLag: sample.totalLag, afterGap: sample.afterGap, keys: sample.keys, values };
}

/** Build the next sample of a group; reuses the previous sample's key list (and block) when nothing changed. */
export function sampleFrom(record: SampleRecord, previous?: GroupSample): GroupSample {
  const keys = previous && sameKeys(previous.keys, record.keys) ? previous.keys : record.keys;
  const memberIds = record.memberIds.length === 0 ? NO_MEMBERS : previous && sameKeys(previous.memberIds, record.memberIds) ? previous.memberIds : record.memberIds;
  const values = record.values;

  // Only the newest sample of a block may extend it: a second sample made from the same
  // previous one must not take (and overwrite) the slot the first one holds.
  const previousBlock = previous instanceof CompactSample ? previous.block : null;
  const last = previousBlock && previousBlock.keys === keys && previous instanceof CompactSample && previous.slot === previousBlock.count - 1 ? previousBlock : null;
  let block = last;
  if (!block || !block.append(values)) {
    block = new SampleBlock(keys, values, nextWidth(previousBlock));
    block.append(values);
  }
  block.times[block.count - 1] = record.at;
  return new CompactSample(stateOf(record.state), memberIds, record.totalLag, block, block.count - 1, record.afterGap);
}

/** Append a sample and drop those older than the window (the newest is always kept). */
export function appendSample(history: readonly GroupSample[], sample: GroupSample, windowMs: number): GroupSample[] {
  const cutoff = sample.at - windowMs;
  const kept = history.filter((s) => s.at >= cutoff && s.at < sample.at);
  kept.push(sample);
  return kept;
}

/**
 * appendSample on the array itself: the same samples kept, in the same order, without a new
 * array per group per check (a thousand groups' arrays of 120 samples, every 30 seconds,
 * each living just long enough to be promoted to V8's old generation).
 */
export function appendSampleInPlace(history: GroupSample[], sample: GroupSample, windowMs: number): void {
  const cutoff = sample.at - windowMs;
  let kept = 0;
  for (const s of history) if (s.at >= cutoff && s.at < sample.at) history[kept++] = s;
  history.length = kept;
  history.push(sample);
}

/** The newest sample at or before `at`, if any: the reference point for "X minutes ago". */
export function sampleAtOrBefore(history: readonly GroupSample[], at: number): GroupSample | undefined {
  for (let i = history.length - 1; i >= 0; i -= 1) {
    const s = history[i] as GroupSample;
    if (s.at <= at) return s;
  }
  return undefined;
}

/**
 * Observed time from each sample to the newest, newest first: the time between samples,
 * less the stretches after a gap. A rule that needs "N minutes" of something needs N
 * minutes of this, not of the wall clock.
 */
export function observedAges(history: readonly GroupSample[]): number[] {
  const ages = new Array<number>(history.length).fill(0);
  let age = 0;
  for (let i = history.length - 1; i > 0; i -= 1) {
    const cur = history[i] as GroupSample;
    const prev = history[i - 1] as GroupSample;
    if (!cur.afterGap) age += cur.at - prev.at;
    ages[i - 1] = age;
  }
  return ages;
}

/** The samples seen within the last `windowMs` of observed time (the newest included). */
export function observedWindow(history: readonly GroupSample[], windowMs: number): GroupSample[] {
  const ages = observedAges(history);
  return history.filter((_, i) => (ages[i] as number) <= windowMs);
}

/** The newest sample at least `ms` of observed time before the newest, if the history reaches that far. */
export function sampleObservedAgo(history: readonly GroupSample[], ms: number): GroupSample | undefined {
  const ages = observedAges(history);
  for (let i = history.length - 1; i >= 0; i -= 1) if ((ages[i] as number) >= ms) return history[i];
  return undefined;
}

/** Sum of offset growth over partitions known in both samples. */
function growth(then: GroupSample, now: GroupSample, column: Column): number {
  const index = then.keys === now.keys ? null : new Map(then.keys.map((k, i) => [k, i]));
  let sum = 0;
  now.keys.forEach((key, i) => {
    const j = index ? index.get(key) : i;
    if (j === undefined) return;
    const delta = offsetAt(now, column, i) - offsetAt(then, column, j);
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
 * Where the rates over `windowMs` start: the newest sample at or before now − window, or the
 * oldest held when the history is shorter. The group's rates, the partitions' and the
 * rewinds told with them all start here.
 */
function rateStartIndex(history: readonly GroupSample[], windowMs: number): number {
  const now = history[history.length - 1];
  if (!now) return 0;
  for (let i = history.length - 1; i >= 0; i -= 1) if ((history[i] as GroupSample).at <= now.at - windowMs) return i;
  return 0;
}

/**
 * Rates over roughly the last `windowMs`: from the newest sample at or before
 * now − window (or the oldest held, if the history is shorter) to the newest.
 */
export function ratesOf(history: readonly GroupSample[], windowMs: number): Rates | null {
  const now = history[history.length - 1];
  if (!now || history.length < 2) return null;
  const then = history[rateStartIndex(history, windowMs)] as GroupSample;
  const spanSec = (now.at - then.at) / 1000;
  if (spanSec <= 0) return null;
  const lagGrowth = now.totalLag !== null && then.totalLag !== null ? (now.totalLag - then.totalLag) / spanSec : null;
  return {
    producePerSec: growth(then, now, LOG_END) / spanSec,
    consumePerSec: growth(then, now, COMMITTED) / spanSec,
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
  const ages = observedAges(history);
  const stalled: Array<{ key: string; sinceMs: number; arrived: number }> = [];
  now.keys.forEach((key, i) => {
    const committed = offsetAt(now, COMMITTED, i);
    const end = offsetAt(now, LOG_END, i);
    if (!Number.isFinite(committed) || !Number.isFinite(end) || end - committed <= 0) return;
    // How long, in observed time, the committed offset has stood where it is now.
    let stillFor = 0;
    let firstEnd = end;
    for (let h = history.length - 2; h >= 0; h -= 1) {
      const s = history[h] as GroupSample;
      const j = s.keys === now.keys ? i : s.keys.indexOf(key);
      if (j < 0 || offsetAt(s, COMMITTED, j) !== committed) break;
      stillFor = ages[h] as number;
      firstEnd = offsetAt(s, LOG_END, j);
    }
    const arrived = end - firstEnd;
    if (stillFor >= minMs && arrived > 0) stalled.push({ key, sinceMs: stillFor, arrived });
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

/**
 * Produce and consume rate of each partition of the newest sample over roughly the last
 * `windowMs` (the same two samples as `ratesOf`), in the order of its keys; NaN where a
 * partition is not known in both. One pair of arrays per group: this runs every check for
 * every partition of every group, so nothing is made per partition or per sample.
 */
export interface PartitionRates {
  /** The newest sample's keys (`topic\0partition`). */
  keys: readonly string[];
  /** Log-end offset growth per second, per key. */
  producePerSec: Float64Array;
  /** Committed offset growth per second, per key (negative across a rewind). */
  consumePerSec: Float64Array;
  spanSec: number;
}

export function partitionRates(history: readonly GroupSample[], windowMs: number): PartitionRates | null {
  const now = history[history.length - 1];
  if (!now || history.length < 2) return null;
  const then = history[rateStartIndex(history, windowMs)] as GroupSample;
  const spanSec = (now.at - then.at) / 1000;
  if (spanSec <= 0) return null;
  const n = now.keys.length;
  const producePerSec = new Float64Array(n);
  const consumePerSec = new Float64Array(n);
  // Partitions changed within the window: match them by key (rare, so a map is fine here).
  const index = then.keys === now.keys ? null : new Map(then.keys.map((k, i) => [k, i]));
  for (let i = 0; i < n; i += 1) {
    const j = index ? (index.get(now.keys[i] as string) ?? -1) : i;
    if (j < 0) {
      producePerSec[i] = Number.NaN;
      consumePerSec[i] = Number.NaN;
      continue;
    }
    // NaN (an offset unknown at either end) stays NaN.
    producePerSec[i] = (offsetAt(now, LOG_END, i) - offsetAt(then, LOG_END, j)) / spanSec;
    consumePerSec[i] = (offsetAt(now, COMMITTED, i) - offsetAt(then, COMMITTED, j)) / spanSec;
  }
  return { keys: now.keys, producePerSec, consumePerSec, spanSec };
}

/**
 * The group's produce and consume rate over each step between two samples, oldest first:
 * the baseline a rate of now is compared with. Partitions known at both ends only.
 */
export function stepRates(history: readonly GroupSample[]): { producePerSec: Float64Array; consumePerSec: Float64Array } {
  const steps = Math.max(0, history.length - 1);
  const producePerSec = new Float64Array(steps);
  const consumePerSec = new Float64Array(steps);
  for (let h = 1; h < history.length; h += 1) {
    const then = history[h - 1] as GroupSample;
    const now = history[h] as GroupSample;
    const spanSec = (now.at - then.at) / 1000;
    if (spanSec <= 0) {
      producePerSec[h - 1] = Number.NaN;
      consumePerSec[h - 1] = Number.NaN;
      continue;
    }
    producePerSec[h - 1] = growth(then, now, LOG_END) / spanSec;
    consumePerSec[h - 1] = growth(then, now, COMMITTED) / spanSec;
  }
  return { producePerSec, consumePerSec };
}

/** A committed offset that went backwards between two samples (Burrow's REWIND): a reset to an earlier offset, or a replay. */
export interface Rewind {
  key: string;
  from: number;
  to: number;
  /** The time of the first sample that saw the earlier offset. */
  at: number;
}

/**
 * The newest rewind of each partition of the newest sample over roughly the last `windowMs`
 * (from the sample the rates start at, `partitionRates`): the rates across a rewind are
 * distorted by it, and it is told while they are. Each check looks, so every step is seen
 * by some check, and an incident tells it once. Within a block the stored differences share
 * one anchor, so they are compared as they are, without working out the offsets.
 */
export function rewindsIn(history: readonly GroupSample[], windowMs: number): Rewind[] {
  const newest = history[history.length - 1];
  if (!newest) return [];
  const start = rateStartIndex(history, windowMs);
  let found: Map<string, Rewind> | null = null;
  const note = (key: string, from: number, to: number, at: number): void => {
    found ??= new Map();
    found.set(key, { key, from, to, at });
  };
  for (let h = start + 1; h < history.length; h += 1) {
    const then = history[h - 1] as GroupSample;
    const now = history[h] as GroupSample;
    if (then instanceof CompactSample && now instanceof CompactSample && then.block === now.block) {
      const { data, missing, keys } = now.block;
      const width = 2 * keys.length;
      const a = then.slot * width;
      const b = now.slot * width;
      for (let i = 0; i < keys.length; i += 1) {
        const from = data[a + i] as number;
        const to = data[b + i] as number;
        if (to < from && to !== missing) note(keys[i] as string, now.block.value(then.slot, COMMITTED, i), now.block.value(now.slot, COMMITTED, i), now.at);
      }
      continue;
    }
    const index = then.keys === now.keys ? null : new Map(then.keys.map((k, i) => [k, i]));
    for (let i = 0; i < now.keys.length; i += 1) {
      const j = index ? (index.get(now.keys[i] as string) ?? -1) : i;
      if (j < 0) continue;
      const to = offsetAt(now, COMMITTED, i);
      const from = offsetAt(then, COMMITTED, j);
      // Comparisons with NaN are false: an unknown offset is no rewind.
      if (to < from) note(now.keys[i] as string, from, to, now.at);
    }
  }
  const rewinds: Map<string, Rewind> | null = found;
  if (rewinds === null) return [];
  return newest.keys.flatMap((key) => (rewinds as Map<string, Rewind>).get(key) ?? []);
}

/** The median of the finite values, NaN when there are none. */
export function medianOf(values: ArrayLike<number>): number {
  const known: number[] = [];
  for (let i = 0; i < values.length; i += 1) if (Number.isFinite(values[i])) known.push(values[i] as number);
  if (known.length === 0) return Number.NaN;
  known.sort((a, b) => a - b);
  const mid = known.length >> 1;
  return known.length % 2 === 1 ? (known[mid] as number) : ((known[mid - 1] as number) + (known[mid] as number)) / 2;
}
