import kafkajs, { type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';
import { ourRows, theirRowsByGroup, type DescribedRow } from '../support/consumer-groups.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LagUnavailableError } from '../../src/core/ports.js';
import type { GroupLag } from '../../src/core/protocol.js';
import type { KafkaLag } from '../../src/kafka/connect.js';
import { createSharedAdmin, type InternalCluster } from '../../src/kafka/kafkajs-internals.js';
import { startKafkaCluster, type KafkaCluster } from '../../tools/kafka-testbed/cluster.js';
import { kafkaVersionFromEnv } from '../../tools/kafka-testbed/jars.js';
import { runKafkaClass, kafkaConsumerGroups } from '../../tools/kafka-testbed/tools.js';
import { eventually, lagReader, produce, uniqueName } from '../support/kafka.js';

/**
 * lagbot on a three-broker cluster (tools/kafka-testbed/cluster.ts) with partition leaders
 * and group coordinators on every broker, compared with kafka-consumer-groups; then one
 * broker is SIGKILLed while lagbot keeps reading, and started again.
 *
 * While the broker is down, every answer lagbot gives is checked against what is known to
 * be true: `orders` holds a fixed number of messages per partition, so a log end is either
 * exactly that or unknown (null); `events` is written to throughout, so a log end below what
 * the cluster had acknowledged before the read began would be a stale number.
 */

const { Kafka: KafkaClient, logLevel } = kafkajs;

const VERSION = kafkaVersionFromEnv();
const ORDERS_PRODUCED = [1_200, 300, 2_500, 50, 800, 4_000];
const ORDERS_COMMITTED = [1_000, 300, 500, 10, 790, 100];
const EVENTS_PARTITIONS = 3;
const EVENTS_COMMITTED = [5, 5, 5];
/** The broker that is killed: it leads partitions and coordinates groups (asserted). */
const VICTIM = 2;

const log = process.env['LAGBOT_KAFKA_LOG'] === '1' ? (line: string) => console.log(`[cluster] ${line}`) : (line: string) => {
  if (!line.startsWith('[kafka ')) console.log(`[cluster] ${line}`);
};

/** `kafka-consumer-groups --describe --all-groups` over `bootstrap`, by group. */
async function cliRowsByGroup(cluster: KafkaCluster, bootstrap: string): Promise<Map<string, DescribedRow[]>> {
  return theirRowsByGroup(await kafkaConsumerGroups({ bootstrap, classpath: cluster.classpath }, ['--describe', '--all-groups']));
}

/** What happened to the reads made while the cluster changed, for the log line and the asserts. */
interface Observed {
  reads: number;
  complete: number;
  unavailable: number;
  otherErrors: string[];
  /** Reads that answered with some partitions' log end unknown. */
  partial: number;
  unknownPartitions: Set<string>;
  wrong: string[];
  missingGroups: string[];
  unavailableMessages: Set<string>;
}

const observed = (): Observed => ({
  reads: 0,
  complete: 0,
  unavailable: 0,
  otherErrors: [],
  partial: 0,
  unknownPartitions: new Set(),
  wrong: [],
  missingGroups: [],
  unavailableMessages: new Set(),
});

describe(`lagbot on three Kafka ${VERSION} brokers, one of which fails`, () => {
  let cluster: KafkaCluster;
  let kafka: Kafka;
  let admin: Admin;
  let probe: { admin: Admin; cluster: InternalCluster };
  let reader: KafkaLag;
  const members: Consumer[] = [];
  const orders = uniqueName('orders');
  const events = uniqueName('events');
  /** Empty groups (offsets, no members), one coordinated by each broker, by coordinator id. */
  const quiet = new Map<number, string>();
  let live = '';
  const allGroups = () => [...quiet.values(), live];

  // What `events` holds: acknowledged writes only grow, and a log end is at least what was
  // acknowledged before a read started.
  const eventsAcked = Array.from({ length: EVENTS_PARTITIONS }, () => 0);
  let producer: Producer | null = null;
  let producing: Promise<void> | null = null;
  let keepProducing = false;

  const startProducing = () => {
    keepProducing = true;
    const p = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 3, initialRetryTime: 100 } });
    producer = p;
    producing = (async () => {
      await p.connect();
      await Promise.all(
        Array.from({ length: EVENTS_PARTITIONS }, async (_, partition) => {
          while (keepProducing) {
            try {
              await p.send({ topic: events, acks: -1, messages: [{ partition, value: `e-${partition}` }] });
              eventsAcked[partition] = (eventsAcked[partition] ?? 0) + 1;
            } catch {
              // Its leader is gone or moving: this write is not counted, the next one retries.
            }
            await new Promise((r) => setTimeout(r, 50));
          }
        }),
      );
    })();
  };
  const stopProducing = async () => {
    keepProducing = false;
    await producing;
    await producer?.disconnect();
    producer = null;
  };

  const leadersOf = async (topics: string[]): Promise<Map<string, number>> => {
    const { topics: meta } = await probe.admin.fetchTopicMetadata({ topics });
    return new Map(meta.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partitionId}`, p.leader] as const)));
  };
  /** FindCoordinator, on fresh metadata (kafkajs sends it to a broker of its broker list). */
  const coordinatorOf = async (groupId: string): Promise<number> => {
    await probe.cluster.brokerPool.refreshMetadata([]);
    return (await probe.cluster.findGroupCoordinatorMetadata({ groupId })).coordinator.nodeId;
  };

  /**
   * One OffsetCommit outside any generation, as a standalone committer (kafka-consumer-groups
   * --reset-offsets) sends it. admin.setOffsets joins the group with a consumer instead,
   * about five seconds a call.
   */
  const commitOffsets = async (groupId: string, topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>) => {
    const internal = probe.cluster as unknown as {
      findGroupCoordinator(request: { groupId: string }): Promise<{
        offsetCommit(request: { groupId: string; groupGenerationId: number; memberId: string; topics: typeof topics }): Promise<unknown>;
      }>;
    };
    // Right after __consumer_offsets is created its partitions are still loading: retry.
    await eventually(async () => {
      const coordinator = await internal.findGroupCoordinator({ groupId });
      await coordinator.offsetCommit({ groupId, groupGenerationId: -1, memberId: '', topics });
      return true;
    }, `offsets of ${groupId} committed`);
  };

  /** Every field of every row a read gave, against what is true of the cluster. */
  const checkRead = (lag: GroupLag, ackedBefore: readonly number[], seen: Observed) => {
    const wrong = (why: string) => seen.wrong.push(`${lag.group} ${why}`);
    const expected = lag.group === live ? [orders] : [orders, events];
    const topics = [...new Set(lag.partitions.map((p) => p.topic))].sort();
    if (topics.join() !== [...expected].sort().join()) wrong(`has topics ${topics.join()}`);
    let unknown = 0;
    let sum = 0;
    for (const p of lag.partitions) {
      const name = `${p.topic}-${p.partition}`;
      if (p.logEndOffset === null || p.lag === null) {
        unknown += 1;
        seen.unknownPartitions.add(name);
        if (p.lag !== null) wrong(`${name}: lag ${p.lag} without a log end`);
      } else {
        sum += p.lag;
      }
      if (p.topic === orders) {
        if (p.committedOffset !== ORDERS_COMMITTED[p.partition]) wrong(`${name}: committed ${p.committedOffset}`);
        if (p.logEndOffset !== null && p.logEndOffset !== ORDERS_PRODUCED[p.partition]) wrong(`${name}: log end ${p.logEndOffset}`);
        if (p.lag !== null && p.lag !== (ORDERS_PRODUCED[p.partition] ?? 0) - (ORDERS_COMMITTED[p.partition] ?? 0)) wrong(`${name}: lag ${p.lag}`);
      } else {
        if (p.committedOffset !== EVENTS_COMMITTED[p.partition]) wrong(`${name}: committed ${p.committedOffset}`);
        // Stale: the cluster had acknowledged more than this before the read began.
        if (p.logEndOffset !== null && p.logEndOffset < (ackedBefore[p.partition] ?? 0)) {
          wrong(`${name}: log end ${p.logEndOffset} below the ${ackedBefore[p.partition]} acknowledged before the read`);
        }
        if (p.lag !== null && p.logEndOffset !== null && p.lag !== p.logEndOffset - (p.committedOffset ?? 0)) wrong(`${name}: lag ${p.lag}`);
      }
    }
    const rows = lag.group === live ? ORDERS_PRODUCED.length : ORDERS_PRODUCED.length + EVENTS_PARTITIONS;
    if (lag.partitions.length !== rows) wrong(`has ${lag.partitions.length} rows, not ${rows}`);
    if (lag.totalLag !== (unknown === lag.partitions.length ? null : sum)) wrong(`total lag ${lag.totalLag}, known rows sum to ${sum}`);
    if (lag.group !== live && lag.state !== 'Empty') wrong(`state ${lag.state}`);
    return unknown;
  };

  const recordFailure = (error: unknown, seen: Observed) => {
    if (error instanceof LagUnavailableError) {
      seen.unavailable += 1;
      seen.unavailableMessages.add(error.message.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'HOST').slice(0, 160));
    } else {
      seen.otherErrors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  };

  /** One round: a whole-cluster read, then each group on its own, each checked. */
  const readRound = async (seen: Observed) => {
    const ackedBefore = [...eventsAcked];
    seen.reads += 1;
    try {
      const groups = (await reader.reader.readAllGroups()).filter((g) => allGroups().includes(g.group));
      const names = new Set(groups.map((g) => g.group));
      for (const g of allGroups()) if (!names.has(g)) seen.missingGroups.push(`${g} (readAllGroups)`);
      let unknown = 0;
      for (const g of groups) unknown += checkRead(g, ackedBefore, seen);
      if (unknown > 0) seen.partial += 1;
      else if (names.size === allGroups().length) seen.complete += 1;
    } catch (error) {
      recordFailure(error, seen);
    }
    for (const group of allGroups()) {
      const before = [...eventsAcked];
      seen.reads += 1;
      try {
        const lag = await reader.reader.readGroup(group);
        if (!lag) {
          seen.missingGroups.push(`${group} (readGroup)`);
          continue;
        }
        if (checkRead(lag, before, seen) > 0) seen.partial += 1;
        else seen.complete += 1;
      } catch (error) {
        recordFailure(error, seen);
      }
    }
  };

  /** Reads in a loop until `done` says so (checked between rounds); resolves with what was seen. */
  const readWhile = async (done: () => Promise<boolean>, seen: Observed, timeoutMs: number) => {
    const start = Date.now();
    for (;;) {
      await readRound(seen);
      if (await done().catch(() => false)) return;
      if (Date.now() - start > timeoutMs) throw new Error(`still waiting after ${timeoutMs / 1000}s; seen so far: ${summary(seen)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const summary = (s: Observed) =>
    `${s.reads} reads: ${s.complete} complete, ${s.partial} with unknown partitions (${[...s.unknownPartitions].sort().join(' ') || 'none'}), ` +
    `${s.unavailable} unavailable, ${s.otherErrors.length} other errors, ${s.missingGroups.length} missing groups, ${s.wrong.length} wrong`;

  const expectNothingWrong = (s: Observed) => {
    expect(s.wrong, 'wrong numbers').toEqual([]);
    expect(s.missingGroups, 'groups left out of an answer').toEqual([]);
    expect(s.otherErrors, 'failures that are not LagUnavailableError').toEqual([]);
  };

  /** The next read in which every group is complete; then it must equal the CLI's over `bootstrap`. */
  const expectEqualToCli = async (bootstrap: string) => {
    const since = Date.now();
    await eventually(
      async () => {
        const ours = (await reader.reader.readAllGroups()).filter((g) => allGroups().includes(g.group));
        if (ours.length !== allGroups().length || ours.some((g) => g.partitions.some((p) => p.lag === null))) return null;
        // The live group's members may still be rejoining after its coordinator moved.
        const liveLag = ours.find((g) => g.group === live);
        if (liveLag?.state !== 'Stable' || liveLag.partitions.some((p) => p.memberId === null)) return null;
        const theirs = await cliRowsByGroup(cluster, bootstrap);
        for (const lag of ours) expect(ourRows(lag), `group ${lag.group}`).toEqual(theirs.get(lag.group));
        return true;
      },
      `a complete read equal to kafka-consumer-groups over ${bootstrap}`,
      45_000,
    ).then(() => log(`equal to the CLI after ${((Date.now() - since) / 1000).toFixed(1)}s`)).catch(async (error: unknown) => {
      // Say what differed, not only that it timed out.
      const ours = await reader.reader.readAllGroups();
      const theirs = await cliRowsByGroup(cluster, bootstrap);
      for (const lag of ours.filter((g) => allGroups().includes(g.group))) expect(ourRows(lag), `group ${lag.group}`).toEqual(theirs.get(lag.group));
      throw error;
    });
  };

  beforeAll(async () => {
    const started = Date.now();
    cluster = await startKafkaCluster({ log });
    kafka = new KafkaClient({ brokers: cluster.brokers, clientId: 'three-brokers-test', logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    const shared = createSharedAdmin(new KafkaClient({ brokers: cluster.brokers, clientId: 'three-brokers-probe', logLevel: logLevel.NOTHING }), {
      retries: 5,
      initialRetryTime: 200,
    });
    if (!shared) throw new Error('kafkajs internals unavailable: the probe needs FindCoordinator');
    probe = shared;
    await probe.admin.connect();

    await admin.createTopics({
      topics: [
        { topic: orders, numPartitions: ORDERS_PRODUCED.length, replicationFactor: 3 },
        { topic: events, numPartitions: EVENTS_PARTITIONS, replicationFactor: 3 },
      ],
      waitForLeaders: true,
    });
    await produce(kafka, orders, ORDERS_PRODUCED);
    await produce(kafka, events, EVENTS_COMMITTED.map((c) => c * 2));
    for (let p = 0; p < EVENTS_PARTITIONS; p += 1) eventsAcked[p] = (EVENTS_COMMITTED[p] ?? 0) * 2;

    // Group ids until FindCoordinator has put one on each broker, plus a live group on the victim.
    const base = uniqueName('billing');
    for (let i = 0; (quiet.size < 3 || live === '') && i < 200; i += 1) {
      const groupId = `${base}-${i}`;
      const coordinator = await coordinatorOf(groupId);
      if (!quiet.has(coordinator)) quiet.set(coordinator, groupId);
      else if (coordinator === VICTIM && live === '') live = groupId;
    }
    expect([...quiet.keys()].sort()).toEqual([1, 2, 3]);
    expect(live).not.toBe('');

    const asOffsets = (committed: readonly number[]) => committed.map((offset, partition) => ({ partition, offset: String(offset) }));
    await Promise.all([
      ...[...quiet.values()].map((groupId) =>
        commitOffsets(groupId, [
          { topic: orders, partitions: asOffsets(ORDERS_COMMITTED) },
          { topic: events, partitions: asOffsets(EVENTS_COMMITTED) },
        ]),
      ),
      commitOffsets(live, [{ topic: orders, partitions: asOffsets(ORDERS_COMMITTED) }]),
    ]);
    for (let i = 0; i < 2; i += 1) {
      const client = new KafkaClient({ brokers: cluster.brokers, clientId: `billing-worker-${i}`, logLevel: logLevel.NOTHING });
      // As startIdleMember, with a session short enough that a member lost in a coordinator
      // move is replaced in seconds, not the half minute the shared helper gives.
      const consumer = client.consumer({ groupId: live, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 1_000, retry: { retries: 2 } });
      await consumer.connect();
      await consumer.subscribe({ topics: [orders], fromBeginning: false });
      await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
      members.push(consumer);
    }
    reader = lagReader(cluster.brokers);
    log(`setup done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  }, 240_000);

  afterAll(async () => {
    keepProducing = false;
    await producing?.catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await Promise.all(members.map((m) => m.disconnect().catch(() => undefined)));
    await reader?.stop();
    await probe?.admin.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await cluster?.stop();
  }, 60_000);

  it('spreads leaders and coordinators over the three brokers and reads every group as kafka-consumer-groups does', async () => {
    const leaders = await leadersOf([orders, events]);
    expect(new Set([...leaders.entries()].filter(([k]) => k.startsWith(orders)).map(([, l]) => l))).toEqual(new Set([1, 2, 3]));
    expect([...leaders.entries()].some(([k, l]) => k.startsWith(events) && l === VICTIM)).toBe(true);
    for (const [id, group] of quiet) expect(await coordinatorOf(group), group).toBe(id);
    expect(await coordinatorOf(live)).toBe(VICTIM);

    await expectEqualToCli(cluster.bootstrap);
    const seen = observed();
    await readRound(seen);
    expectNothingWrong(seen);
    expect(seen.complete).toBe(seen.reads);
  });

  it('SIGKILL of a broker: leaders and coordinators move, no read is wrong, and the next complete read equals the CLI on the two left', async () => {
    const before = await leadersOf([orders, events]);
    const led = [...before.entries()].filter(([, l]) => l === VICTIM).map(([k]) => k);
    expect(led.length).toBeGreaterThan(0);

    startProducing();
    const seen = observed();
    const killedAt = Date.now();
    await cluster.broker(VICTIM).kill();
    let movedAfterMs = -1;
    const moved = async () => {
      const now = await leadersOf([orders, events]);
      if ([...now.values()].some((l) => l === VICTIM || l < 0)) return false;
      for (const g of allGroups()) if ((await coordinatorOf(g)) === VICTIM) return false;
      if (movedAfterMs < 0) movedAfterMs = Date.now() - killedAt;
      // Keep reading through the move until lagbot has had a complete answer.
      return seen.complete > 0 && Date.now() - killedAt > movedAfterMs + 3_000;
    };
    await readWhile(moved, seen, 90_000);
    await stopProducing();
    log(`broker ${VICTIM} killed: leaders and coordinators moved after ${(movedAfterMs / 1000).toFixed(1)}s; ${summary(seen)}`);
    for (const m of seen.unavailableMessages) log(`  unavailable: ${m}`);

    const after = await leadersOf([orders, events]);
    for (const p of led) expect([1, 2, 3].filter((b) => b !== VICTIM)).toContain(after.get(p));
    expectNothingWrong(seen);
    // The drill saw the outage: some answers had unknown partitions or were unavailable.
    expect(seen.partial + seen.unavailable).toBeGreaterThan(0);
    await expectEqualToCli(cluster.liveBootstrap());
  }, 150_000);

  it('restart of the broker: lagbot recovers by itself, also when leaders move back to it, and equals the CLI again', async () => {
    startProducing();
    const seen = observed();
    const restarting = cluster.broker(VICTIM).restart();
    let restarted = false;
    void restarting.then(() => (restarted = true));
    await readWhile(async () => restarted, seen, 90_000);
    await restarting;

    // Leaders go back to their preferred replica, the restarted broker among them, while lagbot reads.
    const election = runKafkaClass(cluster.classpath, 'org.apache.kafka.tools.LeaderElectionCommand', [
      '--bootstrap-server',
      cluster.bootstrap,
      '--election-type',
      'preferred',
      '--all-topic-partitions',
    ]).catch((error: unknown) => String(error));
    const leadsAgain = async () => {
      const now = await leadersOf([orders, events]);
      return [...now.values()].some((l) => l === VICTIM) && (await coordinatorOf(live)) === VICTIM;
    };
    await readWhile(leadsAgain, seen, 60_000);
    await election;
    await stopProducing();
    log(`broker ${VICTIM} restarted and leading again; ${summary(seen)}`);

    expectNothingWrong(seen);
    await expectEqualToCli(cluster.bootstrap);
  }, 150_000);
});
