import { logEndsBack, seekLogEndAtOrBelow, type GroupSample, type LogEndSeek, type LogEndWalk } from './history.js';
import type { GroupLag, LagSecondsMethod, PartitionLag } from './protocol.js';
import type { SkippedRange } from './record-time.js';

/**
 * Lag in seconds: how old the oldest record a group has not consumed is. Offsets say how
 * much is left; seconds say how stale what the consumers serve is, which is what the case
 * study's team cared about.
 *
 * Three ways, each named where it is shown:
 * - `exact`: the timestamp of the record at the committed offset, fetched from the broker;
 * - `estimated`: when the log end passed the committed offset, interpolated over the log
 *   end's history lagbot keeps (Kafka Lag Exporter's method);
 * - `extrapolated`: the committed offset is older than the history; from the broker's
 *   timestamp of the log start's record, or else the produce rate the history shows.
 */

/** A record's offset and timestamp, as the broker tells it cheaply. */
export interface TimeAnchor {
  offset: number;
  timestamp: number;
}

/** What the broker said about a partition's time, where lagbot asked. */
export interface PartitionTimes {
  /** The log start's record. */
  logStart?: TimeAnchor | null;
  /** The record with the newest timestamp: old enough, and the topic is idle before lagbot could watch it for long. */
  newest?: TimeAnchor | null;
  /** The timestamp of the record at (or, compacted, after) the committed offset: the exact answer. */
  exactTimestamp?: number | null;
  /** The broker found only transaction markers or aborted records before the log end: nothing left to consume. */
  caughtUp?: boolean;
  /** What the exact answer stepped over to find its record. */
  skipped?: SkippedRange | null;
}

export interface Staleness {
  seconds: number | null;
  method: LagSecondsMethod | null;
  /** Nothing was produced for the whole idle window: 0 s stale whatever the offsets say. */
  idle: boolean;
}

export interface StalenessSettings {
  /** A partition whose log end stood still this long is idle. */
  idleAfterMs: number;
}

export const DEFAULT_STALENESS: StalenessSettings = { idleAfterMs: 5 * 60_000 };

const UNKNOWN: Staleness = Object.freeze({ seconds: null, method: null, idle: false }) as Staleness;
const CAUGHT_UP: Staleness = Object.freeze({ seconds: 0, method: 'estimated', idle: false }) as Staleness;
const EXACT_CAUGHT_UP: Staleness = Object.freeze({ seconds: 0, method: 'exact', idle: false }) as Staleness;
const IDLE: Staleness = Object.freeze({ seconds: 0, method: 'estimated', idle: true }) as Staleness;

/** partitionStaleness's walk and the readings it is handed, reused: it runs to the end before the next call starts. */
const WALK: LogEndWalk = { next: -1, keys: null, index: -1 };
/** The first readings are few: most partitions moved in the last one, and the rest of the walk is a seek. */
const FIRST_AT = new Float64Array(2);
const FIRST_END = new Float64Array(2);
const READ_AT = new Float64Array(16);
const READ_END = new Float64Array(16);
const SEEK: LogEndSeek = { at: NaN, end: NaN, newerAt: NaN, newerEnd: NaN, found: false };

/** No broker answer, one object for all: most partitions have none, twice a check each. */
const NO_TIMES: PartitionTimes = Object.freeze({});

const secondsBetween = (then: number, now: number): number => Math.max(0, Math.round((now - then) / 100) / 10);

/** A figure of a lagging partition, in `out` when the caller gave one (its loop reads it before the next call), else a new object. */
function figure(out: Staleness | undefined, seconds: number, method: LagSecondsMethod): Staleness {
  if (!out) return { seconds, method, idle: false };
  out.seconds = seconds;
  out.method = method;
  out.idle = false;
  return out;
}

/** estimateStaleness's answer of each partition, read before the next: with anchorAsks' 100,000 answers a check at 1,000 groups, 10 MB of garbage. */
const ANSWER: Staleness = { seconds: null, method: null, idle: false };

/**
 * When offset `offset` was appended, between two log-end readings: `before` at or below
 * it, `after` past it. The offsets in between arrived at an even pace, as far as lagbot knows.
 */
function appendedAt(offset: number, beforeAt: number, beforeEnd: number, afterAt: number, afterEnd: number): number {
  return beforeAt + ((offset - beforeEnd + 1) / (afterEnd - beforeEnd)) * (afterAt - beforeAt);
}

/**
 * One partition's staleness. `history` is the group's, oldest first; samples at or after
 * `readAt` are ignored (the monitor's history already holds this read, /lag's does not).
 */
export function partitionStaleness(
  p: Pick<PartitionLag, 'topic' | 'partition' | 'committedOffset' | 'logEndOffset' | 'lag'>,
  readAt: number,
  history: readonly GroupSample[],
  settings: StalenessSettings,
  times: PartitionTimes = NO_TIMES,
  /** Where to write a figure instead of a new object: a loop that reads each answer before asking the next. */
  out?: Staleness,
): Staleness {
  const committed = p.committedOffset;
  const logEnd = p.logEndOffset;
  if (committed === null || logEnd === null || p.lag === null) return UNKNOWN;
  // Caught up is 0 s, idle or not.
  if (p.lag === 0 || committed >= logEnd) return CAUGHT_UP;

  // Walk back over the log end's history: the first reading at or below the committed offset
  // and the one just newer bracket when the record at it arrived; the readings passed on the
  // way say whether the log moved at all in the idle window. (Plain numbers, no objects: this
  // runs for every lagging partition of every group each check. The readings come a block's
  // worth at a time, straight from the history's blocks.)
  let newerAt = readAt;
  let newerEnd = logEnd;
  let beforeAt = NaN;
  let beforeEnd = NaN;
  let afterAt = NaN;
  let afterEnd = NaN;
  let oldestAt = NaN;
  let oldestEnd = NaN;
  let moved = false;
  const walk = WALK;
  walk.next = history.length - 1;
  walk.keys = null;
  walk.index = -1;
  let readings = FIRST_AT;
  let readingEnds = FIRST_END;
  walking: while (walk.next >= 0) {
    const count = logEndsBack(history, p.topic, p.partition, readAt, walk, readings, readingEnds);
    for (let k = 0; k < count; k += 1) {
      const at = readings[k] as number;
      const end = readingEnds[k] as number;
      if (end !== logEnd) moved = true;
      else if (!moved && readAt - at >= settings.idleAfterMs) return IDLE;
      if (Number.isNaN(beforeAt) && end <= committed) {
        beforeAt = at;
        beforeEnd = end;
        afterAt = newerAt;
        afterEnd = newerEnd;
      }
      oldestAt = at;
      oldestEnd = end;
      if (!Number.isNaN(beforeAt) && moved) break walking;
      newerAt = at;
      newerEnd = end;
    }
    if (moved && walk.next >= 0) {
      // Moved, and nothing at or below the committed offset yet: from here on only the first
      // reading that is (the bracket) matters, or else the oldest (what extrapolating starts
      // from), so the rest is read without handing every reading over.
      const seek = SEEK;
      const read = seekLogEndAtOrBelow(history, p.topic, p.partition, readAt, walk, committed, seek);
      if (read > 0) {
        if (seek.found) {
          beforeAt = seek.at;
          beforeEnd = seek.end;
          afterAt = read > 1 ? seek.newerAt : newerAt;
          afterEnd = read > 1 ? seek.newerEnd : newerEnd;
        }
        oldestAt = seek.at;
        oldestEnd = seek.end;
      }
      break;
    }
    readings = READ_AT;
    readingEnds = READ_END;
  }
  walk.keys = null;

  // Not seen to move, and the newest record is older than the idle window: idle already.
  if (!moved && times.newest && readAt - times.newest.timestamp >= settings.idleAfterMs) return IDLE;
  if (times.caughtUp) return EXACT_CAUGHT_UP;
  if (times.exactTimestamp !== undefined && times.exactTimestamp !== null) return figure(out, secondsBetween(times.exactTimestamp, readAt), 'exact');

  if (!Number.isNaN(beforeAt)) {
    const at = afterEnd > beforeEnd ? appendedAt(committed, beforeAt, beforeEnd, afterAt, afterEnd) : afterAt;
    return figure(out, secondsBetween(at, readAt), 'estimated');
  }

  // The committed offset is older than every reading lagbot holds.
  const firstAt = Number.isNaN(oldestAt) ? readAt : oldestAt;
  const firstEnd = Number.isNaN(oldestAt) ? logEnd : oldestEnd;
  const logStart = times.logStart;
  // The log start's record made the log end one past it, at its timestamp.
  if (logStart && logStart.offset <= committed && logStart.timestamp <= firstAt && firstEnd > logStart.offset + 1) {
    const at = appendedAt(committed, logStart.timestamp, logStart.offset + 1, firstAt, firstEnd);
    return figure(out, secondsBetween(at, readAt), 'extrapolated');
  }
  if (!Number.isNaN(oldestAt) && readAt > oldestAt && logEnd > oldestEnd) {
    const perMs = (logEnd - oldestEnd) / (readAt - oldestAt);
    const at = oldestAt - (oldestEnd - committed - 1) / perMs;
    return figure(out, secondsBetween(logStart ? Math.max(at, logStart.timestamp) : at, readAt), 'extrapolated');
  }
  return UNKNOWN;
}

/** The group is as stale as its stalest partition. */
export function groupStaleness(partitions: readonly Pick<PartitionLag, 'lag' | 'lagSeconds' | 'lagSecondsMethod'>[]): { seconds: number | null; method: LagSecondsMethod | null } {
  let seconds: number | null = null;
  let method: LagSecondsMethod | null = null;
  let lagging = 0;
  let laggingKnown = 0;
  for (const p of partitions) {
    if ((p.lag ?? 0) > 0) {
      lagging++;
      if (p.lagSeconds !== undefined && p.lagSeconds !== null) laggingKnown++;
    }
    if (p.lagSeconds === undefined || p.lagSeconds === null) continue;
    if (seconds === null || p.lagSeconds > seconds) {
      seconds = p.lagSeconds;
      method = p.lagSecondsMethod ?? null;
    }
  }
  // A caught-up partition's 0 s says nothing about the ones behind it: when none of the
  // lagging partitions has a figure, the group's staleness is unknown, not 0 s.
  if (lagging > 0 && laggingKnown === 0) return { seconds: null, method: null };
  return { seconds, method };
}

/**
 * Every partition's staleness and the group's, written onto a read lagbot just made (the
 * read is its own; nothing else holds it yet). Returns the partitions found idle.
 */
export function estimateStaleness(
  lag: GroupLag,
  history: readonly GroupSample[],
  settings: StalenessSettings,
  timesOf: (topic: string, partition: number) => PartitionTimes | undefined = () => undefined,
): Set<PartitionLag> {
  const idle = new Set<PartitionLag>();
  for (const p of lag.partitions) {
    const times = timesOf(p.topic, p.partition);
    const s = partitionStaleness(p, lag.readAt, history, settings, times, ANSWER);
    p.lagSeconds = s.seconds;
    p.lagSecondsMethod = s.method;
    if (s.method === 'exact' && times?.skipped) p.lagSecondsSkipped = times.skipped;
    if (s.idle && (p.lag ?? 0) > 0) idle.add(p);
  }
  const group = groupStaleness(lag.partitions);
  lag.lagSeconds = group.seconds;
  lag.lagSecondsMethod = group.method;
  return idle;
}
