import { blockMemory } from './block-memory.js';
import { completeTotal } from './lag.js';
import type { GroupLag, GroupState, PartitionLag } from './protocol.js';

/**
 * One check's reading of a group. An hour of 30-second samples for every partition of
 * every group has to fit in memory (1,000 groups over 10,000 partitions is 6 million
 * partition-samples), so samples made by `sampleOf` keep their offsets in shared blocks:
 * see SampleBlock, and LogEnds for the log ends, held once per cluster and check. The
 * partition key list is shared between samples while it is unchanged.
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

/**
 * The previous sample's keys when they are those of `ordered`: the key strings are made only
 * when the partitions changed, and then taken from the cluster's LogEnds where it has them
 * (one string per partition, not one per group reading it).
 */
function keysOf(ordered: readonly PartitionLag[], previous: GroupSample | undefined, ends: LogEnds | undefined): readonly string[] {
  const known = previous?.keys;
  if (known && known.length === ordered.length && ordered.every((p, i) => isKeyOf(known[i] as string, p.topic, p.partition))) return known;
  return ordered.map((p) => ends?.keyOf(p.topic, p.partition) ?? partitionKey(p.topic, p.partition));
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
 * Up to 16 rows of offsets, stored as integer differences from the first row (its anchor,
 * kept as float64). Offsets grow slowly against their size, so a difference usually fits 8
 * or 16 bits and always 32: 1 to 4 bytes per offset instead of 8, and one allocation per
 * 16 rows instead of one per row (a typed array costs several hundred bytes of bookkeeping
 * besides its data). Lossless: a value the width cannot hold (too far from the anchor, not
 * an integer, known where the anchor was not) is kept as it is, aside (`wide`), when few
 * of a row's are; otherwise it starts a new block, wider. Aside, one busy partition does
 * not widen every other one's (a LogEnds block holds a whole cluster's).
 */
class DeltaBlock {
  /** Rows written; rows only ever append, so a written row never changes. */
  count = 0;
  /** Largest difference written in `data`, to pick the next block's width. */
  maxDelta = 0;
  /** A row had too many values this width could not hold. */
  overflowed = false;
  /** Values per row. */
  readonly stride: number;
  /** `head` numbers of the subclass's own (a sample block's times), then the first row. */
  readonly floats: Float64Array;
  readonly head: number;
  readonly data: Int8Array | Int16Array | Int32Array;
  /** The width's most negative value, standing for "unknown" (NaN). */
  readonly missing: number;
  /** The next one, standing for "in `wide`". */
  readonly aside: number;
  readonly limit: number;
  /** The values held aside, by position in the row, then by row. */
  private wide: Map<number, number[]> | null = null;

  /** `first`: the first row, its first `stride` values. */
  constructor(first: Float64Array, stride: number, readonly width: Width, head = 0) {
    // Anchor and differences in one buffer, the head's numbers too: one allocation per
    // block, and two objects (a typed array and its buffer) besides the block's own.
    this.stride = stride;
    this.head = head;
    const size = BLOCK_SAMPLES * stride;
    const floats = head + stride;
    const { buffer, offset } = blockMemory(8 * floats + width * size);
    this.floats = new Float64Array(buffer, offset, floats);
    for (let j = 0; j < stride; j += 1) this.floats[head + j] = first[j] as number;
    const at = offset + 8 * floats;
    this.data = width === 4 ? new Int32Array(buffer, at, size) : width === 2 ? new Int16Array(buffer, at, size) : new Int8Array(buffer, at, size);
    this.limit = LIMIT[width];
    this.missing = -this.limit - 1;
    this.aside = -this.limit;
  }

  /** The difference `data` holds for `v` at position j, or null when it must go aside. */
  private deltaOf(v: number, j: number): number | null {
    const d = v - (this.floats[this.head + j] as number);
    // NaN when the anchor was unknown; a fraction never comes from Kafka, but stays exact.
    return Number.isInteger(d) && d > this.aside && d <= this.limit ? d : null;
  }

  /** Write the first `stride` of `values` into the next row; false (nothing written) when the block is full or too many would go aside. */
  append(values: Float64Array): boolean {
    if (this.count >= BLOCK_SAMPLES) return false;
    // A sixteenth of a row aside at most: past that a wider block is smaller.
    let asideCount = 0;
    for (let j = 0; j < this.stride; j += 1) {
      const v = values[j] as number;
      if (!Number.isNaN(v) && this.deltaOf(v, j) === null) asideCount += 1;
    }
    if (asideCount > this.stride / 16) {
      this.overflowed = true;
      return false;
    }
    const base = this.count * this.stride;
    for (let j = 0; j < this.stride; j += 1) {
      const v = values[j] as number;
      if (Number.isNaN(v)) {
        this.data[base + j] = this.missing;
        continue;
      }
      const d = asideCount === 0 ? v - (this.floats[this.head + j] as number) : this.deltaOf(v, j);
      if (d === null) {
        this.data[base + j] = this.aside;
        this.wide ??= new Map();
        let column = this.wide.get(j);
        if (!column) this.wide.set(j, (column = []));
        column[this.count] = v;
        continue;
      }
      const abs = d < 0 ? -d : d;
      if (abs > this.maxDelta) this.maxDelta = abs;
      this.data[base + j] = d;
    }
    this.count += 1;
    return true;
  }

  value(row: number, j: number): number {
    const d = this.data[row * this.stride + j] as number;
    if (d === this.missing) return Number.NaN;
    if (d === this.aside) return (this.wide?.get(j) as number[])[row] as number;
    return (this.floats[this.head + j] as number) + d;
  }
}

/**
 * The next block's width: 16 bits for a first block; one step wider after a row had too
 * many values the width could not hold; otherwise the narrowest the previous block's
 * differences would have fitted (idle partitions, the many that barely move, take one byte
 * an offset).
 */
function nextWidth(previous: DeltaBlock | null): Width {
  if (!previous) return 2;
  if (previous.overflowed) return previous.width === 1 ? 2 : 4;
  return previous.maxDelta <= LIMIT[1] - 1 ? 1 : previous.maxDelta <= LIMIT[2] - 1 ? 2 : 4;
}

/** Equal offsets, an unknown (NaN) equal to an unknown. */
const sameOffset = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

/** What LogEnds takes of a read: a GroupLag, or a stored sample's partitions. */
export interface LogEndRead {
  partitions: ReadonlyArray<Pick<PartitionLag, 'topic' | 'partition' | 'logEndOffset'>>;
}

/** A block of LogEnds: one row per check, one column per partition of the cluster read then. */
class LogEndBlock extends DeltaBlock {
  constructor(
    readonly keys: readonly string[],
    first: Float64Array,
    width: Width,
  ) {
    super(first, keys.length, width);
  }
}

/**
 * The log end offsets of one cluster's partitions at each check, held once however many
 * groups read a partition. The groups of a check share one ListOffsets read, and a topic
 * is often consumed by several groups (five per partition in the benchmark, where the log
 * ends were as much of the history as all the committed offsets). `record` takes a check's
 * reads before their samples are made; a sample then refers to its check's row instead of
 * keeping its own log ends, when the row holds every one of them with the same value.
 * Otherwise (another read time, a partition not recorded, a differing value) the sample
 * keeps its own: lossless either way. Only the newest row is offered, so the table holds
 * one block; older blocks live as long as samples refer to them.
 */
export class LogEnds {
  /** `topic\0partition` of each column, sorted; replaced (not changed) when partitions change. */
  private keys: readonly string[] = [];
  /** topic → partition → column, so that a read finds its column without making a key string. */
  private columns = new Map<string, Map<number, number>>();
  private block: LogEndBlock | null = null;
  private at = Number.NaN;

  /** The log ends of these reads, all made at `at`. A partition read twice keeps its first value: a read that differs keeps its own. */
  record(at: number, reads: readonly LogEndRead[]): void {
    let values: Float64Array = new Float64Array(this.keys.length).fill(Number.NaN);
    const seen = new Uint8Array(this.keys.length);
    let unseen = this.keys.length;
    let changed = false;
    for (const lag of reads) {
      for (const p of lag.partitions) {
        const column = this.columns.get(p.topic)?.get(p.partition);
        if (column === undefined) changed = true;
        else if (seen[column] === 0) {
          seen[column] = 1;
          unseen -= 1;
          values[column] = p.logEndOffset ?? Number.NaN;
        }
      }
    }
    // Partitions came or went (rare): new columns, the old key strings kept for those that stay.
    if (changed || unseen > 0) values = this.rekey(reads);
    const block = this.block && this.block.keys === this.keys ? this.block : null;
    if (block && block.append(values)) {
      this.at = at;
      return;
    }
    this.block = new LogEndBlock(this.keys, values, nextWidth(block));
    this.block.append(values);
    this.at = at;
  }

  private rekey(reads: readonly LogEndRead[]): Float64Array {
    const byTopic = new Map<string, Map<number, number>>();
    for (const lag of reads) {
      for (const p of lag.partitions) {
        let partitions = byTopic.get(p.topic);
        if (!partitions) byTopic.set(p.topic, (partitions = new Map()));
        if (!partitions.has(p.partition)) partitions.set(p.partition, p.logEndOffset ?? Number.NaN);
      }
    }
    const keys: string[] = [];
    const ends: number[] = [];
    const columns = new Map<string, Map<number, number>>();
    for (const topic of [...byTopic.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const partitions = byTopic.get(topic) as Map<number, number>;
      const topicColumns = new Map<number, number>();
      columns.set(topic, topicColumns);
      for (const partition of [...partitions.keys()].sort((a, b) => a - b)) {
        const old = this.columns.get(topic)?.get(partition);
        topicColumns.set(partition, keys.length);
        keys.push(old === undefined ? partitionKey(topic, partition) : (this.keys[old] as string));
        ends.push(partitions.get(partition) as number);
      }
    }
    this.keys = keys;
    this.columns = columns;
    return Float64Array.from(ends);
  }

  /** The newest row, if it was read at `at`. */
  rowAt(at: number): { block: LogEndBlock; row: number } | null {
    return this.block && this.at === at ? { block: this.block, row: this.block.count - 1 } : null;
  }

  /** The column of each of `keys` in `block` (-1: not there). */
  columnsOf(keys: readonly string[], block: LogEndBlock): Int32Array {
    if (block.keys !== this.keys) return new Int32Array(keys.length).fill(-1);
    // Held as long as the block: from the blocks' memory, as the block's own numbers are.
    const { buffer, offset } = blockMemory(4 * keys.length);
    const columns = new Int32Array(buffer, offset, keys.length);
    keys.forEach((key, i) => {
      const { topic, partition } = splitKey(key);
      columns[i] = this.columns.get(topic)?.get(partition) ?? -1;
    });
    return columns;
  }

  /** The table's own string for this partition's key, if it has the partition: a key string per cluster, not per group reading it. */
  keyOf(topic: string, partition: number): string | undefined {
    const column = this.columns.get(topic)?.get(partition);
    return column === undefined ? undefined : this.keys[column];
  }
}

/**
 * Consecutive samples of one group with the same keys. Its rows are the committed offsets
 * then the log end offsets of each sample; or, when the samples' log ends are in a LogEnds
 * row (`ends`), the committed offsets only, the log ends read from there.
 */
class SampleBlock extends DeltaBlock {
  /**
   * The row of `ends` holding slot 0's log ends; slot s's are in row endRow + s. Consecutive
   * on purpose: one number per block rather than an array (an array and its elements are a
   * few hundred bytes, and there are thousands of blocks).
   */
  endRow = 0;

  constructor(
    readonly keys: readonly string[],
    first: Float64Array,
    width: Width,
    /** Where the log ends are, null: in this block. */
    readonly ends: LogEndBlock | null = null,
    /** The column of `ends` of each key. */
    readonly endColumns: Int32Array | null = null,
  ) {
    // The head holds each slot's sample time: a number field on the sample would be a heap number of its own per sample, an array a few hundred bytes per block.
    super(first, ends ? keys.length : 2 * keys.length, width, BLOCK_SAMPLES);
  }

  time(slot: number): number {
    return this.floats[slot] as number;
  }

  setTime(slot: number, at: number): void {
    this.floats[slot] = at;
  }

  offset(slot: number, column: Column, i: number): number {
    if (column === COMMITTED) return this.value(slot, i);
    if (this.ends) return this.ends.value(this.endRow + slot, (this.endColumns as Int32Array)[i] as number);
    return this.value(slot, this.keys.length + i);
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
    return this.block.time(this.slot);
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
    for (let i = 0; i < out.length; i += 1) out[i] = this.block.offset(this.slot, column, i);
    return out;
  }
}

/** One offset of a sample, without building the whole array. */
function offsetAt(sample: GroupSample, column: Column, i: number): number {
  if (sample instanceof CompactSample) return sample.block.offset(sample.slot, column, i);
  return (column === COMMITTED ? sample.committed : sample.logEnd)[i] as number;
}

/**
 * What holds a sample's log ends: the LogEnds block of its check when they are shared with
 * the cluster's other groups, null when the sample keeps its own (tests and diagnostics).
 */
export const logEndHolder = (sample: GroupSample): object | null => (sample instanceof CompactSample ? sample.block.ends : null);

/** A partition's log end offset in a sample (NaN: unknown). */
export const logEndAt = (sample: GroupSample, index: number): number => offsetAt(sample, LOG_END, index);

/** A partition's committed offset in a sample (NaN: unknown). */
export const committedAt = (sample: GroupSample, index: number): number => offsetAt(sample, COMMITTED, index);

/**
 * Where `topic\0partition` sorts against `key`, as the key lists are sorted (topic by UTF-16
 * code units, as `<` compares strings, then partition by number), without making the string.
 * NaN when the key has no partition number after its topic.
 */
function compareToKey(key: string, topic: string, partition: number): number {
  const cut = topic.length;
  // Most keys a search meets are of the same topic: their partition decides.
  if (key.length > cut + 1 && key.charCodeAt(cut) === 0 && key.startsWith(topic)) return partition - partitionIn(key, cut + 1);
  const keyCut = key.lastIndexOf('\u0000');
  if (keyCut < 0) return Number.NaN;
  const shorter = Math.min(keyCut, cut);
  for (let i = 0; i < shorter; i += 1) {
    const d = topic.charCodeAt(i) - key.charCodeAt(i);
    if (d !== 0) return d;
  }
  return cut - keyCut;
}

/** The decimal number from `from` to the end of `key`; NaN when anything else is there. */
function partitionIn(key: string, from: number): number {
  let n = 0;
  for (let i = from; i < key.length; i += 1) {
    const digit = key.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    n = n * 10 + digit;
  }
  return n;
}

/**
 * keyIndexIn without a hint: where a partition first is in `keys` (-1: not there). A key
 * list is sorted (sampleOf, LogEnds), so a binary search finds it without a key string or
 * an index of the list: the first lookup of every partitionStaleness call comes here, and
 * an index rebuilt for each group's list was 7 MB of garbage a check at 1,000 groups. A list
 * out of order, or a partition the search misses, is scanned from the start.
 */
function firstKeyIndex(keys: readonly string[], topic: string, partition: number): number {
  if (Number.isSafeInteger(partition) && partition >= 0) {
    let low = 0;
    let high = keys.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const c = compareToKey(keys[mid] as string, topic, partition);
      if (c > 0) low = mid + 1;
      else if (c < 0) high = mid - 1;
      else {
        if (c !== 0 || !isKeyOf(keys[mid] as string, topic, partition)) break;
        let first = mid;
        while (first > 0 && keys[first - 1] === keys[mid]) first -= 1;
        return first;
      }
    }
  }
  for (let i = 0; i < keys.length; i += 1) if (isKeyOf(keys[i] as string, topic, partition)) return i;
  return -1;
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
    // The partition is looked up once per run of samples of one block (they share its keys).
    let located = false;
    let sample: CompactSample = s;
    for (;;) {
      const slot = sample.slot;
      const t = block.time(slot);
      if (!(t >= readAt)) {
        if (!located) {
          if (block.keys !== walk.keys) {
            walk.index = walk.keys === null ? firstKeyIndex(block.keys, topic, partition) : keyIndexIn(sample, topic, partition, walk.index);
            walk.keys = block.keys;
          }
          if (walk.index < 0) return ended(walk, written);
          located = true;
        }
        const e = block.offset(slot, LOG_END, walk.index);
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
    // The partition is looked up once per run of samples of one block (they share its keys).
    let located = false;
    let sample: CompactSample = s;
    for (;;) {
      const slot = sample.slot;
      const t = block.time(slot);
      if (!(t >= readAt)) {
        if (!located) {
          if (block.keys !== walk.keys) {
            walk.index = walk.keys === null ? firstKeyIndex(block.keys, topic, partition) : keyIndexIn(sample, topic, partition, walk.index);
            walk.keys = block.keys;
          }
          if (walk.index < 0) break walking;
          located = true;
        }
        const e = block.offset(slot, LOG_END, walk.index);
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
 * Make a sample of a read; reuses the previous sample's key list (and block) when nothing
 * changed. `afterGap`: checks were missed since `previous`. `ends`: the cluster's log ends,
 * where the read's own are held when that check recorded them.
 */
export function sampleOf(lag: GroupLag, previous?: GroupSample, afterGap = false, ends?: LogEnds): GroupSample {
  const ordered = [...lag.partitions].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  const n = ordered.length;
  const values = new Float64Array(2 * n);
  ordered.forEach((p, i) => {
    values[i] = p.committedOffset ?? Number.NaN;
    values[n + i] = p.logEndOffset ?? Number.NaN;
  });
  const memberIds = lag.membersVisible && lag.members.length > 0 ? lag.members.map((m) => m.memberId).sort() : NO_MEMBERS;
  return sampleFrom({ at: lag.readAt, state: lag.state, memberIds, totalLag: completeTotal(lag), afterGap, keys: keysOf(ordered, previous, ends), values }, previous, ends);
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
      values[i] = sample.block.offset(sample.slot, COMMITTED, i);
      values[n + i] = sample.block.offset(sample.slot, LOG_END, i);
    }
  } else {
    values.set(sample.committed, 0);
    values.set(sample.logEnd, n);
  }
  return { at: sample.at, state: sample.state, memberIds: sample.memberIds, totalLag: sample.totalLag, afterGap: sample.afterGap, keys: sample.keys, values };
}

/**
 * Build the next sample of a group; reuses the previous sample's key list (and block) when
 * nothing changed. `ends`: the cluster's log ends, see sampleOf.
 */
export function sampleFrom(record: SampleRecord, previous?: GroupSample, ends?: LogEnds): GroupSample {
  const keys = previous && sameKeys(previous.keys, record.keys) ? previous.keys : record.keys;
  const memberIds = record.memberIds.length === 0 ? NO_MEMBERS : previous && sameKeys(previous.memberIds, record.memberIds) ? previous.memberIds : record.memberIds;
  const values = record.values;

  // Only the newest sample of a block may extend it: a second sample made from the same
  // previous one must not take (and overwrite) the slot the first one holds.
  const previousBlock = previous instanceof CompactSample ? previous.block : null;
  const shared = ends ? sharedRow(ends, record.at, keys, values, previousBlock) : null;
  const endBlock = shared ? shared.block : null;
  const last =
    previousBlock &&
    previousBlock.keys === keys &&
    previousBlock.ends === endBlock &&
    (!shared || shared.row === previousBlock.endRow + previousBlock.count) &&
    previous instanceof CompactSample &&
    previous.slot === previousBlock.count - 1
      ? previousBlock
      : null;
  let block = last;
  // With the log ends shared the block's rows are the committed offsets only, the first half of `values`.
  if (!block || !block.append(values)) {
    block = new SampleBlock(keys, values, nextWidth(previousBlock), endBlock, shared ? shared.columns : null);
    block.append(values);
  }
  if (shared && block.count === 1) block.endRow = shared.row;
  block.setTime(block.count - 1, record.at);
  return new CompactSample(stateOf(record.state), memberIds, record.totalLag, block, block.count - 1, record.afterGap);
}

/**
 * The row of `ends` holding this sample's log ends (the second half of `values`), if it holds
 * every one of them with the same value. The columns are the previous block's while neither
 * its keys nor the table's changed.
 */
function sharedRow(
  ends: LogEnds,
  at: number,
  keys: readonly string[],
  values: Float64Array,
  previousBlock: SampleBlock | null,
): { block: LogEndBlock; row: number; columns: Int32Array } | null {
  const found = ends.rowAt(at);
  if (!found) return null;
  const { block, row } = found;
  const reuse = previousBlock && previousBlock.keys === keys && previousBlock.ends?.keys === block.keys ? previousBlock.endColumns : null;
  const columns = reuse ?? ends.columnsOf(keys, block);
  const n = keys.length;
  for (let i = 0; i < n; i += 1) {
    const column = columns[i] as number;
    if (column < 0 || !sameOffset(block.value(row, column), values[n + i] as number)) return null;
  }
  return { block, row, columns };
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
  const keys = now.keys;
  let sum = 0;
  // The samples of a history share one key list while its partitions stay the same: a plain
  // loop then, which /lag of a 1,000-partition group runs 240,000 times (stepRates).
  if (then.keys === keys) {
    for (let i = 0; i < keys.length; i += 1) {
      const delta = offsetAt(now, column, i) - offsetAt(then, column, i);
      if (Number.isFinite(delta)) sum += delta;
    }
    return sum;
  }
  const index = new Map(then.keys.map((k, i) => [k, i]));
  for (let i = 0; i < keys.length; i += 1) {
    const j = index.get(keys[i] as string);
    if (j === undefined) continue;
    const delta = offsetAt(now, column, i) - offsetAt(then, column, j);
    if (Number.isFinite(delta)) sum += delta;
  }
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

/** The group's produce and consume rate over each step of its history, oldest first. Read only: answers are shared. */
export interface StepRates {
  producePerSec: Float64Array;
  consumePerSec: Float64Array;
}

/**
 * The last few stepRates answers, by the history they were worked out from. A history only
 * grows at its end and drops at its start, so the same first and newest sample and length
 * mean the same samples. Several /lag of one group between two checks (an incident's
 * responders, the thread's refresh) then work out the hour's baseline once, not each.
 */
const STEP_RATES_KEPT = 8;
const stepRatesKept: Array<{ first: GroupSample; newest: GroupSample; length: number; rates: StepRates }> = [];

/**
 * The group's produce and consume rate over each step between two samples, oldest first:
 * the baseline a rate of now is compared with. Partitions known at both ends only.
 */
export function stepRates(history: readonly GroupSample[]): StepRates {
  const first = history[0];
  const newest = history[history.length - 1];
  const kept = stepRatesKept.find((k) => k.first === first && k.newest === newest && k.length === history.length);
  if (kept) return kept.rates;
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
  const rates = { producePerSec, consumePerSec };
  if (first && newest) {
    if (stepRatesKept.length >= STEP_RATES_KEPT) stepRatesKept.shift();
    stepRatesKept.push({ first, newest, length: history.length, rates });
  }
  return rates;
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
      const { data, missing, aside, keys, stride } = now.block;
      // The committed offsets come first in a row, whether or not the log ends follow.
      const a = then.slot * stride;
      const b = now.slot * stride;
      for (let i = 0; i < keys.length; i += 1) {
        const from = data[a + i] as number;
        const to = data[b + i] as number;
        if (from === aside || to === aside) {
          // Held aside as they are: compared as offsets (NaN compares false).
          const was = now.block.offset(then.slot, COMMITTED, i);
          const is = now.block.offset(now.slot, COMMITTED, i);
          if (is < was) note(keys[i] as string, was, is, now.at);
        } else if (to < from && to !== missing) note(keys[i] as string, now.block.offset(then.slot, COMMITTED, i), now.block.offset(now.slot, COMMITTED, i), now.at);
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
