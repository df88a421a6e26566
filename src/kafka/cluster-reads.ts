import type { Admin, GroupDescription } from 'kafkajs';
import type { CommittedOffset, GroupEpochs, GroupMember, GroupProtocol, TopicOffsets, TopicPartitions } from '../core/protocol.js';
import type { Logger } from '../log/logger.js';
import { decodeAssignment } from './assignment.js';
import { isConnectionFailure, rootCause } from './errors.js';
import { BrokerApis } from './flexible/broker-apis.js';
import {
  API,
  describeConsumerGroups,
  describeShareGroupOffsets,
  describeShareGroups,
  fetchGroupOffsets,
  findCoordinators,
  listGroups,
  type ConsumerGroupAnswer,
  type ShareGroupAnswer,
} from './flexible/requests.js';
import { createLimiter, type Limiter } from './limit.js';
import { kafkaError, metadataAsAnswered, sendFlexible, type InternalBroker, type InternalCluster, type RawMetadata, type RawTopicPartitionOffsets } from './kafkajs-internals.js';

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  /** null when the broker does not say (ListGroups before v5) and the protocol type cannot tell. */
  type: GroupProtocol | null;
}

/** One group as its coordinator describes it: classic (DescribeGroups), KIP-848 (ConsumerGroupDescribe) or share (ShareGroupDescribe). */
export interface DescribedGroup {
  groupId: string;
  type: 'classic' | 'consumer' | 'share';
  state: string;
  protocolType: string;
  /** Classic: the chosen protocol (e.g. `range`); KIP-848: the server-side assignor (e.g. `uniform`). */
  assignor: string | null;
  members: GroupMember[];
  epochs: GroupEpochs | null;
}

const sortedTopics = (topics: readonly TopicPartitions[]): TopicPartitions[] =>
  topics
    .map((t) => ({ topic: t.topic, partitions: [...t.partitions].sort((a, b) => a - b) }))
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));

/** Brokers print a client's host as `/10.0.1.14`. */
const withoutSlash = (host: string): string => host.replace(/^\//, '');

function classicGroup(d: GroupDescription): DescribedGroup {
  return {
    groupId: d.groupId,
    type: 'classic',
    state: d.state,
    protocolType: d.protocolType,
    assignor: d.protocol ? d.protocol : null,
    members: d.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      host: withoutSlash(m.clientHost),
      assignment: decodeAssignment(d.protocolType, m.memberAssignment),
    })),
    epochs: null,
  };
}

/** A KIP-848 or share group as its own describe request answered (share members have no target assignment). */
function groupOfItsOwnProtocol(type: 'consumer' | 'share', a: ConsumerGroupAnswer | ShareGroupAnswer): DescribedGroup {
  return {
    groupId: a.groupId,
    type,
    state: a.state,
    protocolType: type,
    assignor: a.assignor ? a.assignor : null,
    members: a.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      host: withoutSlash(m.clientHost),
      assignment: sortedTopics(m.assignment),
      memberEpoch: m.memberEpoch,
      ...('targetAssignment' in m ? { targetAssignment: sortedTopics(m.targetAssignment) } : {}),
    })),
    epochs: { group: a.groupEpoch, assignment: a.assignmentEpoch },
  };
}

/** Kafka's group type names (ListGroups v5) in lagbot's terms. */
function typeOf(type: string | null, protocolType: string): GroupProtocol | null {
  switch (type?.toLowerCase()) {
    case 'classic':
      return 'classic';
    case 'consumer':
      return 'consumer';
    case 'share':
      return 'share';
    case undefined:
    case '':
      // Older brokers: only the protocol type. `consumer` is either protocol; Connect and others are classic.
      if (protocolType === 'share') return 'share';
      return protocolType === 'consumer' ? null : 'classic';
    default:
      return 'other';
  }
}

/** The topics that exist, read once per lag read; with the batched path also their leaders. */
export interface TopicCatalog {
  names: ReadonlySet<string>;
  /** Leader node id of each partition, by topic; null on the public-API path. */
  leaders: ReadonlyMap<string, ReadonlyArray<{ partition: number; leader: number }>> | null;
  /** Node ids of every broker; null on the public-API path. */
  brokers: readonly number[] | null;
}

/**
 * The Kafka reads lag is made of. Two ways to send them: the kafkajs admin API, and batched
 * requests through kafkajs internals (see kafkajs-internals.ts); the answers are the same.
 */
export interface ClusterReads {
  topics(): Promise<TopicCatalog>;
  /**
   * The catalog of `topics` alone, for a read that knows them (one group's): where the
   * cluster allows, its cost does not grow with the cluster's partitions. With no topics,
   * the brokers alone (for ListGroups).
   */
  topicsOf(topics: readonly string[]): Promise<TopicCatalog>;
  listGroups(catalog: TopicCatalog): Promise<ListedGroup[]>;
  /** Groups listed as KIP-848 in `types` are described as such; a group of unknown type is tried both ways. */
  describeGroups(groupIds: readonly string[], types?: ReadonlyMap<string, GroupProtocol | null>): Promise<DescribedGroup[]>;
  /** Committed offsets of each group, in the order given. */
  fetchCommitted(groupIds: readonly string[]): Promise<CommittedOffset[][]>;
  /** Share groups: each share-partition's start offset (and lag where the broker reports it), in the order given; empty where the broker cannot say. */
  fetchShareOffsets(groupIds: readonly string[]): Promise<CommittedOffset[][]>;
  /** Log start and end offsets of the given topics (each asked for once). */
  topicOffsets(topics: readonly string[], catalog: TopicCatalog): Promise<Map<string, TopicOffsets>>;
}

function parseOffset(value: string): number | null {
  const n = Number(value);
  // Kafka answers -1 for "no committed offset".
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function committedOf(responses: readonly RawTopicPartitionOffsets[]): CommittedOffset[] {
  return responses.flatMap(({ topic, partitions }) => partitions.map((p) => ({ topic, partition: p.partition, offset: parseOffset(p.offset) })));
}

/** kafkajs' public admin API: a FindCoordinator per group per call, three requests per topic for offsets. */
export class AdminReads implements ClusterReads {
  constructor(
    private readonly admin: Admin,
    private readonly limiter: Limiter,
  ) {}

  async topics(): Promise<TopicCatalog> {
    return { names: new Set(await this.admin.listTopics()), leaders: null, brokers: null };
  }

  /** The admin API names every topic or none. */
  topicsOf(): Promise<TopicCatalog> {
    return this.topics();
  }

  async listGroups(): Promise<ListedGroup[]> {
    return (await this.admin.listGroups()).groups.map((g) => ({ ...g, type: typeOf(null, g.protocolType) }));
  }

  async describeGroups(groupIds: readonly string[]): Promise<DescribedGroup[]> {
    return (await this.admin.describeGroups([...groupIds])).groups.map(classicGroup);
  }

  /** kafkajs has no share-group requests. */
  fetchShareOffsets(groupIds: readonly string[]): Promise<CommittedOffset[][]> {
    return Promise.resolve(groupIds.map(() => []));
  }

  fetchCommitted(groupIds: readonly string[]): Promise<CommittedOffset[][]> {
    // Never resolveOffsets: true — kafkajs would commit the resolved offsets.
    return Promise.all(
      groupIds.map((groupId) =>
        this.limiter.schedule(async () => {
          const topics = await this.admin.fetchOffsets({ groupId });
          return committedOf(topics);
        }),
      ),
    );
  }

  async topicOffsets(topics: readonly string[], catalog: TopicCatalog): Promise<Map<string, TopicOffsets>> {
    const result = new Map<string, TopicOffsets>();
    await Promise.all(
      topics.map((topic) =>
        this.limiter.schedule(async () => {
          if (!catalog.names.has(topic)) {
            result.set(topic, { topic, exists: false });
            return;
          }
          // A stale-metadata error here is not proof that *this* topic is gone: kafkajs
          // fails every refresh once any topic it has seen was deleted. It propagates, so
          // the session retries the whole read on a fresh client.
          const partitions = await this.admin.fetchTopicOffsets(topic);
          result.set(topic, {
            topic,
            exists: true,
            partitions: partitions.map((p) => ({ partition: p.partition, logEndOffset: Number(p.high), logStartOffset: Number(p.low) })),
          });
        }),
      ),
    );
    return result;
  }
}

/** Kafka error types after which a group's coordinator must be looked up again. */
const COORDINATOR_MOVED = new Set(['NOT_COORDINATOR', 'NOT_COORDINATOR_FOR_GROUP', 'COORDINATOR_NOT_AVAILABLE', 'GROUP_COORDINATOR_NOT_AVAILABLE']);
const COORDINATOR_LOADING = new Set(['COORDINATOR_LOAD_IN_PROGRESS', 'GROUP_LOAD_IN_PROGRESS']);
/** Metadata errors of single partitions (no leader, a replica or listener missing), which kafkajs raises for the whole answer. */
const PARTITION_UNAVAILABLE = new Set(['LEADER_NOT_AVAILABLE', 'REPLICA_NOT_AVAILABLE', 'LISTENER_NOT_FOUND']);
const ATTEMPTS = 3;

function errorType(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { type?: string }).type : undefined;
}

function catalogOf(metadata: RawMetadata): TopicCatalog {
  const leaders = new Map<string, Array<{ partition: number; leader: number }>>();
  for (const t of metadata.topicMetadata) {
    leaders.set(
      t.topic,
      t.partitionMetadata.map((p) => ({ partition: p.partitionId, leader: p.leader })),
    );
  }
  return { names: new Set(leaders.keys()), leaders, brokers: metadata.brokers.map((b) => b.nodeId) };
}

const METADATA_API = 3;
/** UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION, TOPIC_AUTHORIZATION_FAILED. */
const TOPIC_ABSENT = new Set([3, 17, 29]);

/**
 * A Metadata answer with each partition that reported an error given leader -1 (its log
 * end unknown for this read), and the topics named that do not exist, or that lagbot may not
 * describe, left out, as an answer for every topic leaves them out.
 */
function leadersAsAnswered(answer: RawMetadata): RawMetadata {
  return {
    brokers: answer.brokers,
    topicMetadata: answer.topicMetadata
      .filter((t) => !TOPIC_ABSENT.has(t.topicErrorCode ?? 0))
      .map((t) => ({
        topic: t.topic,
        partitionMetadata: t.partitionMetadata.map((p) => ({ partitionId: p.partitionId, leader: p.partitionErrorCode ? -1 : p.leader })),
      })),
  };
}

const LATEST = -1;
const EARLIEST = -2;
/** How long a log start offset read stands in for a fresh one (see BatchedReads.logStarts). */
export const LOG_START_MAX_AGE_MS = 60_000;

/** Log start and end of each partition, by topic, as the partition leaders answered. */
export type LeaderAnswers = ReadonlyMap<string, ReadonlyMap<number, { end?: number; start?: number }>>;

/**
 * The log offsets of `topics` from what their leaders answered. A partition is left out
 * when its leader did not give both offsets (no leader, or a leader that could not be
 * reached): its log end is unknown, and lag computed from it is null, never 0 or an
 * older value. A topic missing from `leaders` no longer exists.
 */
export function offsetsOfTopics(
  topics: readonly string[],
  leaders: ReadonlyMap<string, ReadonlyArray<{ partition: number; leader: number }>>,
  answers: LeaderAnswers,
): Map<string, TopicOffsets> {
  const result = new Map<string, TopicOffsets>();
  for (const topic of topics) {
    const partitionsOfTopic = leaders.get(topic);
    if (!partitionsOfTopic) {
      result.set(topic, { topic, exists: false });
      continue;
    }
    const forTopic = answers.get(topic);
    const partitions = [];
    for (const { partition } of partitionsOfTopic) {
      const entry = forTopic?.get(partition);
      if (entry?.end === undefined || entry.start === undefined) continue;
      partitions.push({ partition, logEndOffset: entry.end, logStartOffset: entry.start });
    }
    result.set(topic, { topic, exists: true, partitions });
  }
  return result;
}

/**
 * A leader that cannot answer ListOffsets right now: it is down but still in the metadata
 * (until the controller fences it), unreachable from here, or just elected and not sure of
 * its high watermark yet (KIP-207). Its partitions' log ends are unknown for this read; the
 * rest of the read stands. Stale-metadata errors (NOT_LEADER_OR_FOLLOWER, a deleted topic)
 * are not among them: they still fail the read, and the session retries it on fresh metadata.
 */
function leaderCannotAnswer(error: unknown): boolean {
  return isConnectionFailure(error) || errorType(error) === 'OFFSET_NOT_AVAILABLE';
}

const isMoved = (error: unknown): boolean => COORDINATOR_MOVED.has(errorType(error) ?? '') || (error as { name?: string }).name === 'KafkaJSBrokerNotFound';
const isLoading = (error: unknown): boolean => COORDINATOR_LOADING.has(errorType(error) ?? '');
const pause = (attempt: number) => new Promise((r) => setTimeout(r, 100 * attempt));
/**
 * A describe's answers for a group that is not of the type asked about: GROUP_ID_NOT_FOUND
 * (a classic group, or none), and UNSUPPORTED_VERSION from a broker that lists the request
 * but has the protocol switched off (Kafka 3.8-3.9 without group.coordinator.rebalance.protocols=consumer).
 */
const NOT_OF_THIS_TYPE = new Set([69, 35]);

/**
 * The batched path, at the protocol's floor where the brokers allow it: one Metadata per
 * read (all topics, or a group's own in a read of one), one ListGroups per broker, one FindCoordinator for every group not
 * seen before, per coordinator one DescribeGroups, one ConsumerGroupDescribe and one
 * OffsetFetch for all its groups, and per partition leader the ListOffsets for all topics.
 * The requests kafkajs cannot send are lagbot's own (flexible/requests.ts); a broker that
 * lacks one gets kafkajs' request instead (one group per request), as BrokerApis decides.
 */
export class BatchedReads implements ClusterReads {
  /** Coordinators move only on broker failover or reassignment; a wrong one answers NOT_COORDINATOR and is forgotten. */
  private readonly coordinators = new Map<string, number>();
  private metadataInFlight: Promise<RawMetadata> | null = null;
  /** Metadata naming some topics (topicsOf), by the topics named, while on its way. */
  private readonly namedInFlight = new Map<string, Promise<TopicCatalog>>();
  private catalog: { from: RawMetadata; catalog: TopicCatalog } | null = null;
  /** Coordinator lookups under way, so a group is looked up once however many requests need it. */
  private readonly lookups = new Map<string, Promise<number>>();
  private readonly lookupLimiter = createLimiter(16);
  /** The batched FindCoordinator under way: describe and offset reads of the same groups share it. */
  private batchLookup: Promise<void> | null = null;
  private readonly apis: BrokerApis;
  /**
   * Log start offsets as last read, by topic and partition. Log start moves only when the
   * retention thread deletes segments (every log.retention.check.interval.ms, 5 minutes by
   * default) or someone deletes records, so it is asked for again once it is older than
   * LOG_START_MAX_AGE_MS rather than on every read: most reads send one ListOffsets per
   * leader instead of two, and a retention loss shows at most a minute late.
   */
  private readonly logStarts = new Map<string, Map<number, { start: number; at: number }>>();

  constructor(
    private readonly cluster: InternalCluster,
    private readonly limiter: Limiter,
    logger: Logger,
    flexible = true,
    private readonly now: () => number = Date.now,
  ) {
    this.apis = new BrokerApis(flexible, logger);
  }

  /** One Metadata request for every topic. Reads that start while one is on its way share it. */
  private metadata(): Promise<RawMetadata> {
    this.metadataInFlight ??= (async () => {
      try {
        await this.cluster.brokerPool.refreshMetadata([]);
        const metadata = this.cluster.brokerPool.metadata;
        if (!metadata) throw new Error('kafkajs kept no metadata after a refresh');
        return metadata;
      } catch (error) {
        if (!PARTITION_UNAVAILABLE.has(errorType(rootCause(error)) ?? '')) throw error;
        return await this.metadataDespiteOfflinePartitions(error);
      } finally {
        this.metadataInFlight = null;
      }
    })();
    return this.metadataInFlight;
  }

  /**
   * Some partition has no leader (its only replicas are down), and kafkajs refuses the whole
   * Metadata answer for it. Read the answer as it is, let kafkajs refresh the topics that are
   * whole (which keeps its broker connections current), and give the partitions without a
   * leader leader -1: their log ends are unknown, and the rest of the read stands.
   */
  private async metadataDespiteOfflinePartitions(refused: unknown): Promise<RawMetadata> {
    const pool = this.cluster.brokerPool;
    // A client that never took a Metadata answer knows only its bootstrap broker.
    const answer = (await pool.withBroker(({ broker }) => metadataAsAnswered(broker)).catch(() => null)) ?? (pool.seedBroker ? await metadataAsAnswered(pool.seedBroker).catch(() => null) : null);
    if (!answer) throw refused;
    const whole = answer.topicMetadata.filter((t) => !t.topicErrorCode && t.partitionMetadata.every((p) => !p.partitionErrorCode)).map((t) => t.topic);
    if (whole.length > 0) await pool.refreshMetadata(whole);
    return leadersAsAnswered(answer);
  }

  private freshLogStart(topic: string, partition: number, now: number): boolean {
    const known = this.logStarts.get(topic)?.get(partition);
    return known !== undefined && now - known.at < LOG_START_MAX_AGE_MS;
  }

  async topics(): Promise<TopicCatalog> {
    const metadata = await this.metadata();
    // Reads that shared a Metadata answer share its catalog too (10,000 partitions each).
    if (this.catalog?.from !== metadata) this.catalog = { from: metadata, catalog: catalogOf(metadata) };
    return this.catalog.catalog;
  }

  /**
   * One Metadata naming `topics`, sent past kafkajs' pool, whose own metadata stays the whole
   * cluster's: the answer for one group's topics is a few partitions, where the whole
   * cluster's is every one of them (30,000 decoded for each /lag at 3,000 groups,
   * BENCHMARKS.md). Where it is not answered, the whole read, with its errors.
   */
  async topicsOf(topics: readonly string[]): Promise<TopicCatalog> {
    const pool = this.cluster.brokerPool;
    if (topics.length === 0) {
      // Metadata cannot name no topic through kafkajs ([] asks for all): the brokers the pool knows.
      return pool.metadata ? { names: new Set(), leaders: new Map(), brokers: pool.metadata.brokers.map((b) => b.nodeId) } : await this.topics();
    }
    // Twenty /lag commands at once for one group cost one Metadata, not twenty.
    const key = topics.join('\u0000');
    let read = this.namedInFlight.get(key);
    if (!read) {
      read = this.namedMetadata(topics).finally(() => this.namedInFlight.delete(key));
      this.namedInFlight.set(key, read);
    }
    return read;
  }

  /**
   * The leaders it names are reached through kafkajs' pool, which knows only the brokers of
   * its last whole answer: before the first one, or when a broker joined since, the whole
   * read instead (it refreshes the pool).
   */
  private async namedMetadata(topics: readonly string[]): Promise<TopicCatalog> {
    const pool = this.cluster.brokerPool;
    if (!pool.metadata) return await this.topics();
    const answer = await pool
      .findConnectedBroker()
      .then((broker) =>
        // Before Metadata v4 (Kafka 1.0) a request naming a deleted topic could create it again.
        (broker.versions?.[METADATA_API]?.maxVersion ?? -1) >= 4 ? metadataAsAnswered(broker, topics) : null,
      )
      .catch(() => null);
    const known = new Set(pool.metadata?.brokers.map((b) => b.nodeId));
    return answer && answer.brokers.every((b) => known.has(b.nodeId)) ? catalogOf(leadersAsAnswered(answer)) : await this.topics();
  }

  async listGroups(catalog: TopicCatalog): Promise<ListedGroup[]> {
    const brokers = catalog.brokers ?? (await this.topics()).brokers ?? [];
    const answers = await Promise.all(
      brokers.map(async (nodeId): Promise<ListedGroup[]> => {
        const broker = await this.cluster.findBroker({ nodeId });
        const version = this.apis.version(broker, nodeId, API.ListGroups);
        if (version === null) return (await broker.listGroups()).groups.map((g) => ({ ...g, type: typeOf(null, g.protocolType) }));
        const { errorCode, groups } = await sendFlexible(broker, listGroups(version));
        if (errorCode !== 0) throw kafkaError(errorCode);
        return groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, type: typeOf(g.type, g.protocolType) }));
      }),
    );
    return answers.flat();
  }

  /** The coordinators of groups not known yet, in one FindCoordinator v4 where a broker speaks it; the rest are looked up one by one. */
  private async lookUp(groupIds: readonly string[]): Promise<void> {
    while (this.batchLookup) await this.batchLookup;
    const unknown = groupIds.filter((g) => !this.coordinators.has(g));
    if (unknown.length < 2) return;
    this.batchLookup = (async () => {
      if (!this.cluster.brokerPool.metadata) await this.metadata();
      // withBroker tries the brokers in turn until one answers; a failure here only means
      // the groups are looked up one at a time below.
      await this.cluster.brokerPool.withBroker(async ({ nodeId, broker }) => {
        const version = this.apis.version(broker, nodeId, API.FindCoordinator);
        if (version === null) return;
        for (const answer of await sendFlexible(broker, findCoordinators(unknown, version))) {
          if (answer.errorCode === 0) this.coordinators.set(answer.key, answer.nodeId);
        }
      });
    })().finally(() => (this.batchLookup = null));
    await this.batchLookup;
  }

  private coordinatorOf(groupId: string): Promise<number> {
    const known = this.coordinators.get(groupId);
    if (known !== undefined) return Promise.resolve(known);
    let lookup = this.lookups.get(groupId);
    if (!lookup) {
      // A limiter of its own: OffsetFetch jobs wait on lookups, and a job waiting for a
      // slot its own limiter holds would never get it.
      lookup = this.lookupLimiter
        .schedule(async () => {
          if (!this.cluster.brokerPool.metadata) await this.metadata();
          const { coordinator } = await this.cluster.findGroupCoordinatorMetadata({ groupId });
          this.coordinators.set(groupId, coordinator.nodeId);
          return coordinator.nodeId;
        })
        .finally(() => this.lookups.delete(groupId));
      this.lookups.set(groupId, lookup);
    }
    return lookup;
  }

  /** Send to the group's coordinator; look it up again when it moved, wait when it is loading. */
  private async atCoordinator<T>(groupId: string, send: (broker: InternalBroker) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const nodeId = await this.coordinatorOf(groupId);
        return await send(await this.cluster.findBroker({ nodeId }));
      } catch (error) {
        const moved = isMoved(error);
        if (attempt >= ATTEMPTS || (!moved && !isLoading(error))) throw error;
        if (moved) this.coordinators.delete(groupId);
        await pause(attempt);
      }
    }
  }

  /** The groups by coordinator, after one batched lookup of those not known yet. */
  private async byCoordinator(groupIds: readonly string[]): Promise<Map<number, string[]>> {
    await this.lookUp(groupIds);
    const result = new Map<number, string[]>();
    await Promise.all(
      groupIds.map(async (groupId) => {
        const nodeId = await this.coordinatorOf(groupId);
        const list = result.get(nodeId) ?? [];
        list.push(groupId);
        result.set(nodeId, list);
      }),
    );
    return result;
  }

  /**
   * Per coordinator, `ask` for all its groups at once. Groups whose coordinator moved or is
   * still loading are asked again (up to ATTEMPTS), after a fresh lookup for those that moved.
   */
  private async perCoordinator<T>(
    groupIds: readonly string[],
    ask: (broker: InternalBroker, nodeId: number, ids: string[]) => Promise<{ answers: T[]; again: Array<{ groupId: string; error: unknown }> }>,
  ): Promise<T[]> {
    const results: T[] = [];
    let pending: readonly string[] = groupIds;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const retry: string[] = [];
      const groups = await this.byCoordinator(pending);
      await Promise.all(
        [...groups.entries()].map(async ([nodeId, ids]) => {
          let outcome: { answers: T[]; again: Array<{ groupId: string; error: unknown }> };
          try {
            outcome = await ask(await this.cluster.findBroker({ nodeId }), nodeId, ids);
          } catch (error) {
            outcome = { answers: [], again: ids.map((groupId) => ({ groupId, error })) };
          }
          results.push(...outcome.answers);
          for (const { groupId, error } of outcome.again) {
            const moved = isMoved(error);
            if (attempt >= ATTEMPTS || (!moved && !isLoading(error))) throw error;
            if (moved) this.coordinators.delete(groupId);
            retry.push(groupId);
          }
        }),
      );
      if (retry.length > 0) await pause(attempt);
      pending = retry;
    }
    return results;
  }

  async describeGroups(groupIds: readonly string[], types?: ReadonlyMap<string, GroupProtocol | null>): Promise<DescribedGroup[]> {
    return this.perCoordinator(groupIds, async (broker, nodeId, all) => {
      const again: Array<{ groupId: string; error: unknown }> = [];
      const answers: DescribedGroup[] = [];
      const share = all.filter((g) => types?.get(g) === 'share');
      const shareVersion = share.length === 0 ? null : this.apis.version(broker, nodeId, API.ShareGroupDescribe);
      if (shareVersion !== null) {
        for (const a of await sendFlexible(broker, describeShareGroups(share, shareVersion))) {
          if (a.errorCode === 0) answers.push(groupOfItsOwnProtocol('share', a));
          else if (!NOT_OF_THIS_TYPE.has(a.errorCode)) again.push({ groupId: a.groupId, error: kafkaError(a.errorCode) });
        }
      }
      const ids = all.filter((g) => types?.get(g) !== 'share');
      const version = this.apis.version(broker, nodeId, API.ConsumerGroupDescribe);
      const kip848 = version === null ? [] : ids.filter((g) => types?.get(g) === 'consumer');
      const classic = ids.filter((g) => !kip848.includes(g));
      const classicAnswers =
        classic.length === 0
          ? []
          : await broker.describeGroups({ groupIds: classic }).then(
              (a) => a.groups.map(classicGroup),
              (error: unknown) => {
                // kafkajs fails the whole batch for one group's error: ask for the batch again.
                again.push(...classic.map((groupId) => ({ groupId, error })));
                return [];
              },
            );
      // A group of unknown type that the classic protocol does not know may be a KIP-848 one.
      const unknownType = (d: DescribedGroup) => types?.get(d.groupId) == null && d.state === 'Dead' && d.members.length === 0;
      const tryKip848 = version === null ? [] : [...kip848, ...classicAnswers.filter(unknownType).map((d) => d.groupId)];
      const described = new Map<string, DescribedGroup>();
      if (version !== null && tryKip848.length > 0) {
        for (const a of await sendFlexible(broker, describeConsumerGroups(tryKip848, version))) {
          if (a.errorCode === 0) described.set(a.groupId, groupOfItsOwnProtocol('consumer', a));
          else if (!NOT_OF_THIS_TYPE.has(a.errorCode)) again.push({ groupId: a.groupId, error: kafkaError(a.errorCode) });
        }
      }
      for (const d of classicAnswers) answers.push(described.get(d.groupId) ?? d);
      for (const g of kip848) {
        const d = described.get(g);
        if (d) answers.push(d);
      }
      return { answers, again };
    });
  }

  async fetchShareOffsets(groupIds: readonly string[]): Promise<CommittedOffset[][]> {
    const answers = await this.perCoordinator(groupIds, async (broker, nodeId, ids) => {
      const version = this.apis.version(broker, nodeId, API.DescribeShareGroupOffsets);
      if (version === null) return { answers: [], again: [] };
      const again: Array<{ groupId: string; error: unknown }> = [];
      const found: Array<[string, CommittedOffset[]]> = [];
      for (const g of await sendFlexible(broker, describeShareGroupOffsets(ids, version))) {
        const failed = g.errorCode !== 0 && !NOT_OF_THIS_TYPE.has(g.errorCode) ? g.errorCode : (g.topics.flatMap((t) => t.partitions).find((p) => p.errorCode !== 0)?.errorCode ?? 0);
        if (failed !== 0) {
          again.push({ groupId: g.groupId, error: kafkaError(failed) });
          continue;
        }
        found.push([
          g.groupId,
          g.topics.flatMap(({ topic, partitions }) =>
            partitions.map((p) => ({ topic, partition: p.partition, offset: p.startOffset >= 0 ? p.startOffset : null, reportedLag: p.lag })),
          ),
        ]);
      }
      return { answers: found, again };
    });
    const byGroup = new Map(answers);
    return groupIds.map((g) => byGroup.get(g) ?? []);
  }

  async fetchCommitted(groupIds: readonly string[]): Promise<CommittedOffset[][]> {
    const byGroup = new Map<string, CommittedOffset[]>();
    const oneByOne: string[] = [];
    const answers = await this.perCoordinator(groupIds, async (broker, nodeId, ids) => {
      const version = this.apis.version(broker, nodeId, API.OffsetFetch);
      if (version === null) {
        oneByOne.push(...ids);
        return { answers: [], again: [] };
      }
      const again: Array<{ groupId: string; error: unknown }> = [];
      const found: Array<[string, CommittedOffset[]]> = [];
      for (const g of await sendFlexible(broker, fetchGroupOffsets(ids, version))) {
        const failed = g.errorCode !== 0 ? g.errorCode : g.partitionErrorCode;
        if (failed !== 0) {
          again.push({ groupId: g.groupId, error: kafkaError(failed) });
          continue;
        }
        found.push([g.groupId, g.committed]);
      }
      return { answers: found, again };
    });
    for (const [groupId, committed] of answers) byGroup.set(groupId, committed);
    await Promise.all(
      oneByOne.map((groupId) =>
        this.limiter.schedule(async () => {
          const { responses } = await this.atCoordinator(groupId, (broker) => broker.offsetFetch({ groupId, topics: [] }));
          byGroup.set(groupId, committedOf(responses));
        }),
      ),
    );
    return groupIds.map((g) => byGroup.get(g) ?? []);
  }

  async topicOffsets(topics: readonly string[], catalog: TopicCatalog): Promise<Map<string, TopicOffsets>> {
    const leaders = catalog.leaders ?? (await this.topics()).leaders ?? new Map();
    const byLeader = new Map<number, Map<string, number[]>>();
    for (const topic of topics) {
      const partitions = leaders.get(topic);
      if (!partitions) continue;
      for (const { partition, leader } of partitions) {
        // No leader (offline partition): its offsets are unknown, the rest of the read stands.
        if (leader < 0) continue;
        const forLeader = byLeader.get(leader) ?? new Map<string, number[]>();
        const list = forLeader.get(topic) ?? [];
        list.push(partition);
        forLeader.set(topic, list);
        byLeader.set(leader, forLeader);
      }
    }

    const ends = new Map<string, Map<number, { end?: number; start?: number }>>();
    // Each log end with the log start last read (no key string or array per partition: this
    // runs for every partition of the cluster each check).
    const record = (responses: readonly RawTopicPartitionOffsets[]) => {
      for (const { topic, partitions } of responses) {
        let forTopic = ends.get(topic);
        if (!forTopic) ends.set(topic, (forTopic = new Map()));
        const starts = this.logStarts.get(topic);
        for (const p of partitions) {
          const start = starts?.get(p.partition);
          forTopic.set(p.partition, start ? { end: Number(p.offset), start: start.start } : { end: Number(p.offset) });
        }
      }
    };
    const now = this.now();
    await Promise.all(
      [...byLeader.entries()].map(async ([nodeId, partitionsByTopic]) => {
        try {
          const broker = await this.cluster.findBroker({ nodeId });
          const request = (timestamp: number, only?: (topic: string, partition: number) => boolean) => ({
            topics: [...partitionsByTopic.entries()]
              .map(([topic, partitions]) => ({ topic, partitions: partitions.filter((p) => !only || only(topic, p)).map((partition) => ({ partition, timestamp })) }))
              .filter((t) => t.partitions.length > 0),
          });
          // A partition can be asked for once per ListOffsets request, so log start is a second
          // request, sent only for partitions whose remembered log start is too old.
          const stale = request(EARLIEST, (topic, partition) => !this.freshLogStart(topic, partition, now));
          const [latest, earliest] = await Promise.all([broker.listOffsets(request(LATEST)), stale.topics.length > 0 ? broker.listOffsets(stale) : null]);
          if (earliest) {
            for (const { topic, partitions } of earliest.responses) {
              let starts = this.logStarts.get(topic);
              if (!starts) this.logStarts.set(topic, (starts = new Map()));
              for (const p of partitions) starts.set(p.partition, { start: Number(p.offset), at: now });
            }
          }
          record(latest.responses);
        } catch (error) {
          // Nothing of this leader was recorded (both answers are recorded together, or
          // neither): its partitions come out unknown.
          if (!leaderCannotAnswer(error)) throw error;
        }
      }),
    );
    for (const [topic, forTopic] of ends) {
      for (const [partition, entry] of forTopic) {
        // A log start above the log end belongs to a topic deleted and created again: ask next time.
        if (entry.start !== undefined && entry.end !== undefined && entry.start > entry.end) {
          this.logStarts.get(topic)?.delete(partition);
          entry.start = undefined;
        }
      }
    }
    return offsetsOfTopics(topics, leaders, ends);
  }
}
