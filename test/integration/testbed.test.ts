import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseKafkaVersion } from '../../tools/kafka-testbed/jars.js';
import {
  consumerGroupErrors,
  kafkaConsumerGroups,
  parseAssignment,
  parseDescribeMembers,
  parseDescribeOffsets,
  parseDescribeState,
} from '../../tools/kafka-testbed/tools.js';

const kafka = inject('kafka');
// Unique names so the test also runs against a shared KAFKA_BROKERS cluster.
const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const TOPIC = `lagbot-testbed-${run}`;
const IDLE = `lagbot-testbed-idle-${run}`;
const ACTIVE = `lagbot-testbed-active-${run}`;
const CLIENT_ID = 'lagbot-testbed';
// Uneven on purpose: a wrong partition mapping cannot pass by symmetry.
const PRODUCED = [7, 3, 0];
const COMMITTED = [4, 1, 0];
const cli = kafka.classpath ? { bootstrap: kafka.bootstrap, classpath: kafka.classpath } : null;
const major = parseKafkaVersion(kafka.version).major;

describe('real Kafka test bed', () => {
  const client = new Kafka({ brokers: kafka.brokers, clientId: CLIENT_ID, logLevel: logLevel.NOTHING });
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    admin = client.admin();
    producer = client.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }], waitForLeaders: true });
    await producer.send({
      topic: TOPIC,
      messages: PRODUCED.flatMap((n, partition) =>
        Array.from({ length: n }, (_, i) => ({ partition, value: `p${partition}-m${i}` })),
      ),
    });
    await admin.setOffsets({
      groupId: IDLE,
      topic: TOPIC,
      partitions: COMMITTED.map((offset, partition) => ({ partition, offset: String(offset) })),
    });
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await admin?.deleteGroups([IDLE, ACTIVE]).catch(() => {});
    await admin?.deleteTopics({ topics: [TOPIC] }).catch(() => {});
    await Promise.all([admin?.disconnect(), producer?.disconnect()]);
  });

  it('broker is the advertised 127.0.0.1 listener and has the produced log-end offsets', async () => {
    if (!kafka.external) expect(kafka.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    const offsets = await admin.fetchTopicOffsets(TOPIC);
    expect(offsets.map((o) => [o.partition, Number(o.high)]).sort()).toEqual(PRODUCED.map((n, p) => [p, n]));
  });

  it.skipIf(!cli)('ConsumerGroupCommand --describe reports the committed offsets of a group with no members', async () => {
    const out = await kafkaConsumerGroups(cli!, ['--describe', '--group', IDLE]);
    expect(consumerGroupErrors(out)).toEqual([]);
    const rows = parseDescribeOffsets(out).sort((a, b) => a.partition - b.partition);
    expect(rows).toEqual(
      COMMITTED.map((current, partition) => ({
        group: IDLE,
        topic: TOPIC,
        partition,
        currentOffset: current,
        logEndOffset: PRODUCED[partition],
        lag: (PRODUCED[partition] ?? 0) - current,
        consumerId: null,
        host: null,
        clientId: null,
        leaderEpoch: null,
      })),
    );

    const state = parseDescribeState(await kafkaConsumerGroups(cli!, ['--describe', '--group', IDLE, '--state']));
    expect(state).toEqual([
      expect.objectContaining({ group: IDLE, state: 'Empty', members: 0, assignmentStrategy: null }),
    ]);
    expect(state[0]?.coordinator).toMatch(/^\S+:\d+ +\(\d+\)$/);

    const members = await kafkaConsumerGroups(cli!, ['--describe', '--group', IDLE, '--members', '--verbose']);
    expect(parseDescribeMembers(members)).toEqual([]);
  });

  it.skipIf(!cli)('ConsumerGroupCommand describes a live kafkajs member, alone and with --all-groups', async () => {
    const c = client.consumer({ groupId: ACTIVE });
    consumer = c;
    await c.connect();
    await c.subscribe({ topic: TOPIC, fromBeginning: true });
    let seen = 0;
    await c.run({
      eachMessage: async () => {
        seen++;
      },
    });
    const total = PRODUCED.reduce((a, b) => a + b, 0);
    // Wait until every message is consumed and its offset committed, so the CLI sees lag 0.
    await waitFor(async () => {
      if (seen < total) return false;
      const [committed] = await admin.fetchOffsets({ groupId: ACTIVE, topics: [TOPIC] });
      return PRODUCED.every(
        (n, p) => n === 0 || Number(committed?.partitions.find((x) => x.partition === p)?.offset) === n,
      );
    }, 30_000);

    const rows = parseDescribeOffsets(await kafkaConsumerGroups(cli!, ['--describe', '--group', ACTIVE]));
    expect(rows.map((r) => [r.partition, r.currentOffset, r.logEndOffset, r.lag]).sort()).toEqual(
      // Nothing was ever committed for the empty partition: the CLI prints "-" there.
      PRODUCED.map((n, p) => (n === 0 ? [p, null, 0, null] : [p, n, n, 0])),
    );
    for (const r of rows) {
      expect(r.consumerId).toMatch(new RegExp(`^${CLIENT_ID}-`));
      expect(r.host).toMatch(/^\/?[\d.:a-f]+$/);
      expect(r.clientId).toBe(CLIENT_ID);
    }

    const members = parseDescribeMembers(
      await kafkaConsumerGroups(cli!, ['--describe', '--group', ACTIVE, '--members', '--verbose']),
    );
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ group: ACTIVE, clientId: CLIENT_ID, partitions: 3 });
    // Kafka 3.7-3.9's Java port of the command drops topic names from ASSIGNMENT.
    expect(members[0]?.assignment).toEqual([{ topic: major >= 4 ? TOPIC : null, partitions: [0, 1, 2] }]);

    const state = parseDescribeState(await kafkaConsumerGroups(cli!, ['--describe', '--group', ACTIVE, '--state']));
    expect(state).toEqual([
      expect.objectContaining({ group: ACTIVE, state: 'Stable', members: 1, assignmentStrategy: 'RoundRobinAssigner' }),
    ]);

    // Several tables in one output (3.9 prints them without a blank line in between).
    const all = parseDescribeOffsets(await kafkaConsumerGroups(cli!, ['--describe', '--all-groups']))
      .filter((r) => r.topic === TOPIC)
      .sort((a, b) => a.partition - b.partition);
    expect(new Set(all.map((r) => r.group))).toEqual(new Set([IDLE, ACTIVE]));
    expect(all.filter((r) => r.group === IDLE).map((r) => r.lag)).toEqual(
      COMMITTED.map((c, p) => (PRODUCED[p] ?? 0) - c),
    );
  });
});

describe('ConsumerGroupCommand parsers on recorded output', () => {
  it('3.9: back-to-back --all-groups tables, blank strategy, topic-less assignment', () => {
    const offsets = [
      '',
      "Consumer group 'idle' has no active members.",
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID',
      'a               orders          2          -               0               -               c-1             /127.0.0.1      my client',
      'GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID',
      'idle            orders          0          3               5               2               -               -               -',
    ].join('\n');
    expect(parseDescribeOffsets(offsets).map((r) => [r.group, r.partition, r.currentOffset, r.lag, r.clientId])).toEqual([
      ['a', 2, null, null, 'my client'],
      ['idle', 0, 3, 2, null],
    ]);
    const state = [
      'GROUP                     COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE           #MEMBERS',
      'idle                      127.0.0.1:36073  (1)                           Empty           0',
    ].join('\n');
    expect(parseDescribeState(state)).toEqual([
      {
        group: 'idle',
        coordinator: '127.0.0.1:36073  (1)',
        assignmentStrategy: null,
        state: 'Empty',
        members: 0,
        groupEpoch: null,
        targetAssignmentEpoch: null,
      },
    ]);
    const members = [
      'GROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     ASSIGNMENT',
      'g               c-1             /127.0.0.1      cli             5               (0,1), (0,1,2)',
      'g               c-2             /127.0.0.1      cli             0               ',
    ].join('\n');
    expect(parseDescribeMembers(members).map((m) => [m.consumerId, m.partitions, m.assignment])).toEqual([
      ['c-1', 5, [{ topic: null, partitions: [0, 1] }, { topic: null, partitions: [0, 1, 2] }]],
      ['c-2', 0, []],
    ]);
    expect(consumerGroupErrors("\nError: Consumer group 'nope' does not exist.\n")).toEqual([
      "Consumer group 'nope' does not exist.",
    ]);
  });

  it('4.x: epochs and target assignment in --verbose views', () => {
    const members = [
      'GROUP           CONSUMER-ID            HOST            CLIENT-ID        #PARTITIONS     CURRENT-EPOCH   CURRENT-ASSIGNMENT   TARGET-EPOCH    TARGET-ASSIGNMENT   ',
      'new-proto       yZ7JaZZpSzmk9UYHgd6vaQ /127.0.0.1      console-consumer 3               1               orders:0,1;b:2       2               orders:0,1,2        ',
    ].join('\n');
    expect(parseDescribeMembers(members)[0]).toMatchObject({
      currentEpoch: 1,
      targetEpoch: 2,
      assignment: [
        { topic: 'orders', partitions: [0, 1] },
        { topic: 'b', partitions: [2] },
      ],
      targetAssignment: [{ topic: 'orders', partitions: [0, 1, 2] }],
    });
    const state = [
      'GROUP           COORDINATOR (ID)          ASSIGNMENT-STRATEGY  STATE                GROUP-EPOCH     TARGET-ASSIGNMENT-EPOCH   #MEMBERS',
      'new-proto       127.0.0.1:37791  (1)      uniform              Stable               4               3                         1',
    ].join('\n');
    expect(parseDescribeState(state)[0]).toMatchObject({
      assignmentStrategy: 'uniform',
      state: 'Stable',
      groupEpoch: 4,
      targetAssignmentEpoch: 3,
      members: 1,
    });
    expect(parseAssignment('orders(0,1,2), other(3)')).toEqual([
      { topic: 'orders', partitions: [0, 1, 2] },
      { topic: 'other', partitions: [3] },
    ]);
    expect(parseAssignment('-')).toEqual([]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
