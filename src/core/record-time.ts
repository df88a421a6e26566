/**
 * What the broker can tell about time, as the core asks for it: the record a group will
 * read next (its timestamp makes the exact lag in seconds), and the cheap anchors of each
 * partition (the log start's record and the newest one) that bound an estimate. Plain data
 * only; the Kafka adapter (src/kafka/record-times.ts) implements the port.
 */

export interface PartitionRef {
  topic: string;
  partition: number;
}

/** A partition and the offset asked about (a group's committed offset: the next record it reads). */
export interface PartitionOffset extends PartitionRef {
  offset: number;
}

/** Kafka's timestamp types: set by the producer (CreateTime) or by the broker on append (LogAppendTime). */
export type TimestampType = 'create' | 'log-append';

/**
 * Why the record found is not at the offset asked:
 * `compacted`: offsets in between are gone from the log (compaction); the record found is
 * the next one the consumer will read.
 * `transaction-markers`: commit or abort markers (control batches) sat in between.
 * `aborted`: records of aborted transactions sat in between; a read-committed consumer skips them.
 * When more than one applies, `compacted` wins: it is the one that hides data.
 */
export type SkippedRange = 'compacted' | 'transaction-markers' | 'aborted';

export interface RecordFound {
  kind: 'record';
  /** The offset of the record found, at or after the offset asked. */
  offset: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  timestampType: TimestampType;
  skipped: SkippedRange | null;
}

/**
 * No record to time:
 * `at-log-end`: nothing to read at or after the offset (the group is caught up; transaction
 * markers, or an open transaction, may remain before the log end).
 * `below-log-start`: the offset was deleted (retention, deleteRecords); `logStartOffset` says where the log starts.
 * `above-log-end`: the offset is past the log end (a topic deleted and created again, or a truncated log).
 * `unknown-partition`: the topic or partition does not exist.
 * `not-readable`: the leader is down or unreachable, the partition has no leader, or the
 * broker answered an error; `detail` names it (a Kafka error name or the failure).
 * `over-budget`: not fetched, because the call reached its cap on fetches.
 */
export type NoRecordReason = 'at-log-end' | 'below-log-start' | 'above-log-end' | 'unknown-partition' | 'not-readable' | 'over-budget';

export interface NoRecord {
  kind: 'none';
  reason: NoRecordReason;
  /** For logs and debugging: a Kafka error name, a broker id, a bound reached. Not for Slack as is. */
  detail: string;
  /** Where the broker said the log starts or ends, when it said. */
  logStartOffset?: number;
  logEndOffset?: number;
}

export type RecordTime = RecordFound | NoRecord;

/** An anchor record: its offset and timestamp. */
export interface AnchorRecord {
  kind: 'record';
  offset: number;
  timestamp: number;
}

/**
 * No anchor: `empty` (no record with a timestamp: an empty log), `not-supported` (the
 * broker cannot answer it: the newest record's needs ListOffsets v7, Kafka 3.0+),
 * `unknown-partition`, or `not-readable` as for records.
 */
export interface NoAnchor {
  kind: 'none';
  reason: 'empty' | 'not-supported' | 'unknown-partition' | 'not-readable';
  detail: string;
}

export type Anchor = AnchorRecord | NoAnchor;

export interface PartitionAnchors extends PartitionRef {
  /** The first record with a timestamp at or after 0 (ListOffsets with timestamp 0): the log start's record. */
  logStart: Anchor;
  /** The record with the largest timestamp (ListOffsets MAX_TIMESTAMP, KIP-734). */
  newest: Anchor;
}

/** What one cluster's brokers say about record times. Reads only: it never joins a group or commits. */
export interface RecordTimeSource {
  readonly cluster: string;
  /**
   * The record at or after each offset, in the order asked. Bounded per call: asks beyond
   * the cap on fetches are answered `over-budget`, so put the ones that matter most first.
   * A leader that is down makes its partitions `not-readable`, never the whole call fail;
   * a cluster that cannot be reached at all is a LagUnavailableError.
   */
  recordsAt(asks: readonly PartitionOffset[]): Promise<RecordTime[]>;
  /** The anchors of each partition, in the order asked. */
  anchors(partitions: readonly PartitionRef[]): Promise<PartitionAnchors[]>;
}
