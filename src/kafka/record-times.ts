import type { Clock } from '../core/ports.js';
import type { Anchor, NoRecord, PartitionAnchors, PartitionOffset, PartitionRef, RecordTime, RecordTimeSource } from '../core/record-time.js';
import type { Logger } from '../log/logger.js';
import type { AdminSession } from './admin-session.js';
import type { TopicCatalog } from './cluster-reads.js';
import { describeError, isConnectionFailure } from './errors.js';
import { NOTHING_PASSED, UNKNOWN_TOPIC_OR_PARTITION, kafkaErrorName, readFetched, type FetchStep, type Passed } from './fetched-record.js';
import { BrokerApis } from './flexible/broker-apis.js';
import { API, MAX_TIMESTAMP, listOffsets, type ListedOffsetAnswer } from './flexible/requests.js';
import { fetchAsAnswered, listOffsetsAsAnswered, sendFlexible, type InternalBroker, type InternalCluster, type RawFetchPartition } from './kafkajs-internals.js';
import { createLimiter, type Limiter } from './limit.js';
import { DEFAULT_CACHE_LIMITS, RecordTimeCache, type RecordTimeCacheLimits } from './record-time-cache.js';

export interface RecordTimeLimits {
  /** Partitions fetched per recordsAt call at most; the rest are answered `over-budget`. */
  maxFetchesPerCall: number;
  /** Requests (Fetch, ListOffsets) of this source in flight at once. */
  concurrency: number;
  /** Bytes asked for per partition at first: one record, or the batch that holds it. */
  partitionMaxBytes: number;
  /** The largest size a partition is asked for again when its record batch did not fit. */
  maxBatchBytes: number;
  /** Further fetches past transaction markers and aborted records, per offset asked. */
  maxContinuations: number;
  cache: RecordTimeCacheLimits;
}

export const DEFAULT_RECORD_TIME_LIMITS: RecordTimeLimits = {
  maxFetchesPerCall: 64,
  concurrency: 4,
  partitionMaxBytes: 64 * 1024,
  // Kafka's default message.max.bytes is 1 MiB; a batch this size is decoded whole, values included.
  maxBatchBytes: 4 * 1024 * 1024,
  maxContinuations: 4,
  cache: DEFAULT_CACHE_LIMITS,
};

/** A request's answer for all its partitions at most this large, whatever their count (partitions cut off are asked again alone). */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
const EARLIEST = -2;
const LATEST = -1;

const partitionKey = (p: PartitionRef): string => `${p.topic}\u0000${p.partition}`;
const askKey = (a: PartitionOffset): string => `${partitionKey(a)}\u0000${a.offset}`;

function none(reason: NoRecord['reason'], detail: string): NoRecord {
  return { kind: 'none', reason, detail };
}

/** What the source needs of its cluster's AdminSession: reads under its deadline, over its connections, and its settings. */
export type RecordTimeSession = Pick<AdminSession, 'use' | 'config'>;

/** Which asks need a fetch: the others are answered from the cache, repeat an earlier ask, or exceed the budget. */
export interface FetchPlan {
  answers: Array<RecordTime | undefined>;
  /** Distinct asks to fetch, each with the positions in `asks` it answers. */
  fetch: Array<{ ask: PartitionOffset; at: number[] }>;
}

/** In the order asked, so the caller decides what the budget goes to (the hottest partitions first). */
export function planFetches(asks: readonly PartitionOffset[], cache: RecordTimeCache, budget: number): FetchPlan {
  const answers: Array<RecordTime | undefined> = asks.map(() => undefined);
  const fetch: FetchPlan['fetch'] = [];
  const planned = new Map<string, FetchPlan['fetch'][number]>();
  asks.forEach((ask, i) => {
    // A committed offset is never negative; -1 ("none committed") must not reach the broker as an offset.
    if (!Number.isSafeInteger(ask.offset) || ask.offset < 0) {
      answers[i] = none('not-readable', `${ask.offset} is not an offset`);
      return;
    }
    const cached = cache.get(ask);
    if (cached) {
      answers[i] = cached;
      return;
    }
    const key = askKey(ask);
    const same = planned.get(key);
    if (same) {
      same.at.push(i);
      return;
    }
    if (fetch.length >= budget) {
      answers[i] = none('over-budget', `more than ${budget} fetches in one call`);
      return;
    }
    const entry = { ask: { topic: ask.topic, partition: ask.partition, offset: ask.offset }, at: [i] };
    planned.set(key, entry);
    fetch.push(entry);
  });
  return { answers, fetch };
}

/**
 * The fetches of one leader as few Fetch requests as Kafka allows: a request names a
 * partition once, so two groups at different offsets of one partition need two.
 */
export function requestsOfLeader(asks: readonly PartitionOffset[]): PartitionOffset[][] {
  const requests: PartitionOffset[][] = [];
  const seen = new Map<string, number>();
  for (const ask of asks) {
    const key = partitionKey(ask);
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    (requests[n] ??= []).push(ask);
  }
  return requests;
}

/** The topics of `items`, each once: the Metadata a time read needs names only them. */
const topicNames = (items: readonly PartitionRef[]): string[] => [...new Set(items.map((i) => i.topic))];

/** Partitions by leader; those without one (unknown, or offline) are answered at once. */
export function byLeader<T extends PartitionRef>(items: readonly T[], catalog: TopicCatalog): { leaders: Map<number, T[]>; unplaced: Array<{ item: T; reason: 'unknown-partition' | 'not-readable'; detail: string }> } {
  const leaders = new Map<number, T[]>();
  const unplaced: Array<{ item: T; reason: 'unknown-partition' | 'not-readable'; detail: string }> = [];
  for (const item of items) {
    const leader = catalog.leaders?.get(item.topic)?.find((p) => p.partition === item.partition)?.leader;
    if (leader === undefined) unplaced.push({ item, reason: 'unknown-partition', detail: 'not in the cluster metadata' });
    else if (leader < 0) unplaced.push({ item, reason: 'not-readable', detail: 'the partition has no leader' });
    else leaders.set(leader, [...(leaders.get(leader) ?? []), item]);
  }
  return { leaders, unplaced };
}

function topicsOf<I extends PartitionRef, T>(items: readonly I[], partition: (item: I) => T): Array<{ topic: string; partitions: T[] }> {
  const topics = new Map<string, T[]>();
  for (const item of items) topics.set(item.topic, [...(topics.get(item.topic) ?? []), partition(item)]);
  return [...topics.entries()].map(([topic, partitions]) => ({ topic, partitions }));
}

/**
 * The record a group reads next, fetched from the partition leader: one Fetch per leader
 * for all its partitions (READ_COMMITTED, maxWaitTime 0, small sizes), over the connections
 * of the cluster's admin session. Reads only: no group is joined, nothing is committed.
 * And the anchors, the log start's record and the newest one, by ListOffsets.
 */
export class KafkaRecordTimes implements RecordTimeSource {
  private readonly cache: RecordTimeCache;
  private readonly limiter: Limiter;
  private readonly apis: BrokerApis;

  constructor(
    readonly cluster: string,
    private readonly session: RecordTimeSession,
    clock: Clock,
    logger: Logger,
    private readonly limits: RecordTimeLimits = DEFAULT_RECORD_TIME_LIMITS,
  ) {
    this.cache = new RecordTimeCache(clock, limits.cache);
    this.limiter = createLimiter(limits.concurrency);
    this.apis = new BrokerApis(session.config.flexibleRequests ?? true, logger);
  }

  async recordsAt(asks: readonly PartitionOffset[]): Promise<RecordTime[]> {
    const plan = planFetches(asks, this.cache, this.limits.maxFetchesPerCall);
    if (plan.fetch.length > 0) {
      const fetched = await this.session.use(`reading the records at ${plan.fetch.length} committed offset(s)`, (reads, cluster) =>
        cluster ? reads.topicsOf(topicNames(plan.fetch.map((f) => f.ask))).then((catalog) => this.fetchAll(cluster, catalog, plan.fetch.map((f) => f.ask))) : Promise.resolve(new Map<PartitionOffset, RecordTime>()),
      );
      for (const { ask, at } of plan.fetch) {
        const answer = fetched.get(ask) ?? none('not-readable', 'kafkajs 2.2.4 internals are not available: records cannot be fetched');
        if (answer.kind === 'record') this.cache.set(ask, answer);
        for (const i of at) plan.answers[i] = answer;
      }
    }
    return plan.answers.map((a) => a ?? none('not-readable', 'not answered'));
  }

  private async fetchAll(cluster: InternalCluster, catalog: TopicCatalog, asks: PartitionOffset[]): Promise<Map<PartitionOffset, RecordTime>> {
    const result = new Map<PartitionOffset, RecordTime>();
    const { leaders, unplaced } = byLeader(asks, catalog);
    for (const { item, reason, detail } of unplaced) result.set(item, none(reason, detail));
    await Promise.all(
      [...leaders.entries()].map(async ([nodeId, items]) => {
        let broker: InternalBroker;
        try {
          broker = await cluster.findBroker({ nodeId });
        } catch (error) {
          for (const item of items) result.set(item, none('not-readable', `leader ${nodeId}: ${describeError(error)}`));
          return;
        }
        await Promise.all(requestsOfLeader(items).map((request) => this.fetchRequest(broker, nodeId, request, result)));
      }),
    );
    return result;
  }

  /** One Fetch for partitions of one leader; a request that fails for another reason than the connection is tried one partition at a time. */
  private async fetchRequest(broker: InternalBroker, nodeId: number, items: PartitionOffset[], result: Map<PartitionOffset, RecordTime>): Promise<void> {
    let answers: Map<string, RawFetchPartition>;
    try {
      answers = await this.fetch(broker, items, this.limits.partitionMaxBytes);
    } catch (error) {
      if (items.length > 1 && !isConnectionFailure(error)) {
        await Promise.all(items.map((item) => this.fetchRequest(broker, nodeId, [item], result)));
        return;
      }
      for (const item of items) result.set(item, none('not-readable', `leader ${nodeId}: ${describeError(error)}`));
      return;
    }
    await Promise.all(
      items.map(async (item) => {
        const answer = answers.get(partitionKey(item));
        try {
          result.set(item, answer ? await this.settle(broker, item, readFetched(item.offset, item.offset, NOTHING_PASSED, answer)) : none('not-readable', `leader ${nodeId} did not answer for the partition`));
        } catch (error) {
          result.set(item, none('not-readable', `leader ${nodeId}: ${describeError(error)}`));
        }
      }),
    );
  }

  private async fetch(broker: InternalBroker, asks: ReadonlyArray<{ topic: string; partition: number; offset: number }>, partitionMaxBytes: number): Promise<Map<string, RawFetchPartition>> {
    const { responses } = await this.limiter.schedule(() =>
      fetchAsAnswered(broker, {
        maxBytes: Math.min(MAX_REQUEST_BYTES, Math.max(partitionMaxBytes, asks.length * partitionMaxBytes)),
        topics: topicsOf(asks, (a) => ({ partition: a.partition, fetchOffset: String(a.offset), maxBytes: partitionMaxBytes })),
      }),
    );
    const byPartition = new Map<string, RawFetchPartition>();
    for (const { topicName, partitions } of responses) for (const p of partitions) byPartition.set(partitionKey({ topic: topicName, partition: p.partition }), p);
    return byPartition;
  }

  /** Follow one partition's answer to the end: past markers and aborted records, with more bytes for a batch that did not fit, bounded both ways. */
  private async settle(broker: InternalBroker, ask: PartitionOffset, first: FetchStep): Promise<RecordTime> {
    let step = first;
    let from = ask.offset;
    let passed: Passed = NOTHING_PASSED;
    let size = this.limits.partitionMaxBytes;
    let continuations = 0;
    for (;;) {
      switch (step.kind) {
        case 'done':
          return step.answer;
        case 'out-of-range':
          return this.outOfRange(broker, ask);
        case 'bigger':
          if (size >= this.limits.maxBatchBytes) {
            return none('not-readable', `no record at offset ${from} within ${this.limits.maxBatchBytes} bytes (a larger record batch, or one emptied by compaction)`);
          }
          size = Math.min(size * 16, this.limits.maxBatchBytes);
          break;
        case 'continue':
          continuations += 1;
          if (continuations > this.limits.maxContinuations) {
            return none('not-readable', `only transaction markers or aborted records from offset ${ask.offset} to ${step.from - 1} (${this.limits.maxContinuations + 1} fetches)`);
          }
          ({ from, passed } = step);
          break;
      }
      const answer = (await this.fetch(broker, [{ ...ask, offset: from }], size)).get(partitionKey(ask));
      if (!answer) return none('not-readable', 'the leader did not answer for the partition');
      step = readFetched(ask.offset, from, passed, answer);
    }
  }

  /** The Fetch said the offset is outside the log; the log start and end say on which side. */
  private async outOfRange(broker: InternalBroker, ask: PartitionOffset): Promise<RecordTime> {
    const offsetAt = async (timestamp: number): Promise<number | null> => {
      const { responses } = await this.limiter.schedule(() => listOffsetsAsAnswered(broker, [{ topic: ask.topic, partitions: [{ partition: ask.partition, timestamp }] }]));
      const p = responses.find((r) => r.topic === ask.topic)?.partitions.find((x) => x.partition === ask.partition);
      if (!p || p.errorCode !== 0) return null;
      const offset = p.offset ?? p.offsets?.[0];
      return offset === undefined ? null : Number(offset);
    };
    const [start, end] = await Promise.all([offsetAt(EARLIEST), offsetAt(LATEST)]);
    if (start !== null && ask.offset < start) return { kind: 'none', reason: 'below-log-start', detail: `the log starts at ${start}`, logStartOffset: start, ...(end !== null ? { logEndOffset: end } : {}) };
    if (end !== null && ask.offset > end) return { kind: 'none', reason: 'above-log-end', detail: `the log ends at ${end}`, logEndOffset: end, ...(start !== null ? { logStartOffset: start } : {}) };
    return none('not-readable', 'OFFSET_OUT_OF_RANGE, though the log start and end include the offset (the log moved while reading)');
  }

  async anchors(partitions: readonly PartitionRef[]): Promise<PartitionAnchors[]> {
    const found = await this.session.use(`reading the first and newest record times of ${partitions.length} partition(s)`, (reads, cluster) =>
      cluster ? reads.topicsOf(topicNames(partitions)).then((catalog) => this.anchorsOf(cluster, catalog, partitions)) : Promise.resolve(new Map<string, Omit<PartitionAnchors, 'topic' | 'partition'>>()),
    );
    const unavailable: Anchor = { kind: 'none', reason: 'not-readable', detail: 'kafkajs 2.2.4 internals are not available: ListOffsets cannot be sent' };
    return partitions.map((p) => ({ topic: p.topic, partition: p.partition, ...(found.get(partitionKey(p)) ?? { logStart: unavailable, newest: unavailable }) }));
  }

  /** Per leader, one ListOffsets with timestamp 0 and one with MAX_TIMESTAMP, for all its partitions (a request names a partition once). */
  private async anchorsOf(cluster: InternalCluster, catalog: TopicCatalog, partitions: readonly PartitionRef[]): Promise<Map<string, Omit<PartitionAnchors, 'topic' | 'partition'>>> {
    const result = new Map<string, Omit<PartitionAnchors, 'topic' | 'partition'>>();
    const distinct = [...new Map(partitions.map((p) => [partitionKey(p), { topic: p.topic, partition: p.partition }])).values()];
    const { leaders, unplaced } = byLeader(distinct, catalog);
    for (const { item, reason, detail } of unplaced) {
      const anchor: Anchor = { kind: 'none', reason, detail };
      result.set(partitionKey(item), { logStart: anchor, newest: anchor });
    }
    await Promise.all(
      [...leaders.entries()].map(async ([nodeId, items]) => {
        try {
          const broker = await cluster.findBroker({ nodeId });
          const topics = topicsOf(items, (p) => p.partition);
          const version = this.apis.version(broker, nodeId, API.ListOffsets);
          const ask = (timestamp: number) => this.limiter.schedule(() => sendFlexible(broker, listOffsets(topics, timestamp, version ?? 0)));
          const [starts, newest] = await Promise.all([
            version === null ? this.logStartsOld(broker, topics) : ask(0),
            version === null ? null : ask(MAX_TIMESTAMP),
          ]);
          const answerOf = (answers: ReadonlyArray<{ topic: string; partitions: ListedOffsetAnswer[] }>, p: PartitionRef) =>
            answers.find((t) => t.topic === p.topic)?.partitions.find((x) => x.partition === p.partition);
          for (const p of items) {
            result.set(partitionKey(p), {
              logStart: anchorOf(answerOf(starts, p)),
              newest: newest ? anchorOf(answerOf(newest, p)) : { kind: 'none', reason: 'not-supported', detail: `broker ${nodeId} does not answer ListOffsets v7+ (MAX_TIMESTAMP, Kafka 3.0+)` },
            });
          }
        } catch (error) {
          const anchor: Anchor = { kind: 'none', reason: 'not-readable', detail: `leader ${nodeId}: ${describeError(error)}` };
          for (const p of items) result.set(partitionKey(p), { logStart: anchor, newest: anchor });
        }
      }),
    );
    return result;
  }

  /** Brokers without ListOffsets v7: kafkajs' own ListOffsets (v1+ answers the timestamp too) for the log start's record. */
  private async logStartsOld(broker: InternalBroker, topics: Array<{ topic: string; partitions: number[] }>): Promise<Array<{ topic: string; partitions: ListedOffsetAnswer[] }>> {
    const { responses } = await this.limiter.schedule(() =>
      listOffsetsAsAnswered(
        broker,
        topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((partition) => ({ partition, timestamp: 0 })) })),
      ),
    );
    return responses.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: p.errorCode, timestamp: p.timestamp === undefined ? -1 : Number(p.timestamp), offset: Number(p.offset ?? p.offsets?.[0] ?? -1) })),
    }));
  }
}

export function anchorOf(answer: ListedOffsetAnswer | undefined): Anchor {
  if (!answer) return { kind: 'none', reason: 'not-readable', detail: 'the leader did not answer for the partition' };
  if (answer.errorCode === UNKNOWN_TOPIC_OR_PARTITION) return { kind: 'none', reason: 'unknown-partition', detail: 'UNKNOWN_TOPIC_OR_PARTITION' };
  if (answer.errorCode !== 0) return { kind: 'none', reason: 'not-readable', detail: kafkaErrorName(answer.errorCode) };
  if (answer.offset < 0 || answer.timestamp < 0) return { kind: 'none', reason: 'empty', detail: 'no record with a timestamp' };
  return { kind: 'record', offset: answer.offset, timestamp: answer.timestamp };
}
