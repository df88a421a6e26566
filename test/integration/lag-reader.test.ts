import type { Admin, Consumer, Kafka } from 'kafkajs';
import { ourRows, stripSlash, theirRowsByGroup } from '../support/consumer-groups.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../src/core/findings.js';
import { findingText } from '../../src/views/finding-text.js';
import { findingsOfRead as diagnose } from '../support/findings.js';
import type { GroupLag } from '../../src/core/protocol.js';
import type { KafkaLag } from '../../src/kafka/connect.js';
import type { AdminSession } from '../../src/kafka/admin-session.js';
import type { ClusterReads, TopicCatalog } from '../../src/kafka/cluster-reads.js';
import { KafkaLagReader } from '../../src/kafka/lag-reader.js';
import { systemClock } from '../../src/core/ports.js';
import { LagUnavailableError } from '../../src/core/ports.js';
import { groupJson } from '../../src/views/json.js';
import { kafkaConsumerGroups, parseDescribeMembers } from '../../tools/kafka-testbed/tools.js';
import { freePorts } from '../../tools/kafka-testbed/broker.js';
import {
  createTopic,
  eventually,
  kafkaClient,
  lagReader,
  produce,
  startIdleMember,
  testbed,
  uniqueName,
} from '../support/kafka.js';

/**
 * lagbot against a real broker, checked row by row against Kafka's own
 * kafka-consumer-groups on the same state. The scenario is the case study's: one topic
 * with three partitions, partition 1 far behind.
 */

const PRODUCED = [3_000, 12_000, 2_000];
const COMMITTED = [2_500, 1_200, 1_900];

function cli() {
  const { bootstrap, classpath } = testbed();
  if (!classpath) throw new Error('Kafka CLI jars are needed to compare with kafka-consumer-groups (install Java 17 + Maven)');
  return { bootstrap, classpath };
}

/** lagbot's rows and Kafka's tool's rows for the same group, in the same shape. */
async function compareWithKafkaTool(lag: GroupLag) {
  const theirs = theirRowsByGroup(await kafkaConsumerGroups(cli(), ['--describe', '--group', lag.group])).get(lag.group) ?? [];
  return { ours: ourRows(lag), theirs };
}

/** The session a KafkaLag reads through (a private field: the reads it hands out are what these tests watch). */
const sessionOf = (kafkaLag: KafkaLag): AdminSession => (kafkaLag.reader as unknown as { session: AdminSession }).session;

/** A reader on `kafkaLag`'s session that records each catalog it asks for (the topics named, or 'all') and the topics the answer held. */
function recordingCatalogReads(kafkaLag: KafkaLag) {
  const session = sessionOf(kafkaLag);
  const asked: Array<{ topics: readonly string[] | 'all'; held: number }> = [];
  const record = (topics: readonly string[] | 'all', catalog: TopicCatalog) => {
    asked.push({ topics, held: catalog.names.size });
    return catalog;
  };
  const watched = (reads: ClusterReads): ClusterReads => ({
    topics: () => reads.topics().then((catalog) => record('all', catalog)),
    topicsOf: (topics) => reads.topicsOf(topics).then((catalog) => record([...topics], catalog)),
    listGroups: (catalog) => reads.listGroups(catalog),
    describeGroups: (groupIds, types) => reads.describeGroups(groupIds, types),
    fetchCommitted: (groupIds) => reads.fetchCommitted(groupIds),
    fetchShareOffsets: (groupIds) => reads.fetchShareOffsets(groupIds),
    topicOffsets: (topics, catalog) => reads.topicOffsets(topics, catalog),
  });
  const watchedSession = { config: session.config, use: (what: string, read: Parameters<AdminSession['use']>[1]) => session.use(what, (reads, cluster) => read(watched(reads), cluster)) };
  return { reader: new KafkaLagReader('lab', watchedSession as unknown as AdminSession, systemClock), asked, stop: () => kafkaLag.stop() };
}

describe('lag engine on a real broker', () => {
  let kafka: Kafka;
  let admin: Admin;
  let reader: KafkaLag;
  const topic = uniqueName('user-events');
  const emptyGroup = uniqueName('user-events-batch');
  const liveGroup = uniqueName('user-events-consumer');
  const members: Consumer[] = [];

  beforeAll(async () => {
    kafka = kafkaClient();
    admin = kafka.admin();
    await admin.connect();
    await createTopic(admin, topic, 3);
    await produce(kafka, topic, PRODUCED);
    for (const groupId of [emptyGroup, liveGroup]) {
      await admin.setOffsets({ groupId, topic, partitions: COMMITTED.map((offset, partition) => ({ partition, offset: String(offset) })) });
    }
    reader = lagReader();
  });

  afterAll(async () => {
    await Promise.all(members.map((m) => m.disconnect()));
    await reader?.stop();
    await admin?.disconnect();
  });

  it('reads a group with committed offsets and no members exactly as kafka-consumer-groups does', async () => {
    const lag = await reader.reader.readGroup(emptyGroup);
    expect(lag).not.toBeNull();
    if (!lag) return;
    expect(lag.state).toBe('Empty');
    expect(lag.members).toEqual([]);
    expect(lag.partitions.map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag])).toEqual([
      [1, 1_200, 12_000, 10_800],
      [0, 2_500, 3_000, 500],
      [2, 1_900, 2_000, 100],
    ]);
    expect(lag.totalLag).toBe(11_400);
    const { ours, theirs } = await compareWithKafkaTool(lag);
    expect(ours).toEqual(theirs);
    expect(diagnose(lag).map((h) => h.kind)).toEqual(['hot-partition', 'stopped']);
  });

  it('reads a live group: owners and member assignments equal --describe and --members --verbose', async () => {
    for (let i = 0; i < 3; i += 1) members.push(await startIdleMember(kafkaClient(`user-events-worker-${i}`), liveGroup, topic));
    const lag = await eventually(async () => {
      const l = await reader.reader.readGroup(liveGroup);
      return l?.state === 'Stable' && l.members.length === 3 && l.partitions.every((p) => p.memberId !== null) ? l : null;
    }, 'three members to own the three partitions');

    const { ours, theirs } = await compareWithKafkaTool(lag);
    expect(ours).toEqual(theirs);
    expect(ours.every((row) => row.memberId && row.host && row.clientId?.startsWith('user-events-worker-'))).toBe(true);

    const theirMembers = parseDescribeMembers(await kafkaConsumerGroups(cli(), ['--describe', '--group', liveGroup, '--members', '--verbose']))
      .map((m) => ({
        memberId: m.consumerId,
        host: stripSlash(m.host),
        clientId: m.clientId,
        assignment: m.assignment.map((a) => ({ topic: a.topic ?? topic, partitions: [...a.partitions].sort() })),
      }))
      .sort((a, b) => a.memberId.localeCompare(b.memberId));
    const ourMembers = groupJson(lag)
      .members.map((m) => ({ memberId: m.memberId, host: m.host, clientId: m.clientId, assignment: m.assignment }))
      .sort((a, b) => a.memberId.localeCompare(b.memberId));
    expect(ourMembers).toEqual(theirMembers);

    const hot = diagnose(lag).find((h) => h.kind === 'hot-partition');
    const owner = lag.partitions.find((p) => p.partition === 1);
    expect(hot).toMatchObject({ topic, partition: 1, owner: { memberId: owner?.memberId, clientId: owner?.clientId, host: owner?.host } });
    expect(findingText(hot as Finding)).toContain(`${topic}-1 holds 95% of the lag`);
    expect(lag.assignmentStrategy).toBeTruthy();
  });

  it('reports idle members when the group has more consumers than partitions', async () => {
    members.push(await startIdleMember(kafkaClient('user-events-worker-3'), liveGroup, topic));
    const lag = await eventually(async () => {
      const l = await reader.reader.readGroup(liveGroup);
      return l?.state === 'Stable' && l.members.length === 4 && l.partitions.every((p) => p.memberId !== null) ? l : null;
    }, 'four members, three of them with a partition');
    expect(lag.members.filter((m) => m.assignment.length === 0)).toHaveLength(1);
    expect(diagnose(lag).find((h) => h.kind === 'idle-members')).toEqual({ kind: 'idle-members', idle: 1, members: 4, partitions: 3 });
  });

  it('reads all groups at once, with the same numbers as one at a time', async () => {
    const all = await reader.reader.readAllGroups();
    const mine = all.filter((g) => g.group === emptyGroup || g.group === liveGroup);
    expect(mine.map((g) => [g.group, g.totalLag]).sort()).toEqual(
      [
        [emptyGroup, 11_400],
        [liveGroup, 11_400],
      ].sort(),
    );
  });

  it('every group is read with Metadata for all topics, one group with Metadata for its own alone, and the numbers are the same', async () => {
    const watched = recordingCatalogReads(lagReader());
    try {
      // The other tests' topics are on the broker too: an answer for all holds more than one.
      const all = await watched.reader.readAllGroups();
      expect(watched.asked).toEqual([{ topics: 'all', held: expect.any(Number) as number }]);
      const held = watched.asked[0]?.held ?? 0;
      expect(held).toBeGreaterThan(1);
      expect(all.find((g) => g.group === emptyGroup)?.totalLag).toBe(11_400);

      watched.asked.length = 0;
      const one = await watched.reader.readGroup(emptyGroup);
      expect(watched.asked).toEqual([{ topics: [topic], held: 1 }]);
      expect(ourRows(one as GroupLag)).toEqual(ourRows((await reader.reader.readGroup(emptyGroup)) as GroupLag));
    } finally {
      await watched.stop();
    }
  });

  it('the catalog of named topics has their leaders and every broker, and leaves out a topic that does not exist', async () => {
    const missing = uniqueName('never-created');
    const kafkaLag = lagReader();
    try {
      const named = () => sessionOf(kafkaLag).use('naming topics', (reads) => reads.topicsOf([topic, missing]));
      // Before a whole answer kafkajs' pool knows no broker to reach the leaders through: the whole catalog, which fills it.
      const first = await named();
      expect(first.names.size).toBeGreaterThan(1);
      expect(first.names.has(topic)).toBe(true);
      expect(first.names.has(missing)).toBe(false);
      const catalog = await named();
      expect([...catalog.names]).toEqual([topic]);
      expect(catalog.leaders?.get(topic)?.map((p) => p.partition).sort()).toEqual([0, 1, 2]);
      expect(catalog.leaders?.get(topic)?.every((p) => p.leader >= 0)).toBe(true);
      expect(catalog.brokers).toHaveLength(testbed().brokers.length);
    } finally {
      await kafkaLag.stop();
    }
  });

  it('with the flexible requests off (kafkajs\' own, one OffsetFetch per group, as for a broker without v8): every group as kafka-consumer-groups --all-groups shows it', async () => {
    const fallback = lagReader(testbed().brokers, { flexibleRequests: false });
    try {
      const [ours, full, out] = await Promise.all([fallback.reader.readAllGroups(), reader.reader.readAllGroups(), kafkaConsumerGroups(cli(), ['--describe', '--all-groups'])]);
      const theirs = theirRowsByGroup(out);
      for (const group of [emptyGroup, liveGroup]) {
        const lag = ours.find((g) => g.group === group);
        expect(lag, group).toBeDefined();
        expect(ourRows(lag as GroupLag), group).toEqual(theirs.get(group));
        expect(ourRows(lag as GroupLag)).toEqual(ourRows(full.find((g) => g.group === group) as GroupLag));
      }
    } finally {
      await fallback.stop();
    }
  });

  it('returns null for a group that does not exist, and lists the ones that do', async () => {
    expect(await reader.reader.readGroup(uniqueName('no-such-group'))).toBeNull();
    expect(await reader.reader.listGroupNames()).toEqual(expect.arrayContaining([emptyGroup, liveGroup]));
  });

  it('flags a committed offset below the log start and counts only what retention left', async () => {
    const group = uniqueName('retention-victim');
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 2, offset: '100' }] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 2, offset: '1500' }] });
    // A reader re-reads a log start it read less than a minute ago only after that minute
    // (retention moves it every five): this one has not read the topic yet.
    const fresh = lagReader();
    const lag = await fresh.reader.readGroup(group).finally(() => fresh.stop());
    const row = lag?.partitions[0];
    expect(row).toMatchObject({ committedOffset: 100, logStartOffset: 1_500, logEndOffset: 2_000, lag: 500 });
    expect(row?.flags).toContain('offset-below-log-start');
    expect(diagnose(lag as GroupLag).find((h) => h.kind === 'retention-loss')).toMatchObject({ lost: 1_400 });
  });

  it('survives a topic deleted under a group: says so, and keeps reading other groups', async () => {
    const doomed = uniqueName('doomed');
    const group = uniqueName('orphaned');
    await createTopic(admin, doomed, 2);
    await produce(kafka, doomed, [10, 10]);
    await admin.setOffsets({ groupId: group, topic: doomed, partitions: [{ partition: 0, offset: '4' }, { partition: 1, offset: '6' }] });
    expect((await reader.reader.readGroup(group))?.totalLag).toBe(10);

    await admin.deleteTopics({ topics: [doomed] });
    // Kafka's group coordinator removes offsets of a deleted topic shortly after the
    // deletion; until it does, lagbot must flag them and show no lag for them. Which of
    // the two a read meets is a race, so both outcomes are checked for what they promise.
    const seen = await eventually(async () => {
      const l = await reader.reader.readGroup(group);
      if (!l || l.partitions.length === 0) return { cleaned: true as const };
      return l.partitions.every((p) => p.flags.includes('topic-deleted')) ? { cleaned: false as const, lag: l } : null;
    }, 'the deleted topic to be reported, or its offsets removed by Kafka');
    if (!seen.cleaned) {
      expect(seen.lag.partitions.map((p) => [p.committedOffset, p.lag])).toEqual([
        [4, null],
        [6, null],
      ]);
      expect(seen.lag.totalLag).toBeNull();
      expect(diagnose(seen.lag).map((h) => h.kind)).toContain('topic-deleted');
    }
    expect((await reader.reader.readGroup(emptyGroup))?.totalLag).toBe(11_400);
  });
});

describe('an unreachable cluster', () => {
  it('fails within seconds with the brokers it tried, not a hang', async () => {
    const [port] = await freePorts(1);
    const dead = lagReader([`127.0.0.1:${port}`]);
    const started = Date.now();
    try {
      await expect(dead.reader.readGroup('anything')).rejects.toThrow(LagUnavailableError);
      await expect(dead.reader.readAllGroups()).rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${port}`));
    } finally {
      await dead.stop();
    }
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
