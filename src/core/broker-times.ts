import { partitionKey, type GroupSample } from './history.js';
import type { GroupLag, PartitionLag } from './protocol.js';
import type { PartitionOffset, PartitionRef, RecordTime, RecordTimeSource, SkippedRange } from './record-time.js';
import { partitionStaleness, type PartitionTimes, type Staleness, type StalenessSettings } from './staleness.js';

/**
 * What lagbot asks the broker about time, and what it makes of the answers. Asking is
 * bounded by the caller (which partitions, how many); this module decides which partitions
 * an answer would change, and never lets a broker failure reach the lag figures: a missing
 * answer leaves the estimate as it was.
 */

/** Broker answers by partition key, as `estimateStaleness` reads them. */
export type BrokerTimes = ReadonlyMap<string, PartitionTimes>;

export const NO_BROKER_TIMES: BrokerTimes = new Map();

// No key string per partition when there is nothing to look up (most checks, 50,000 a check).
export const timesLookup =
  (times: BrokerTimes) =>
  (topic: string, partition: number): PartitionTimes | undefined =>
    times.size === 0 ? undefined : times.get(partitionKey(topic, partition));

/** What to ask about a group: exact times for its largest lags, anchors where the history cannot tell. */
export interface TimeAsks {
  exact: PartitionOffset[];
  anchors: PartitionRef[];
}

/** Each partition's answer in anchorAsks, read before the next is asked. */
const ASKED: Staleness = { seconds: null, method: null, idle: false };

/**
 * The partitions whose staleness the broker's anchors would change: lagging ones the history
 * does not reach back to (extrapolated or unknown), and, while the history is shorter than
 * the idle window, every lagging one (the newest record's age tells an idle topic at once).
 */
export function anchorAsks(lag: GroupLag, history: readonly GroupSample[], settings: StalenessSettings): PartitionRef[] {
  const oldest = history[0];
  const short = !oldest || lag.readAt - oldest.at < settings.idleAfterMs;
  const asks: PartitionRef[] = [];
  for (const p of lag.partitions) {
    if (p.lag === null || p.lag === 0 || p.committedOffset === null) continue;
    if (short || partitionStaleness(p, lag.readAt, history, settings, undefined, ASKED).method !== 'estimated') asks.push({ topic: p.topic, partition: p.partition });
  }
  return asks;
}

/** The group's `limit` largest lags, for the record at each committed offset. */
export function exactAsks(lag: GroupLag, limit: number): PartitionOffset[] {
  const asks: PartitionOffset[] = [];
  // Partitions come largest lag first.
  for (const p of lag.partitions) {
    if (asks.length >= limit) break;
    if (p.lag === null || p.lag === 0 || p.committedOffset === null || p.committedOffset < 0) continue;
    asks.push({ topic: p.topic, partition: p.partition, offset: p.committedOffset });
  }
  return asks;
}

/** How an exact answer reads as staleness input: a timestamp, caught up, or nothing to say. */
function exactOf(answer: RecordTime): Pick<PartitionTimes, 'exactTimestamp' | 'skipped' | 'caughtUp'> {
  if (answer.kind === 'record') return { exactTimestamp: answer.timestamp, skipped: answer.skipped };
  // Only markers or aborted records stand before the log end: nothing left to consume.
  if (answer.reason === 'at-log-end') return { caughtUp: true, skipped: 'transaction-markers' };
  return {};
}

/**
 * Ask one cluster's brokers, within `deadlineMs`. Whatever does not arrive in time, or fails,
 * is simply not in the answer; `onError` hears why.
 */
export async function askBrokerTimes(source: RecordTimeSource, asks: TimeAsks, deadlineMs: number, onError: (error: unknown) => void): Promise<BrokerTimes> {
  const times = new Map<string, PartitionTimes>();
  const entry = (ref: PartitionRef): PartitionTimes => {
    const key = partitionKey(ref.topic, ref.partition);
    let t = times.get(key);
    if (!t) times.set(key, (t = {}));
    return t;
  };
  const exact = asks.exact.length === 0 ? Promise.resolve() : source.recordsAt(asks.exact).then((answers) => answers.forEach((a, i) => Object.assign(entry(asks.exact[i] as PartitionRef), exactOf(a))));
  const anchors =
    asks.anchors.length === 0
      ? Promise.resolve()
      : source.anchors(asks.anchors).then((answers) => {
          for (const a of answers) {
            const t = entry(a);
            if (a.logStart.kind === 'record') t.logStart = { offset: a.logStart.offset, timestamp: a.logStart.timestamp };
            if (a.newest.kind === 'record') t.newest = { offset: a.newest.offset, timestamp: a.newest.timestamp };
          }
        });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
  try {
    await Promise.race([Promise.all([exact.catch(onError), anchors.catch(onError)]), deadline]);
  } finally {
    clearTimeout(timer);
  }
  // A late answer must not change a figure already shown: copy what arrived in time.
  return new Map([...times].map(([k, v]) => [k, { ...v }]));
}

/** A skipped range the exact figure stepped over, for the partition's note. */
export function skippedOf(p: PartitionLag, times: BrokerTimes): SkippedRange | null {
  return times.get(partitionKey(p.topic, p.partition))?.skipped ?? null;
}
