import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { systemClock } from '../../src/core/ports.js';
import { createKafkaLag, type KafkaLag } from '../../src/kafka/connect.js';
import { DEFAULT_RECORD_TIME_LIMITS, type RecordTimeLimits } from '../../src/kafka/record-times.js';
import { createLogger } from '../../src/log/logger.js';
import { createTopic, eventually, kafkaClient, lagReader, testbed, uniqueName } from '../support/kafka.js';

/**
 * What the broker says about the time of the record a group reads next, on a real broker:
 * records produced with timestamps the test chose, groups committed at known records, and
 * the ranges a consumer passes over (deleted, compacted, transaction markers, aborted).
 */

/**
 * A whole minute an hour before the run, so a broker clock can never be mistaken for the
 * producer's timestamp. Not a fixed date: records older than the broker's retention (7 days)
 * are deleted at its next retention check, every 5 minutes, and a read after it finds none.
 */
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
const COUNT = 10;
const timeOf = (i: number) => T0 + i * 1_000;

async function produceTimed(kafka: Kafka, topic: string, from: number, count: number, key?: (i: number) => string): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // One send per record: one batch each, so the timestamps stay the producer's, record by record.
    for (let i = from; i < from + count; i += 1) {
      await producer.send({ topic, messages: [{ partition: 0, value: `event-${i}`, timestamp: String(timeOf(i)), ...(key ? { key: key(i) } : {}) }] });
    }
  } finally {
    await producer.disconnect();
  }
}

/** A source of its own with tighter limits, to see which path a read took. */
function sourceWith(limits: Partial<RecordTimeLimits>): KafkaLag {
  const config = parseConfig('', { KAFKA_BROKERS: testbed().brokers.join(',') }).clusters[0];
  if (!config) throw new Error('no cluster configured');
  return createKafkaLag(config, systemClock, createLogger('silent'), { recordTimeLimits: { ...DEFAULT_RECORD_TIME_LIMITS, ...limits } });
}

describe('record times on a real broker', () => {
  let kafka: Kafka;
  let admin: Admin;
  let lag: KafkaLag;
  const topic = uniqueName('times');
  const group = uniqueName('times-consumer');

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 1);
    await produceTimed(kafka, topic, 0, COUNT);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '4' }] });
    lag = lagReader();
  });

  afterAll(async () => {
    await lag?.stop();
    await admin?.disconnect();
  });

  it('the record at a group\'s committed offset, with the timestamp its producer set', async () => {
    const read = await lag.reader.readGroup(group);
    const committed = read?.partitions.find((p) => p.topic === topic && p.partition === 0)?.committedOffset;
    expect(committed).toBe(4);
    const [answer] = await lag.recordTimes.recordsAt([{ topic, partition: 0, offset: committed ?? -1 }]);
    expect(answer).toEqual({ kind: 'record', offset: 4, timestamp: timeOf(4), timestampType: 'create', skipped: null });
  });

  it('a caught-up group has nothing to read; past the end, unknown partitions and topics are said as such', async () => {
    const answers = await lag.recordTimes.recordsAt([
      { topic, partition: 0, offset: COUNT },
      { topic, partition: 0, offset: COUNT + 40 },
      { topic, partition: 7, offset: 0 },
      { topic: uniqueName('no-such-topic'), partition: 0, offset: 0 },
    ]);
    expect(answers.map((a) => (a.kind === 'none' ? a.reason : a.kind))).toEqual(['at-log-end', 'above-log-end', 'unknown-partition', 'unknown-partition']);
    expect(answers[0]).toMatchObject({ logEndOffset: COUNT });
    expect(answers[1]).toMatchObject({ logEndOffset: COUNT });
  });

  it('several offsets of one partition and of several topics in one call, each answered', async () => {
    const other = uniqueName('times-other');
    await createTopic(admin, other, 1);
    await produceTimed(kafka, other, 0, 3);
    const answers = await lag.recordTimes.recordsAt([
      { topic, partition: 0, offset: 0 },
      { topic, partition: 0, offset: 9 },
      { topic: other, partition: 0, offset: 2 },
      { topic, partition: 0, offset: 0 },
    ]);
    expect(answers.map((a) => (a.kind === 'record' ? [a.offset, a.timestamp] : a.reason))).toEqual([
      [0, timeOf(0)],
      [9, timeOf(9)],
      [2, timeOf(2)],
      [0, timeOf(0)],
    ]);
  });

  it('anchors: the log start\'s record and the newest record, with their timestamps', async () => {
    const [anchors] = await lag.recordTimes.anchors([{ topic, partition: 0 }]);
    expect(anchors).toEqual({
      topic,
      partition: 0,
      logStart: { kind: 'record', offset: 0, timestamp: timeOf(0) },
      newest: { kind: 'record', offset: COUNT - 1, timestamp: timeOf(COUNT - 1) },
    });
    const empty = uniqueName('times-empty');
    await createTopic(admin, empty, 1);
    const [none] = await lag.recordTimes.anchors([{ topic: empty, partition: 0 }]);
    expect(none?.logStart).toMatchObject({ kind: 'none', reason: 'empty' });
    expect(none?.newest).toMatchObject({ kind: 'none', reason: 'empty' });
  });

  it('without lagbot\'s flexible requests (flexibleRequests: false, as on a broker before Kafka 3.0), the log start\'s record still, the newest record not', async () => {
    const old = lagReader(undefined, { flexibleRequests: false });
    try {
      const [anchors] = await old.recordTimes.anchors([{ topic, partition: 0 }]);
      expect(anchors?.logStart).toEqual({ kind: 'record', offset: 0, timestamp: timeOf(0) });
      expect(anchors?.newest).toMatchObject({ kind: 'none', reason: 'not-supported' });
    } finally {
      await old.stop();
    }
  });

  it('a record batch larger than the first size asked for is fetched again, bigger, beside a partition that fitted', async () => {
    const big = uniqueName('times-big');
    await createTopic(admin, big, 2);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: big, messages: [{ partition: 0, value: 'small', timestamp: String(timeOf(0)) }] });
      // One batch of 300 KiB, past the 64 KiB asked for per partition at first.
      await producer.send({ topic: big, messages: Array.from({ length: 300 }, (_, i) => ({ partition: 1, value: 'x'.repeat(1_024), timestamp: String(timeOf(i)) })) });
    } finally {
      await producer.disconnect();
    }
    const answers = await lag.recordTimes.recordsAt([
      { topic: big, partition: 0, offset: 0 },
      { topic: big, partition: 1, offset: 250 },
    ]);
    expect(answers).toEqual([
      { kind: 'record', offset: 0, timestamp: timeOf(0), timestampType: 'create', skipped: null },
      { kind: 'record', offset: 250, timestamp: timeOf(250), timestampType: 'create', skipped: null },
    ]);
    // Not allowed to grow past the first size, the same read cannot tell: the first answer did not fit.
    const small = sourceWith({ maxBatchBytes: DEFAULT_RECORD_TIME_LIMITS.partitionMaxBytes });
    try {
      const [fits, cut] = await small.recordTimes.recordsAt([
        { topic: big, partition: 0, offset: 0 },
        { topic: big, partition: 1, offset: 250 },
      ]);
      expect(fits).toMatchObject({ kind: 'record', offset: 0 });
      expect(cut).toMatchObject({ kind: 'none', reason: 'not-readable', detail: expect.stringMatching(/within 65536 bytes/) });
    } finally {
      await small.stop();
    }
  });

  it('a broker-set timestamp (LogAppendTime) is said to be one', async () => {
    const appended = uniqueName('times-append');
    await admin.createTopics({ topics: [{ topic: appended, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }], waitForLeaders: true });
    const before = Date.now();
    await produceTimed(kafka, appended, 0, 1);
    const [answer] = await lag.recordTimes.recordsAt([{ topic: appended, partition: 0, offset: 0 }]);
    expect(answer).toMatchObject({ kind: 'record', offset: 0, timestampType: 'log-append' });
    expect(answer?.kind === 'record' ? answer.timestamp : 0).toBeGreaterThanOrEqual(before - 1_000);
  });

  it('an offset deleted from the log start (deleteRecords) is below the log start, which the anchor follows', async () => {
    const trimmed = uniqueName('times-trimmed');
    await createTopic(admin, trimmed, 1);
    await produceTimed(kafka, trimmed, 0, COUNT);
    // kafkajs looks the leader up in the metadata it has before it refreshes it.
    await admin.fetchTopicOffsets(trimmed);
    await admin.deleteTopicRecords({ topic: trimmed, partitions: [{ partition: 0, offset: '3' }] });
    const [below, at] = await lag.recordTimes.recordsAt([
      { topic: trimmed, partition: 0, offset: 1 },
      { topic: trimmed, partition: 0, offset: 3 },
    ]);
    expect(below).toMatchObject({ kind: 'none', reason: 'below-log-start', logStartOffset: 3, logEndOffset: COUNT });
    expect(at).toEqual({ kind: 'record', offset: 3, timestamp: timeOf(3), timestampType: 'create', skipped: null });
    const [anchors] = await lag.recordTimes.anchors([{ topic: trimmed, partition: 0 }]);
    expect(anchors?.logStart).toEqual({ kind: 'record', offset: 3, timestamp: timeOf(3) });
  });

  it('transactions: markers and aborted records are passed over and flagged, markers alone up to the end are the end', async () => {
    const txTopic = uniqueName('times-tx');
    await createTopic(admin, txTopic, 1);
    const producer = kafka.producer({ transactionalId: uniqueName('times-tx-producer'), idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const inTransaction = async (from: number, count: number, end: 'commit' | 'abort') => {
        const tx = await producer.transaction();
        await tx.send({ topic: txTopic, messages: Array.from({ length: count }, (_, i) => ({ partition: 0, value: `tx-${from + i}`, timestamp: String(timeOf(from + i)) })) });
        await (end === 'commit' ? tx.commit() : tx.abort());
      };
      // Offsets: 0-2 committed, 3 marker, 4-5 aborted, 6 marker, 7 committed, 8 marker.
      await inTransaction(0, 3, 'commit');
      await inTransaction(4, 2, 'abort');
      await inTransaction(7, 1, 'commit');
    } finally {
      await producer.disconnect();
    }
    const answers = await eventually(async () => {
      const a = await lag.recordTimes.recordsAt([2, 3, 4, 6, 8].map((offset) => ({ topic: txTopic, partition: 0, offset })));
      // The last marker is written after commit returns; until then the log end is 8.
      return a[4]?.kind === 'none' && a[4].logEndOffset === 9 ? a : null;
    }, 'the last transaction marker');
    expect(answers.slice(0, 4)).toEqual([
      { kind: 'record', offset: 2, timestamp: timeOf(2), timestampType: 'create', skipped: null },
      { kind: 'record', offset: 7, timestamp: timeOf(7), timestampType: 'create', skipped: 'aborted' },
      { kind: 'record', offset: 7, timestamp: timeOf(7), timestampType: 'create', skipped: 'aborted' },
      { kind: 'record', offset: 7, timestamp: timeOf(7), timestampType: 'create', skipped: 'transaction-markers' },
    ]);
    expect(answers[4]).toMatchObject({ kind: 'none', reason: 'at-log-end' });
  });

  it('an aborted transaction larger than one fetch is passed over in further fetches', async () => {
    const txTopic = uniqueName('times-tx-big');
    await createTopic(admin, txTopic, 1);
    const producer = kafka.producer({ transactionalId: uniqueName('times-tx-big-producer'), idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      // Offsets: 0-199 aborted (one batch of 200 KiB, past the 64 KiB of a first fetch), 200 marker, 201 committed, 202 marker.
      const aborted = await producer.transaction();
      await aborted.send({ topic: txTopic, messages: Array.from({ length: 200 }, (_, i) => ({ partition: 0, value: 'x'.repeat(1_024), timestamp: String(timeOf(i)) })) });
      await aborted.abort();
      const committed = await producer.transaction();
      await committed.send({ topic: txTopic, messages: [{ partition: 0, value: 'kept', timestamp: String(timeOf(201)) }] });
      await committed.commit();
    } finally {
      await producer.disconnect();
    }
    const [answer] = await eventually(async () => {
      const a = await lag.recordTimes.recordsAt([{ topic: txTopic, partition: 0, offset: 0 }]);
      return a[0]?.kind === 'record' ? a : null;
    }, 'the committed transaction to be stable');
    expect(answer).toEqual({ kind: 'record', offset: 201, timestamp: timeOf(201), timestampType: 'create', skipped: 'aborted' });
    // With no further fetch allowed, the first one alone holds only the aborted batch.
    const once = sourceWith({ maxContinuations: 0 });
    try {
      const [cut] = await once.recordTimes.recordsAt([{ topic: txTopic, partition: 0, offset: 0 }]);
      expect(cut).toMatchObject({ kind: 'none', reason: 'not-readable', detail: expect.stringMatching(/^only transaction markers or aborted records from offset 0 to 199/) });
    } finally {
      await once.stop();
    }
  });

  it(
    'a compacted range: the record found is the next one the consumer reads, flagged compacted',
    async () => {
      const compacted = uniqueName('times-compacted');
      await admin.createTopics({
        topics: [
          {
            topic: compacted,
            numPartitions: 1,
            replicationFactor: 1,
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'segment.ms', value: '100' },
              { name: 'min.cleanable.dirty.ratio', value: '0.001' },
              { name: 'min.compaction.lag.ms', value: '0' },
              { name: 'delete.retention.ms', value: '0' },
            ],
          },
        ],
        waitForLeaders: true,
      });
      // Offsets 0-4 keys k0-k4, 5-9 the same keys again: compaction removes 0-4.
      await produceTimed(kafka, compacted, 0, COUNT, (i) => `k${i % 5}`);
      const answer = await eventually(
        async () => {
          // A record in a new segment rolls the one holding 0-9 (the active segment is never cleaned).
          await new Promise((r) => setTimeout(r, 150));
          await produceTimed(kafka, compacted, COUNT, 1, () => 'roll');
          // A reader of its own each time: the cache would keep answering with offset 1 as first read.
          const fresh = lagReader();
          try {
            const [a] = await fresh.recordTimes.recordsAt([{ topic: compacted, partition: 0, offset: 1 }]);
            return a?.kind === 'record' && a.offset > 1 ? a : null;
          } finally {
            await fresh.stop();
          }
        },
        'the log cleaner to compact offsets 0-4',
        90_000,
      );
      expect(answer).toEqual({ kind: 'record', offset: 5, timestamp: timeOf(5), timestampType: 'create', skipped: 'compacted' });
    },
    120_000,
  );
});
