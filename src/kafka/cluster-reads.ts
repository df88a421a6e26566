import type { Admin, GroupDescription } from 'kafkajs';
import type { CommittedOffset, TopicOffsets } from '../core/protocol.js';
import { isConnectionFailure } from './errors.js';
import { createLimiter, type Limiter } from './limit.js';
import type { InternalBroker, InternalCluster, RawMetadata, RawTopicPartitionOffsets } from './kafkajs-internals.js';

export interface ListedGroup {
  groupId: string;
  protocolType: string;
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
  listGroups(catalog: TopicCatalog): Promise<ListedGroup[]>;
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]>;
  /** Committed offsets of each group, in the order given. */
  fetchCommitted(groupIds: readonly string[]): Promise<CommittedOffset[][]>;
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

  async listGroups(): Promise<ListedGroup[]> {
    return (await this.admin.listGroups()).groups;
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return (await this.admin.describeGroups([...groupIds])).groups;
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

const LATEST = -1;
const EARLIEST = -2;

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

/**
 * The batched path: one Metadata per read (all topics), ListGroups to every broker at
 * once, a coordinator lookup only for groups not seen before, DescribeGroups once per
 * coordinator, OffsetFetch per group (kafkajs cannot send the multi-group OffsetFetch v8),
 * and two ListOffsets (log end, log start) per partition leader for all topics together.
 */
export class BatchedReads implements ClusterReads {
  /** Coordinators move only on broker failover or reassignment; a wrong one answers NOT_COORDINATOR and is forgotten. */
  private readonly coordinators = new Map<string, number>();
  private metadataInFlight: Promise<RawMetadata> | null = null;
  private catalog: { from: RawMetadata; catalog: TopicCatalog } | null = null;
  /** Coordinator lookups under way, so a group is looked up once however many requests need it. */
  private readonly lookups = new Map<string, Promise<number>>();
  private readonly lookupLimiter = createLimiter(16);

  constructor(
    private readonly cluster: InternalCluster,
    private readonly limiter: Limiter,
  ) {}

  /**
   * One Metadata request for every topic. Reads that start while one is on its way share
   * it: twenty /lag commands at once cost one Metadata, not twenty.
   */
  private metadata(): Promise<RawMetadata> {
    this.metadataInFlight ??= (async () => {
      try {
        await this.cluster.brokerPool.refreshMetadata([]);
        const metadata = this.cluster.brokerPool.metadata;
        if (!metadata) throw new Error('kafkajs kept no metadata after a refresh');
        return metadata;
      } finally {
        this.metadataInFlight = null;
      }
    })();
    return this.metadataInFlight;
  }

  async topics(): Promise<TopicCatalog> {
    const metadata = await this.metadata();
    // Reads that shared a Metadata answer share its catalog too (10,000 partitions each).
    if (this.catalog?.from !== metadata) this.catalog = { from: metadata, catalog: catalogOf(metadata) };
    return this.catalog.catalog;
  }

  async listGroups(catalog: TopicCatalog): Promise<ListedGroup[]> {
    const brokers = catalog.brokers ?? (await this.topics()).brokers ?? [];
    const answers = await Promise.all(brokers.map(async (nodeId) => (await this.cluster.findBroker({ nodeId })).listGroups()));
    return answers.flatMap((a) => a.groups);
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
        const type = errorType(error) ?? '';
        const moved = COORDINATOR_MOVED.has(type) || (error as { name?: string }).name === 'KafkaJSBrokerNotFound';
        if (attempt >= ATTEMPTS || (!moved && !COORDINATOR_LOADING.has(type))) throw error;
        if (moved) this.coordinators.delete(groupId);
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  async describeGroups(groupIds: readonly string[], attempt = 1): Promise<GroupDescription[]> {
    const byCoordinator = new Map<number, string[]>();
    await Promise.all(
      groupIds.map(async (groupId) => {
        const nodeId = await this.coordinatorOf(groupId);
        const list = byCoordinator.get(nodeId) ?? [];
        list.push(groupId);
        byCoordinator.set(nodeId, list);
      }),
    );
    const again: string[] = [];
    const answers = await Promise.all(
      [...byCoordinator.entries()].map(async ([nodeId, ids]) => {
        try {
          const broker = await this.cluster.findBroker({ nodeId });
          return (await broker.describeGroups({ groupIds: ids })).groups;
        } catch (error) {
          // kafkajs fails the whole batch for one group's error: ask for the batch again.
          const type = errorType(error) ?? '';
          const moved = COORDINATOR_MOVED.has(type) || (error as { name?: string }).name === 'KafkaJSBrokerNotFound';
          if (attempt >= ATTEMPTS || (!moved && !COORDINATOR_LOADING.has(type))) throw error;
          if (moved) for (const g of ids) this.coordinators.delete(g);
          again.push(...ids);
          return [];
        }
      }),
    );
    if (again.length > 0) {
      await new Promise((r) => setTimeout(r, 100 * attempt));
      answers.push(await this.describeGroups(again, attempt + 1));
    }
    return answers.flat();
  }

  fetchCommitted(groupIds: readonly string[]): Promise<CommittedOffset[][]> {
    return Promise.all(
      groupIds.map((groupId) =>
        this.limiter.schedule(async () => {
          const { responses } = await this.atCoordinator(groupId, (broker) => broker.offsetFetch({ groupId, topics: [] }));
          return committedOf(responses);
        }),
      ),
    );
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
    const record = (responses: readonly RawTopicPartitionOffsets[], field: 'end' | 'start') => {
      for (const { topic, partitions } of responses) {
        const forTopic = ends.get(topic) ?? new Map<number, { end?: number; start?: number }>();
        for (const p of partitions) {
          const entry = forTopic.get(p.partition) ?? {};
          entry[field] = Number(p.offset);
          forTopic.set(p.partition, entry);
        }
        ends.set(topic, forTopic);
      }
    };
    await Promise.all(
      [...byLeader.entries()].map(async ([nodeId, partitionsByTopic]) => {
        try {
          const broker = await this.cluster.findBroker({ nodeId });
          const request = (timestamp: number) => ({
            topics: [...partitionsByTopic.entries()].map(([topic, partitions]) => ({ topic, partitions: partitions.map((partition) => ({ partition, timestamp })) })),
          });
          // A partition can be asked for once per ListOffsets request: log end and log start
          // are two requests, sent together.
          const [latest, earliest] = await Promise.all([broker.listOffsets(request(LATEST)), broker.listOffsets(request(EARLIEST))]);
          record(latest.responses, 'end');
          record(earliest.responses, 'start');
        } catch (error) {
          // Nothing of this leader was recorded (both answers are recorded together, or
          // neither): its partitions come out unknown.
          if (!leaderCannotAnswer(error)) throw error;
        }
      }),
    );
    return offsetsOfTopics(topics, leaders, ends);
  }
}
