import { randomBytes } from 'node:crypto';
import kafkajs, { type Admin, type Consumer, type Kafka } from 'kafkajs';
import { inject } from 'vitest';
import type { ClusterConfig } from '../../src/config/clusters.js';
import { parseConfig } from '../../src/config/config.js';
import { systemClock } from '../../src/core/ports.js';
import { createKafkaLag, type KafkaLag } from '../../src/kafka/connect.js';
import { createLogger } from '../../src/log/logger.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

export function testbed() {
  return inject('kafka');
}

/** Names unique to this run, so tests also work on a shared external cluster. */
export function uniqueName(base: string): string {
  return `${base}-${randomBytes(4).toString('hex')}`;
}

export function kafkaClient(clientId = 'lagbot-test'): Kafka {
  return new KafkaClient({ brokers: testbed().brokers, clientId, logLevel: logLevel.NOTHING });
}

export function lagReader(brokers: string[] = testbed().brokers, overrides: Partial<ClusterConfig> = {}): KafkaLag {
  const config = parseConfig('', { KAFKA_BROKERS: brokers.join(',') });
  return createKafkaLag({ ...config.clusters[0]!, ...overrides }, systemClock, createLogger('silent'));
}

export async function createTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
}

/** Produce `counts[p]` messages to partition p: uneven on purpose, like the case study. */
export async function produce(kafka: Kafka, topic: string, counts: readonly number[]): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (const [partition, count] of counts.entries()) {
      for (let sent = 0; sent < count; sent += 500) {
        const n = Math.min(500, count - sent);
        await producer.send({
          topic,
          messages: Array.from({ length: n }, (_, i) => ({ partition, value: `event-${partition}-${sent + i}` })),
        });
      }
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * A live member that holds its assignment but never commits, so the group's lag stays
 * exactly where the test put it while Kafka's tool and lagbot both read it.
 */
export async function startIdleMember(kafka: Kafka, groupId: string, topic: string): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, heartbeatInterval: 1_000, retry: { retries: 2 } });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: false });
  await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
  return consumer;
}

/** Wait until `check` returns a value (polling), or fail with what was last seen. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A consumer group on a new topic that has consumed and committed `counts` messages per
 * partition: lag is only known once a group has committed. The consumer keeps running, so a
 * test can pause it (lag builds) and resume it (lag drains).
 */
export async function caughtUpGroup(kafka: Kafka, admin: Admin, topic: string, group: string, counts: readonly number[]): Promise<Consumer> {
  await createTopic(admin, topic, counts.length);
  const consumer = kafka.consumer({ groupId: group, heartbeatInterval: 500, sessionTimeout: 30_000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ autoCommitInterval: 100, eachMessage: async () => undefined });
  await produce(kafka, topic, counts);
  await eventually(async () => {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return offsets?.partitions.every((p) => p.offset === String(counts[p.partition]));
  }, 'the group to commit its first offsets');
  return consumer;
}
