import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../src/cli/main.js';
import type { GroupLag, TopicPartitions } from '../../src/core/protocol.js';
import type { GroupLagJson } from '../../src/views/json.js';
import type { KafkaLag } from '../../src/kafka/connect.js';
import { parseKafkaVersion } from '../../tools/kafka-testbed/jars.js';
import {
  kafkaConsumerGroups,
  parseDescribeMembers,
  parseDescribeOffsets,
  parseDescribeState,
  runKafkaClass,
  startKafkaClass,
  type RunningKafkaClass,
  type TopicAssignment,
} from '../../tools/kafka-testbed/tools.js';
import { findingsOfRead as diagnose } from '../support/findings.js';
import { createTopic, eventually, kafkaClient, lagReader, produce, testbed, uniqueName } from '../support/kafka.js';

/**
 * Groups on the KIP-848 consumer protocol (opt-in for Java consumers on 4.x brokers, the
 * default from 5.0). kafkajs' classic DescribeGroups does not see them; lagbot describes them
 * with its own ConsumerGroupDescribe (src/kafka/flexible/requests.ts) and must show what
 * `kafka-consumer-groups --describe --members --verbose` and `--state --verbose` show. With
 * the flexible requests switched off (the fallback for brokers without them), lag must still
 * be exact and the group never called dead. Kafka's own console consumer makes the groups;
 * brokers before 4.0 do not enable the protocol, so the file runs against 4.x only.
 */
const major = parseKafkaVersion(testbed().version).major;

const cli = (args: string[]) => {
  const { bootstrap, classpath } = testbed();
  return kafkaConsumerGroups({ bootstrap, classpath: classpath as string }, args);
};

/** The CLI's assignment cell as lagbot models it (4.x prints each topic with its partitions). */
const asTopics = (cells: readonly TopicAssignment[]): TopicPartitions[] =>
  cells.map((c) => ({ topic: c.topic ?? '', partitions: [...c.partitions].sort((a, b) => a - b) })).sort((a, b) => (a.topic < b.topic ? -1 : 1));

describe.runIf(major >= 4)('KIP-848 consumer-protocol groups', () => {
  let kafka: Kafka;
  let admin: Admin;
  let reader: KafkaLag;
  let kafkajsOnly: KafkaLag;
  const members: RunningKafkaClass[] = [];
  const topic = uniqueName('kip848-events');
  /** Read 120 of 300 messages, committed, and left: Empty, with lag. */
  const finished = uniqueName('kip848-finished');
  /** Two console consumers that stay: Stable, with members, epochs and assignments. */
  const live = uniqueName('kip848-live');

  const consumerArgs = (group: string, extra: string[]) => {
    const { bootstrap } = testbed();
    return [
      '--bootstrap-server', bootstrap,
      '--topic', topic,
      '--group', group,
      '--from-beginning',
      '--consumer-property', 'group.protocol=consumer',
      '--consumer-property', 'max.poll.records=10',
      ...extra,
    ];
  };

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 4);
    await produce(kafka, topic, [200, 100, 0, 0]);
    const { classpath } = testbed();
    if (!classpath) throw new Error('Kafka CLI jars are needed for the console consumer (install Java 17 + Maven)');
    await runKafkaClass(classpath, 'org.apache.kafka.tools.consumer.ConsoleConsumer', consumerArgs(finished, ['--max-messages', '120']), { timeoutMs: 90_000 });
    for (const client of ['lagbot-kip848-a', 'lagbot-kip848-b']) {
      members.push(await startKafkaClass(classpath, 'org.apache.kafka.tools.consumer.ConsoleConsumer', consumerArgs(live, ['--consumer-property', `client.id=${client}`])));
    }
    reader = lagReader();
    kafkajsOnly = lagReader(testbed().brokers, { flexibleRequests: false });
    // Both members joined and reached their target assignment (the CLI is the judge).
    await eventually(async () => {
      const rows = parseDescribeMembers(await cli(['--describe', '--group', live, '--members', '--verbose']));
      return rows.length === 2 && rows.every((r) => r.partitions === 2 && r.currentEpoch !== null && r.currentEpoch === r.targetEpoch);
    }, 'two KIP-848 members with two partitions each', 90_000);
  }, 240_000);

  afterAll(async () => {
    await Promise.all(members.map((m) => m.stop()));
    await reader?.stop();
    await kafkajsOnly?.stop();
    await admin?.disconnect();
  });

  it('members, client ids, hosts, epochs and current and target assignments equal kafka-consumer-groups --members --verbose', async () => {
    const lag = (await reader.reader.readGroup(live)) as GroupLag;
    const theirs = parseDescribeMembers(await cli(['--describe', '--group', live, '--members', '--verbose']));
    expect(lag).toMatchObject({ protocol: 'consumer', membersVisible: true });
    const ours = lag.members.map((m) => ({
      consumerId: m.memberId,
      host: m.host,
      clientId: m.clientId,
      partitions: m.assignment.reduce((n, t) => n + t.partitions.length, 0),
      assignment: m.assignment,
      currentEpoch: m.memberEpoch,
      targetAssignment: m.targetAssignment,
    }));
    const expected = theirs.map((r) => ({
      consumerId: r.consumerId,
      host: r.host.replace(/^\//, ''),
      clientId: r.clientId,
      partitions: r.partitions,
      assignment: asTopics(r.assignment),
      currentEpoch: r.currentEpoch,
      targetAssignment: asTopics(r.targetAssignment ?? []),
    }));
    const byId = (a: { consumerId: string }, b: { consumerId: string }) => (a.consumerId < b.consumerId ? -1 : 1);
    expect(ours.sort(byId)).toEqual(expected.sort(byId));
    expect(new Set(lag.members.map((m) => m.clientId))).toEqual(new Set(['lagbot-kip848-a', 'lagbot-kip848-b']));
  });

  it('lagbot lag GROUP --json and the table say the same members, epochs and assignments as kafka-consumer-groups', async () => {
    const out: string[] = [];
    const io: CliIo = { stdout: (t) => out.push(t), stderr: () => undefined, env: { KAFKA_BROKERS: testbed().bootstrap } };
    expect(await main(['lag', live, '--json'], io)).toBe(0);
    const json = JSON.parse(out.join('\n')) as GroupLagJson;
    const [state] = parseDescribeState(await cli(['--describe', '--group', live, '--state', '--verbose']));
    expect(json).toMatchObject({ type: 'consumer', protocol: 'consumer', membersVisible: true, state: state?.state, groupEpoch: state?.groupEpoch, assignmentEpoch: state?.targetAssignmentEpoch });
    const theirs = parseDescribeMembers(await cli(['--describe', '--group', live, '--members', '--verbose']));
    const byId = <T extends { memberId: string }>(a: T, b: T) => (a.memberId < b.memberId ? -1 : 1);
    expect(json.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.host, memberEpoch: m.memberEpoch, assignment: m.assignment, targetAssignment: m.targetAssignment })).sort(byId)).toEqual(
      theirs
        .map((r) => ({ memberId: r.consumerId, clientId: r.clientId, host: r.host.replace(/^\//, ''), memberEpoch: r.currentEpoch, assignment: asTopics(r.assignment), targetAssignment: asTopics(r.targetAssignment ?? []) }))
        .sort(byId),
    );
    out.length = 0;
    expect(await main(['lag', live, '--members'], io)).toBe(0);
    const table = out.join('\n');
    for (const r of theirs) {
      expect(table).toContain(r.consumerId);
      expect(table).toContain(r.clientId);
    }
  });

  it('state, assignor, group epoch and target assignment epoch equal kafka-consumer-groups --state --verbose', async () => {
    const lag = (await reader.reader.readGroup(live)) as GroupLag;
    const [state] = parseDescribeState(await cli(['--describe', '--group', live, '--state', '--verbose']));
    expect(state).toBeDefined();
    expect(lag.state).toBe(state?.state);
    expect(lag.state).toBe('Stable');
    expect(lag.assignmentStrategy).toBe(state?.assignmentStrategy);
    expect(lag.epochs).toEqual({ group: state?.groupEpoch, assignment: state?.targetAssignmentEpoch });
    expect(lag.members).toHaveLength(state?.members ?? -1);
  });

  it('says which member owns each partition, as kafka-consumer-groups --describe does', async () => {
    await produce(kafka, topic, [0, 0, 40, 0]);
    const out = await cli(['--describe', '--group', live]);
    const lag = (await reader.reader.readGroup(live)) as GroupLag;
    const owners = new Map(parseDescribeOffsets(out).map((r) => [r.partition, r.consumerId]));
    expect(owners.size).toBe(4);
    for (const p of lag.partitions) expect(p.memberId, `partition ${p.partition}`).toBe(owners.get(p.partition));
  });

  it('a group whose members left is Empty with its lag exact, and its finding is that nobody consumes', async () => {
    const lag = (await reader.reader.readGroup(finished)) as GroupLag;
    const theirs = parseDescribeOffsets(await cli(['--describe', '--group', finished]))
      .map((r) => [r.partition, r.currentOffset, r.logEndOffset, r.lag])
      .sort();
    expect(lag).toMatchObject({ protocol: 'consumer', state: 'Empty', membersVisible: true, members: [] });
    expect(lag.partitions.map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag]).sort()).toEqual(theirs);
    // 300 produced before it read 120, and whatever the other tests produced since.
    expect(lag.totalLag).toBe(theirs.reduce((n, row) => n + (row[3] ?? 0), 0));
    expect(lag.totalLag).toBeGreaterThanOrEqual(300 - 120);
    expect(diagnose(lag).map((h) => h.kind)).toContain('stopped');
  });

  it('the all-groups read types each group, as kafka-consumer-groups --list --type does', async () => {
    const all = await reader.reader.readAllGroups();
    const listed = await cli(['--list', '--type']);
    const typeOf = (group: string) => listed.split('\n').find((l) => l.startsWith(`${group} `))?.trim().split(/\s+/)[1]?.toLowerCase();
    for (const group of [finished, live]) {
      const ours = all.find((g) => g.group === group);
      expect(ours?.protocol, group).toBe(typeOf(group));
      expect(ours?.membersVisible).toBe(true);
    }
  });

  it('with the flexible requests off (a broker without them): the same lag, members not visible, never dead', async () => {
    for (const group of [finished, live]) {
      const [fallback, full] = await Promise.all([kafkajsOnly.reader.readGroup(group), reader.reader.readGroup(group)]);
      expect(fallback).toMatchObject({ protocol: 'consumer', membersVisible: false, members: [] });
      expect(fallback?.state).not.toBe('Dead');
      expect(fallback?.partitions.map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag])).toEqual(full?.partitions.map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag]));
      expect(diagnose(fallback as GroupLag).map((h) => h.kind)).toContain('members-not-visible');
    }
    const all = await kafkajsOnly.reader.readAllGroups();
    expect(all.find((g) => g.group === finished)).toMatchObject({ protocol: 'consumer', membersVisible: false });
  });
});
