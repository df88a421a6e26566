import type { NoRecord, RecordTime, SkippedRange } from '../core/record-time.js';
import { kafkaError, type RawFetchPartition, type RawRecord } from './kafkajs-internals.js';

/** Kafka error codes a Fetch answers per partition that mean something here (the rest are `not-readable`). */
export const OFFSET_OUT_OF_RANGE = 1;
export const UNKNOWN_TOPIC_OR_PARTITION = 3;

/** What was passed over on the way from the offset asked, over one or more fetches. */
export interface Passed {
  markers: number;
  aborted: number;
}

export const NOTHING_PASSED: Passed = { markers: 0, aborted: 0 };

/**
 * What one partition's Fetch answer says about the record at or after `asked`, read from
 * `from` (later than `asked` when earlier fetches found only markers or aborted records):
 * `done` with the answer; `continue` from a later offset (everything read so far was
 * markers or aborted records, and the log goes on); `bigger` (nothing came back although
 * the log has records there: a record batch cut off by the size limit, or a batch that
 * compaction emptied); `out-of-range` (the offset is below the log start or past the end:
 * ListOffsets tells which).
 */
export type FetchStep =
  | { kind: 'done'; answer: RecordTime }
  | { kind: 'continue'; from: number; passed: Passed }
  | { kind: 'bigger' }
  | { kind: 'out-of-range' };

/** Kafka's name for an error code (NOT_LEADER_OR_FOLLOWER, ...), as kafkajs knows it. */
export function kafkaErrorName(code: number): string {
  return (kafkaError(code) as { type?: string }).type ?? `Kafka error ${code}`;
}

const num = (value: string | undefined): number => (value === undefined ? -1 : Number(value));

function none(reason: NoRecord['reason'], detail: string, figures: { logStartOffset?: number; logEndOffset?: number } = {}): FetchStep {
  return { kind: 'done', answer: { kind: 'none', reason, detail, ...figures } };
}

/**
 * The aborted-transaction filter of a read-committed consumer (Java's Fetcher does the
 * same): a producer's records count as aborted from the first offset of its aborted
 * transaction until its next control batch (the abort marker).
 */
class AbortedRanges {
  private readonly pending: Array<{ producerId: string; firstOffset: number }>;
  private readonly open = new Set<string>();

  constructor(aborted: RawFetchPartition['abortedTransactions']) {
    this.pending = (aborted ?? []).map((a) => ({ producerId: a.producerId, firstOffset: Number(a.firstOffset) })).sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** Whether `record` belongs to an aborted transaction; a control record closes its producer's. */
  isAborted(record: RawRecord, batchLast: number): boolean {
    while (this.pending.length > 0 && (this.pending[0]?.firstOffset ?? Infinity) <= batchLast) this.open.add(this.pending.shift()?.producerId ?? '');
    const { producerId, inTransaction, isControlBatch } = record.batchContext;
    if (isControlBatch) {
      this.open.delete(producerId);
      return false;
    }
    return inTransaction && this.open.has(producerId);
  }
}

function skippedOf(asked: number, found: number, passed: Passed): SkippedRange | null {
  if (found - asked > passed.markers + passed.aborted) return 'compacted';
  if (passed.aborted > 0) return 'aborted';
  if (passed.markers > 0) return 'transaction-markers';
  return null;
}

export function readFetched(asked: number, from: number, before: Passed, answer: RawFetchPartition): FetchStep {
  if (answer.errorCode === OFFSET_OUT_OF_RANGE) return { kind: 'out-of-range' };
  if (answer.errorCode === UNKNOWN_TOPIC_OR_PARTITION) return none('unknown-partition', 'UNKNOWN_TOPIC_OR_PARTITION');
  if (answer.errorCode !== 0) return none('not-readable', kafkaErrorName(answer.errorCode));

  const highWatermark = num(answer.highWatermark);
  const stable = num(answer.lastStableOffset);
  // Read committed: a consumer reads up to the last stable offset, not past an open transaction.
  const end = stable >= 0 ? stable : highWatermark;
  const logStart = num(answer.lastStartOffset);
  const figures = { logEndOffset: end, ...(logStart >= 0 ? { logStartOffset: logStart } : {}) };
  const atEnd = (passedSome: boolean) =>
    none(
      'at-log-end',
      highWatermark > end
        ? `an open transaction holds offsets ${end} to ${highWatermark}`
        : passedSome
          ? 'only transaction markers or aborted records before the log end'
          : 'caught up',
      figures,
    );
  if (from >= end) return atEnd(from > asked);

  const aborted = new AbortedRanges(answer.abortedTransactions);
  let markers = before.markers;
  let abortedCount = before.aborted;
  let readUpTo = from - 1;
  for (const record of answer.messages) {
    const offset = Number(record.offset);
    const batchLast = Number(record.batchContext.firstOffset) + record.batchContext.lastOffsetDelta;
    readUpTo = Math.max(readUpTo, batchLast);
    const isAborted = aborted.isAborted(record, batchLast);
    // The batch holding `from` comes whole, records before it included.
    if (offset < from) continue;
    if (record.batchContext.isControlBatch || record.isControlRecord) {
      markers += 1;
      continue;
    }
    if (isAborted) {
      abortedCount += 1;
      continue;
    }
    return {
      kind: 'done',
      answer: {
        kind: 'record',
        offset,
        timestamp: Number(record.timestamp),
        timestampType: record.batchContext.timestampType === 1 ? 'log-append' : 'create',
        skipped: skippedOf(asked, offset, { markers, aborted: abortedCount }),
      },
    };
  }
  if (readUpTo < from) return { kind: 'bigger' };
  if (readUpTo + 1 >= end) return atEnd(true);
  return { kind: 'continue', from: readUpTo + 1, passed: { markers, aborted: abortedCount } };
}
