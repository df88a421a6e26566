import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Clock } from '../../src/core/ports.js';
import type { RecordFound } from '../../src/core/record-time.js';
import type { ClusterReads, TopicCatalog } from '../../src/kafka/cluster-reads.js';
import { NOTHING_PASSED, readFetched } from '../../src/kafka/fetched-record.js';
import { API, MAX_TIMESTAMP, listOffsets, pickVersion } from '../../src/kafka/flexible/requests.js';
import type { InternalCluster, RawFetchPartition, RawRecord } from '../../src/kafka/kafkajs-internals.js';
import { RecordTimeCache } from '../../src/kafka/record-time-cache.js';
import { DEFAULT_RECORD_TIME_LIMITS, KafkaRecordTimes, anchorOf, byLeader, planFetches, requestsOfLeader, type RecordTimeSession } from '../../src/kafka/record-times.js';

class FakeClock implements Clock {
  constructor(public t = 1_000_000) {}
  now(): number {
    return this.t;
  }
}

const found = (offset: number): RecordFound => ({ kind: 'record', offset, timestamp: 1_700_000_000_000 + offset, timestampType: 'create', skipped: null });

describe('the cache of records found', () => {
  it('answers within its time to live and forgets after it', () => {
    const clock = new FakeClock();
    const cache = new RecordTimeCache(clock, { ttlMs: 60_000, maxEntries: 10 });
    cache.set({ topic: 't', partition: 0, offset: 5 }, found(5));
    clock.t += 59_999;
    expect(cache.get({ topic: 't', partition: 0, offset: 5 })).toEqual(found(5));
    expect(cache.get({ topic: 't', partition: 0, offset: 6 })).toBeUndefined();
    expect(cache.get({ topic: 't', partition: 1, offset: 5 })).toBeUndefined();
    clock.t += 1;
    expect(cache.get({ topic: 't', partition: 0, offset: 5 })).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most its cap of entries, dropping the oldest first', () => {
    const clock = new FakeClock();
    const cache = new RecordTimeCache(clock, { ttlMs: 60_000, maxEntries: 3 });
    for (let offset = 0; offset < 5; offset += 1) {
      cache.set({ topic: 't', partition: 0, offset }, found(offset));
      clock.t += 1;
    }
    expect(cache.size).toBe(3);
    expect([0, 1, 2, 3, 4].map((offset) => cache.get({ topic: 't', partition: 0, offset })?.offset ?? null)).toEqual([null, null, 2, 3, 4]);
  });
});

describe('which asks are fetched', () => {
  it('cached ones are answered, repeated ones fetched once, and past the budget over-budget, in the order asked', () => {
    const cache = new RecordTimeCache(new FakeClock(), { ttlMs: 60_000, maxEntries: 10 });
    cache.set({ topic: 'a', partition: 0, offset: 1 }, found(1));
    const asks = [
      { topic: 'a', partition: 0, offset: 1 },
      { topic: 'a', partition: 0, offset: 2 },
      { topic: 'b', partition: 3, offset: 7 },
      { topic: 'a', partition: 0, offset: 2 },
      { topic: 'c', partition: 0, offset: 0 },
    ];
    const plan = planFetches(asks, cache, 2);
    expect(plan.fetch.map((f) => [f.ask, f.at])).toEqual([
      [{ topic: 'a', partition: 0, offset: 2 }, [1, 3]],
      [{ topic: 'b', partition: 3, offset: 7 }, [2]],
    ]);
    expect(plan.answers[0]).toEqual(found(1));
    expect(plan.answers[4]).toMatchObject({ kind: 'none', reason: 'over-budget' });
    expect(plan.answers.filter((a) => a === undefined)).toHaveLength(3);
  });

  it('an offset that is none (-1) or not a whole number is never sent', () => {
    const plan = planFetches([{ topic: 'a', partition: 0, offset: -1 }, { topic: 'a', partition: 0, offset: 1.5 }], new RecordTimeCache(new FakeClock()), 10);
    expect(plan.fetch).toEqual([]);
    expect(plan.answers).toEqual([
      { kind: 'none', reason: 'not-readable', detail: '-1 is not an offset' },
      { kind: 'none', reason: 'not-readable', detail: '1.5 is not an offset' },
    ]);
  });

  it('one Fetch per leader, except that a partition asked at two offsets needs a second request', () => {
    const requests = requestsOfLeader([
      { topic: 'a', partition: 0, offset: 1 },
      { topic: 'a', partition: 1, offset: 1 },
      { topic: 'a', partition: 0, offset: 9 },
      { topic: 'b', partition: 0, offset: 3 },
    ]);
    expect(requests.map((r) => r.map((a) => `${a.topic}-${a.partition}@${a.offset}`))).toEqual([['a-0@1', 'a-1@1', 'b-0@3'], ['a-0@9']]);
  });

  it('partitions go to their leaders; one without a leader is not readable, one not in the metadata unknown', () => {
    const catalog: TopicCatalog = {
      names: new Set(['a']),
      leaders: new Map([['a', [{ partition: 0, leader: 1 }, { partition: 1, leader: 2 }, { partition: 2, leader: -1 }]]]),
      brokers: [1, 2],
    };
    const { leaders, unplaced } = byLeader(
      [{ topic: 'a', partition: 0 }, { topic: 'a', partition: 1 }, { topic: 'a', partition: 2 }, { topic: 'a', partition: 3 }, { topic: 'z', partition: 0 }],
      catalog,
    );
    expect([...leaders.entries()]).toEqual([
      [1, [{ topic: 'a', partition: 0 }]],
      [2, [{ topic: 'a', partition: 1 }]],
    ]);
    expect(unplaced.map((u) => [u.item.topic, u.item.partition, u.reason])).toEqual([
      ['a', 2, 'not-readable'],
      ['a', 3, 'unknown-partition'],
      ['z', 0, 'unknown-partition'],
    ]);
  });
});

/** A record as kafkajs' Fetch decoder gives it. */
function record(offset: number, batch: { first: number; last: number; producerId?: string; transactional?: boolean; control?: boolean; logAppend?: boolean }): RawRecord {
  return {
    offset: String(offset),
    timestamp: String(1_700_000_000_000 + offset),
    isControlRecord: batch.control ?? false,
    batchContext: {
      firstOffset: String(batch.first),
      lastOffsetDelta: batch.last - batch.first,
      producerId: batch.producerId ?? '-1',
      inTransaction: batch.transactional ?? false,
      isControlBatch: batch.control ?? false,
      timestampType: batch.logAppend ? 1 : 0,
    },
  };
}

function answer(messages: RawRecord[], figures: { hw: number; lso?: number; start?: number; aborted?: Array<[string, number]>; errorCode?: number }): RawFetchPartition {
  return {
    partition: 0,
    errorCode: figures.errorCode ?? 0,
    highWatermark: String(figures.hw),
    lastStableOffset: String(figures.lso ?? figures.hw),
    lastStartOffset: String(figures.start ?? 0),
    abortedTransactions: (figures.aborted ?? []).map(([producerId, firstOffset]) => ({ producerId, firstOffset: String(firstOffset) })),
    messages,
  };
}

describe('what a Fetch answer says about the record at an offset', () => {
  it('the batch holding the offset comes whole: records before it are passed, the one at it taken', () => {
    const step = readFetched(5, 5, NOTHING_PASSED, answer([3, 4, 5, 6].map((o) => record(o, { first: 3, last: 6, logAppend: true })), { hw: 10 }));
    expect(step).toEqual({ kind: 'done', answer: { kind: 'record', offset: 5, timestamp: 1_700_000_000_005, timestampType: 'log-append', skipped: null } });
  });

  it('a gap no marker or aborted record explains is compaction', () => {
    const step = readFetched(5, 5, NOTHING_PASSED, answer([record(2, { first: 0, last: 9 }), record(8, { first: 0, last: 9 })], { hw: 12 }));
    expect(step).toMatchObject({ kind: 'done', answer: { offset: 8, skipped: 'compacted' } });
  });

  it('markers and aborted records are passed over and flagged, aborted first', () => {
    const marker = (o: number, producerId: string) => record(o, { first: o, last: o, producerId, transactional: true, control: true });
    const tx = (o: number, producerId: string) => record(o, { first: o, last: o, producerId, transactional: true });
    const log = [tx(2, '7'), marker(3, '7'), tx(4, '8'), tx(5, '8'), marker(6, '8'), tx(7, '9'), marker(8, '9')];
    const withAbort = answer(log, { hw: 9, aborted: [['8', 4]] });
    expect(readFetched(3, 3, NOTHING_PASSED, withAbort)).toMatchObject({ kind: 'done', answer: { offset: 7, skipped: 'aborted' } });
    expect(readFetched(6, 6, NOTHING_PASSED, withAbort)).toMatchObject({ kind: 'done', answer: { offset: 7, skipped: 'transaction-markers' } });
    // Producer 8's records are not aborted outside its aborted transaction.
    expect(readFetched(4, 4, NOTHING_PASSED, answer(log, { hw: 9 }))).toMatchObject({ kind: 'done', answer: { offset: 4, skipped: null } });
    expect(readFetched(8, 8, NOTHING_PASSED, withAbort)).toMatchObject({ kind: 'done', answer: { kind: 'none', reason: 'at-log-end', logEndOffset: 9 } });
  });

  it('only markers so far: go on after them; nothing at all though the log goes on: ask for more bytes', () => {
    const marker = record(3, { first: 3, last: 3, producerId: '7', transactional: true, control: true });
    expect(readFetched(3, 3, NOTHING_PASSED, answer([marker], { hw: 20 }))).toEqual({ kind: 'continue', from: 4, passed: { markers: 1, aborted: 0 } });
    expect(readFetched(3, 3, NOTHING_PASSED, answer([], { hw: 20 }))).toEqual({ kind: 'bigger' });
    // A later fetch carries what the earlier ones passed.
    expect(readFetched(3, 4, { markers: 1, aborted: 0 }, answer([record(4, { first: 4, last: 4 })], { hw: 20 }))).toMatchObject({ kind: 'done', answer: { offset: 4, skipped: 'transaction-markers' } });
  });

  it('at the last stable offset with an open transaction after it, the group is at the end a read-committed consumer sees', () => {
    const step = readFetched(10, 10, NOTHING_PASSED, answer([], { hw: 14, lso: 10 }));
    expect(step).toEqual({ kind: 'done', answer: { kind: 'none', reason: 'at-log-end', detail: 'an open transaction holds offsets 10 to 14', logEndOffset: 10, logStartOffset: 0 } });
  });

  it('errors per partition: out of range is looked into, an unknown partition said, the rest not readable by name', () => {
    expect(readFetched(1, 1, NOTHING_PASSED, answer([], { hw: -1, errorCode: 1 }))).toEqual({ kind: 'out-of-range' });
    expect(readFetched(1, 1, NOTHING_PASSED, answer([], { hw: -1, errorCode: 3 }))).toMatchObject({ answer: { reason: 'unknown-partition' } });
    expect(readFetched(1, 1, NOTHING_PASSED, answer([], { hw: -1, errorCode: 6 }))).toMatchObject({ answer: { reason: 'not-readable', detail: expect.stringMatching(/^NOT_LEADER/) } });
  });
});

describe('ListOffsets v7+ for the anchors', () => {
  const i32 = (n: number): number[] => [...Buffer.from([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])];
  const i64 = (n: number): number[] => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(n));
    return [...b];
  };
  const str = (s: string): number[] => [s.length + 1, ...Buffer.from(s)];

  it('v7 asks MAX_TIMESTAMP read-committed for every partition in one request; v10 adds the timeout', () => {
    const v7 = listOffsets([{ topic: 't', partitions: [0, 1] }], MAX_TIMESTAMP, 7);
    const partition = (p: number) => [...i32(p), ...i32(-1), ...i64(-3), 0];
    const body = [0, ...i32(-1), 1, 2, ...str('t'), 3, ...partition(0), ...partition(1), 0];
    expect([...v7.body]).toEqual([...body, 0]);
    expect([...listOffsets([{ topic: 't', partitions: [0, 1] }], MAX_TIMESTAMP, 10).body]).toEqual([...body, ...i32(5_000), 0]);
  });

  it('reads each partition\'s offset and timestamp past tagged fields', () => {
    const answerBytes = Buffer.from([
      0, ...i32(0), 2, ...str('t'), 3,
      ...i32(0), 0, 0, ...i64(1_700_000_000_123), ...i64(41), ...i32(0), 0,
      ...i32(1), 0, 0, ...i64(-1), ...i64(-1), ...i32(-1), 1, 4, 1, 9, 0,
      0, 0,
    ]);
    const answers = listOffsets([{ topic: 't', partitions: [0, 1] }], 0, 7).decode(answerBytes);
    expect(answers).toEqual([{ topic: 't', partitions: [{ partition: 0, errorCode: 0, timestamp: 1_700_000_000_123, offset: 41 }, { partition: 1, errorCode: 0, timestamp: -1, offset: -1 }] }]);
    expect(answers[0]?.partitions.map(anchorOf)).toEqual([{ kind: 'record', offset: 41, timestamp: 1_700_000_000_123 }, { kind: 'none', reason: 'empty', detail: 'no record with a timestamp' }]);
  });

  it('a broker without v7 (before Kafka 3.0) gets none: the newest record is then not known', () => {
    expect(pickVersion({ [API.ListOffsets]: { minVersion: 0, maxVersion: 6 } }, API.ListOffsets)).toBeNull();
    expect(pickVersion({}, API.ListOffsets)).toBeNull();
    expect(pickVersion({ [API.ListOffsets]: { minVersion: 1, maxVersion: 8 } }, API.ListOffsets)).toBe(8);
    expect(pickVersion({ [API.ListOffsets]: { minVersion: 1, maxVersion: 11 } }, API.ListOffsets)).toBe(10);
  });
});

describe('a cluster whose leaders cannot be reached', () => {
  /** kafkajs' connection error, as a broker that is down gives it. */
  const down = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9'), { name: 'KafkaJSConnectionError' });
  const catalog: TopicCatalog = {
    names: new Set(['orders']),
    leaders: new Map([['orders', [{ partition: 0, leader: 2 }, { partition: 1, leader: -1 }]]]),
    brokers: [1, 2],
  };
  const cluster = { findBroker: () => Promise.reject(down) } as unknown as InternalCluster;
  /** The topics each catalog was asked for. */
  const asked: string[][] = [];
  const reads = {
    topicsOf: (topics: readonly string[]) => {
      asked.push([...topics]);
      return Promise.resolve(catalog);
    },
  } as unknown as ClusterReads;
  const session: RecordTimeSession = {
    config: { cluster: 'main', brokers: ['127.0.0.1:9'], clientId: 'lagbot', connectionTimeoutMs: 1_000, requestTimeoutMs: 1_000, readDeadlineMs: 5_000 },
    use: (_what, read) => read(reads, cluster),
  };
  const logger = pino({ level: 'silent' });

  it('answers each partition not-readable, saying why, and never fails the call', async () => {
    const times = new KafkaRecordTimes('main', session, new FakeClock(), logger);
    asked.length = 0;
    const answers = await times.recordsAt([
      { topic: 'orders', partition: 0, offset: 10 },
      { topic: 'orders', partition: 1, offset: 10 },
    ]);
    // The metadata of the asked partitions' topics, each named once, not of the whole cluster.
    expect(asked).toEqual([['orders']]);
    expect(answers).toEqual([
      { kind: 'none', reason: 'not-readable', detail: 'leader 2: Connection error: connect ECONNREFUSED 127.0.0.1:9' },
      { kind: 'none', reason: 'not-readable', detail: 'the partition has no leader' },
    ]);
    const anchors = await times.anchors([{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }]);
    expect(anchors.map((a) => [a.logStart.kind === 'none' ? a.logStart.reason : a.logStart.kind, a.newest.kind === 'none' ? a.newest.reason : a.newest.kind])).toEqual([
      ['not-readable', 'not-readable'],
      ['not-readable', 'not-readable'],
    ]);
  });

  it('caps fetches per call: what is past the cap is over-budget, not fetched', async () => {
    const times = new KafkaRecordTimes('main', session, new FakeClock(), logger, { ...DEFAULT_RECORD_TIME_LIMITS, maxFetchesPerCall: 1 });
    const answers = await times.recordsAt([
      { topic: 'orders', partition: 0, offset: 10 },
      { topic: 'orders', partition: 0, offset: 11 },
    ]);
    expect(answers.map((a) => (a.kind === 'none' ? a.reason : a.kind))).toEqual(['not-readable', 'over-budget']);
  });
});
