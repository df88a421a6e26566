import { keyIndexIn, logEndAt, type GroupSample } from '../../src/core/history.js';
import type { PartitionLag } from '../../src/core/protocol.js';
import type { PartitionTimes, Staleness, StalenessSettings } from '../../src/core/staleness.js';

/**
 * partitionStaleness as it was before issue 11 made it cheap: a walk back over the history
 * sample by sample, through the samples' getters and logEndAt. Kept only here, as the
 * reference the fast one must equal (staleness-equivalence.test.ts).
 */

const UNKNOWN: Staleness = Object.freeze({ seconds: null, method: null, idle: false }) as Staleness;
const CAUGHT_UP: Staleness = Object.freeze({ seconds: 0, method: 'estimated', idle: false }) as Staleness;
const EXACT_CAUGHT_UP: Staleness = Object.freeze({ seconds: 0, method: 'exact', idle: false }) as Staleness;
const IDLE: Staleness = Object.freeze({ seconds: 0, method: 'estimated', idle: true }) as Staleness;

const secondsBetween = (then: number, now: number): number => Math.max(0, Math.round((now - then) / 100) / 10);

function appendedAt(offset: number, beforeAt: number, beforeEnd: number, afterAt: number, afterEnd: number): number {
  return beforeAt + ((offset - beforeEnd + 1) / (afterEnd - beforeEnd)) * (afterAt - beforeAt);
}

export function referenceStaleness(
  p: Pick<PartitionLag, 'topic' | 'partition' | 'committedOffset' | 'logEndOffset' | 'lag'>,
  readAt: number,
  history: readonly GroupSample[],
  settings: StalenessSettings,
  times: PartitionTimes = {},
): Staleness {
  const committed = p.committedOffset;
  const logEnd = p.logEndOffset;
  if (committed === null || logEnd === null || p.lag === null) return UNKNOWN;
  // Caught up is 0 s, idle or not.
  if (p.lag === 0 || committed >= logEnd) return CAUGHT_UP;

  // Walk back over the log end's history: the first reading at or below the committed offset
  // and the one just newer bracket when the record at it arrived; the readings passed on the
  // way say whether the log moved at all in the idle window. (Plain numbers, no objects: this
  // runs for every lagging partition of every group each check.)
  let newerAt = readAt;
  let newerEnd = logEnd;
  let beforeAt = NaN;
  let beforeEnd = NaN;
  let afterAt = NaN;
  let afterEnd = NaN;
  let oldestAt = NaN;
  let oldestEnd = NaN;
  let moved = false;
  let keys: readonly string[] | null = null;
  let index = -1;
  for (let h = history.length - 1; h >= 0; h -= 1) {
    const s = history[h] as GroupSample;
    if (s.at >= readAt) continue;
    if (s.keys !== keys) {
      keys = s.keys;
      index = keyIndexIn(s, p.topic, p.partition, index);
    }
    if (index < 0) break;
    const end = logEndAt(s, index);
    if (!Number.isFinite(end)) break;
    if (end !== logEnd) moved = true;
    else if (!moved && readAt - s.at >= settings.idleAfterMs) return IDLE;
    if (Number.isNaN(beforeAt) && end <= committed) {
      beforeAt = s.at;
      beforeEnd = end;
      afterAt = newerAt;
      afterEnd = newerEnd;
    }
    oldestAt = s.at;
    oldestEnd = end;
    if (!Number.isNaN(beforeAt) && moved) break;
    newerAt = s.at;
    newerEnd = end;
  }

  // Not seen to move, and the newest record is older than the idle window: idle already.
  if (!moved && times.newest && readAt - times.newest.timestamp >= settings.idleAfterMs) return IDLE;
  if (times.caughtUp) return EXACT_CAUGHT_UP;
  if (times.exactTimestamp !== undefined && times.exactTimestamp !== null) return { seconds: secondsBetween(times.exactTimestamp, readAt), method: 'exact', idle: false };

  if (!Number.isNaN(beforeAt)) {
    const at = afterEnd > beforeEnd ? appendedAt(committed, beforeAt, beforeEnd, afterAt, afterEnd) : afterAt;
    return { seconds: secondsBetween(at, readAt), method: 'estimated', idle: false };
  }

  // The committed offset is older than every reading lagbot holds.
  const firstAt = Number.isNaN(oldestAt) ? readAt : oldestAt;
  const firstEnd = Number.isNaN(oldestAt) ? logEnd : oldestEnd;
  const logStart = times.logStart;
  // The log start's record made the log end one past it, at its timestamp.
  if (logStart && logStart.offset <= committed && logStart.timestamp <= firstAt && firstEnd > logStart.offset + 1) {
    const at = appendedAt(committed, logStart.timestamp, logStart.offset + 1, firstAt, firstEnd);
    return { seconds: secondsBetween(at, readAt), method: 'extrapolated', idle: false };
  }
  if (!Number.isNaN(oldestAt) && readAt > oldestAt && logEnd > oldestEnd) {
    const perMs = (logEnd - oldestEnd) / (readAt - oldestAt);
    const at = oldestAt - (oldestEnd - committed - 1) / perMs;
    return { seconds: secondsBetween(logStart ? Math.max(at, logStart.timestamp) : at, readAt), method: 'extrapolated', idle: false };
  }
  return UNKNOWN;
}
