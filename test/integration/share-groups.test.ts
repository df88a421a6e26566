import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupLag } from '../../src/core/protocol.js';
import type { KafkaLag } from '../../src/kafka/connect.js';
import { parseKafkaVersion } from '../../tools/kafka-testbed/jars.js';
import { kafkaConsumerGroups, runKafkaClass } from '../../tools/kafka-testbed/tools.js';
import { createTopic, kafkaClient, lagReader, produce, testbed, uniqueName } from '../support/kafka.js';

/**
 * Share groups (KIP-932, production-ready in Kafka 4.2): consumers that share partitions and
 * acknowledge records one by one, with no committed offsets. kafka-consumer-groups hides them;
 * kafka-share-groups describes them. lagbot must list them with their type, never call them
 * dead consumer groups, and show the start offset and lag of each share-partition as
 * kafka-share-groups --describe does, with its members and state as --members and --state do.
 */
const { major, minor } = parseKafkaVersion(testbed().version);
const SHARE_GROUP_COMMAND = 'org.apache.kafka.tools.consumer.group.ShareGroupCommand';

const shareGroups = async (args: string[]): Promise<Array<Record<string, string>>> => {
  const { bootstrap, classpath } = testbed();
  const out = await runKafkaClass(classpath as string, SHARE_GROUP_COMMAND, ['--bootstrap-server', bootstrap, ...args]);
  // One table per group: a header line, then rows; cells never hold spaces in these views,
  // except the coordinator's "host:port  (id)", which is joined back.
  const lines = out.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const header = (lines[0] ?? '').replace('COORDINATOR (ID)', 'COORDINATOR').split(/\s+/);
  return lines.slice(1).map((line) => {
    const cells = line.replace(/ +\((\d+)\)/, '($1)').split(/\s+/);
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
};

const cell = (v: string | undefined): number | null => (v === undefined || v === '-' ? null : Number(v));

describe.runIf(major > 4 || (major === 4 && minor >= 2))('share groups (KIP-932)', () => {
  let kafka: Kafka;
  let admin: Admin;
  let reader: KafkaLag;
  const topic = uniqueName('share-events');
  const group = uniqueName('share-workers');

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 3);
    const { bootstrap, classpath } = testbed();
    if (!classpath) throw new Error('Kafka CLI jars are needed for the share consumer (install Java 17 + Maven)');
    // A share group starts at the log end unless told otherwise; this one reads from the start.
    await runKafkaClass(classpath, 'org.apache.kafka.tools.ConfigCommand', [
      '--bootstrap-server', bootstrap, '--alter', '--entity-type', 'groups', '--entity-name', group, '--add-config', 'share.auto.offset.reset=earliest',
    ]);
    await produce(kafka, topic, [60, 25, 10]);
    // Takes 40 of 95 records, acknowledges them, and leaves.
    await runKafkaClass(classpath, 'org.apache.kafka.tools.consumer.ConsoleShareConsumer', [
      '--bootstrap-server', bootstrap, '--topic', topic, '--group', group, '--max-messages', '40',
    ], { timeoutMs: 90_000 });
    reader = lagReader();
  }, 180_000);

  afterAll(async () => {
    await reader?.stop();
    await admin?.disconnect();
  });

  it('start offset and lag of each share-partition equal kafka-share-groups --describe', async () => {
    const lag = (await reader.reader.readGroup(group)) as GroupLag;
    const theirs = (await shareGroups(['--describe', '--group', group]))
      .map((r) => [Number(r['PARTITION']), cell(r['START-OFFSET']), cell(r['LAG'])])
      .sort();
    expect(theirs).toHaveLength(3);
    expect(theirs.some((r) => (r[1] ?? 0) > 0), 'the consumer moved some start offset').toBe(true);
    expect(lag).toMatchObject({ protocol: 'share', membersVisible: true });
    expect(lag.partitions.map((p) => [p.partition, p.committedOffset, p.lag]).sort()).toEqual(theirs);
    expect(lag.totalLag).toBe(theirs.reduce((n, r) => n + (r[2] ?? 0), 0));
    expect(lag.totalLag).toBeGreaterThan(0);
  });

  it('state, members and epochs equal kafka-share-groups --state --verbose and --members', async () => {
    const lag = (await reader.reader.readGroup(group)) as GroupLag;
    const [state] = await shareGroups(['--describe', '--group', group, '--state', '--verbose']);
    expect(lag.state).toBe(state?.['STATE']);
    expect(lag.state).not.toBe('Dead');
    expect(lag.epochs).toEqual({ group: cell(state?.['GROUP-EPOCH']), assignment: cell(state?.['ASSIGNMENT-EPOCH']) });
    expect(lag.members).toHaveLength(cell(state?.['#MEMBERS']) ?? -1);
    const members = await shareGroups(['--describe', '--group', group, '--members']);
    expect(lag.members.map((m) => m.memberId).sort()).toEqual(members.filter((m) => m['CONSUMER-ID']).map((m) => m['CONSUMER-ID']).sort());
  });

  it('is listed as a share group, not as a dead consumer group, and kafka-consumer-groups does not know it', async () => {
    const all = await reader.reader.readAllGroups();
    const ours = all.find((g) => g.group === group);
    expect(ours).toMatchObject({ protocol: 'share', protocolType: 'share' });
    expect(ours?.state).not.toBe('Dead');
    const { bootstrap, classpath } = testbed();
    expect(await kafkaConsumerGroups({ bootstrap, classpath: classpath as string }, ['--list'])).not.toContain(group);
  });
});
