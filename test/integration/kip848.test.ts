import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findingsOfRead as diagnose } from '../support/findings.js';
import type { KafkaLag } from '../../src/kafka/connect.js';
import { parseKafkaVersion } from '../../tools/kafka-testbed/jars.js';
import { kafkaConsumerGroups, parseDescribeOffsets, runKafkaClass } from '../../tools/kafka-testbed/tools.js';
import { createTopic, kafkaClient, lagReader, produce, testbed, uniqueName } from '../support/kafka.js';

/**
 * Groups on the KIP-848 consumer protocol (the default for new Java consumers on 4.x
 * brokers) are invisible to the classic DescribeGroups that kafkajs speaks. Their lag must
 * still be exact, and they must never be called dead. Kafka's own console consumer makes
 * such a group here; brokers before 4.0 do not enable the protocol, so the file only runs
 * against 4.x (the 3.9 run in CI covers the classic protocol).
 */
const major = parseKafkaVersion(testbed().version).major;

describe.runIf(major >= 4)('a KIP-848 consumer-protocol group', () => {
  let kafka: Kafka;
  let admin: Admin;
  let reader: KafkaLag;
  const topic = uniqueName('kip848-events');
  const group = uniqueName('kip848-consumer');

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 2);
    await produce(kafka, topic, [200, 100]);
    const { bootstrap, classpath } = testbed();
    if (!classpath) throw new Error('Kafka CLI jars are needed for the console consumer (install Java 17 + Maven)');
    // Reads 120 of 300 messages with the new protocol, commits on close, and leaves.
    await runKafkaClass(classpath, 'org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server', bootstrap,
      '--topic', topic,
      '--group', group,
      '--from-beginning',
      '--max-messages', '120',
      '--consumer-property', 'group.protocol=consumer',
      '--consumer-property', 'max.poll.records=10',
    ], { timeoutMs: 90_000 });
    reader = lagReader();
  });

  afterAll(async () => {
    await reader?.stop();
    await admin?.disconnect();
  });

  it('has exact lag, equal to kafka-consumer-groups, and is not reported dead', async () => {
    const lag = await reader.reader.readGroup(group);
    expect(lag).not.toBeNull();
    if (!lag) return;
    expect(lag.protocol).toBe('consumer');
    expect(lag.state).not.toBe('Dead');
    expect(lag.membersVisible).toBe(false);

    const { bootstrap, classpath } = testbed();
    const theirs = parseDescribeOffsets(await kafkaConsumerGroups({ bootstrap, classpath: classpath as string }, ['--describe', '--group', group]))
      .map((r) => [r.partition, r.currentOffset, r.logEndOffset, r.lag])
      .sort();
    const ours = lag.partitions.map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag]).sort();
    expect(ours).toEqual(theirs);
    expect(lag.totalLag).toBe(theirs.reduce((n, row) => n + (row[3] ?? 0), 0));
    expect(lag.totalLag).toBeGreaterThan(0);
    expect(diagnose(lag).map((h) => h.kind)).toContain('members-not-visible');
    expect(diagnose(lag).map((h) => h.kind)).not.toContain('stopped');
  });

  it('appears in the all-groups read, marked as consumer protocol', async () => {
    const all = await reader.reader.readAllGroups();
    expect(all.find((g) => g.group === group)).toMatchObject({ protocol: 'consumer', membersVisible: false });
  });
});
