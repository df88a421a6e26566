import { computeGroupLag } from '../core/lag.js';
import { LagUnavailableError, type Clock, type LagSource } from '../core/ports.js';
import type { CommittedOffset, GroupLag, GroupSnapshot, GroupState, TopicOffsets } from '../core/protocol.js';
import type { AdminSession } from './admin-session.js';
import type { ClusterReads, DescribedGroup, ListedGroup, TopicCatalog } from './cluster-reads.js';
import { describeError, rootCause } from './errors.js';

/**
 * Kafka's retriable errors: the cluster changing under the read (a leader or coordinator
 * moved, a new coordinator still loading its groups). What was asked cannot be answered
 * right now, which is what LagUnavailableError says; it is not a bug to crash on.
 */
export function isTransient(error: unknown): boolean {
  const root = rootCause(error) as { name?: unknown; retriable?: unknown } | null;
  return typeof root === 'object' && root !== null && root.name === 'KafkaJSProtocolError' && root.retriable === true;
}

/** A remembered group that cannot be read this many checks in a row is no longer looked for. */
const FORGET_AFTER_MISSES = 3;

const KNOWN_STATES = new Set<GroupState>([
  'Stable',
  'PreparingRebalance',
  'CompletingRebalance',
  'Empty',
  'Dead',
  'Assigning',
  'Reconciling',
]);

/**
 * Reads consumer lag from a cluster through one shared admin connection. Requests for
 * many groups go out together: DescribeGroups batched per coordinator, OffsetFetch per
 * group in parallel, log offsets once per topic however many groups read it (batched per
 * partition leader where kafkajs allows it, see cluster-reads.ts).
 */
export class KafkaLagReader implements LagSource {
  /** The groups readAllGroups answered with lately, and how many reads in a row each could not be re-read (see readAllGroups). */
  private remembered = new Map<string, number>();

  constructor(
    readonly cluster: string,
    private readonly session: AdminSession,
    private readonly clock: Clock,
  ) {}

  async listGroupNames(): Promise<string[]> {
    return this.use('listing groups', async (reads) => {
      const groups = await reads.listGroups(await reads.topicsOf([]));
      return groups.map((g) => g.groupId).sort();
    });
  }

  /** One group: Metadata for its own topics once they are known, not the whole cluster's. */
  async readGroup(group: string): Promise<GroupLag | null> {
    return this.use(`reading group ${group}`, async (reads) => {
      const catalogOf = (topics: readonly string[]) => reads.topicsOf(topics);
      const [lag] = await this.readGroups(reads, [group], null, catalogOf);
      if (lag?.protocol !== 'share' || lag.membersVisible) return lag ?? null;
      // Only the listing tells a share group apart; read it again as one.
      const listing = (await reads.listGroups(await reads.topicsOf([]))).filter((g) => g.groupId === group);
      const [share] = await this.readGroups(reads, [group], new Map(listing.map((g) => [g.groupId, g])), catalogOf);
      return share ?? null;
    });
  }

  /**
   * Every group of the cluster. ListGroups asks each broker for the groups it coordinates,
   * and while a coordinator moves (a broker failed or came back) a group can be listed by
   * neither the old broker nor the new one for a moment. So a group the previous answer had
   * is read anyway, apart from the listed ones: found at its coordinator, it stays in; gone
   * (no members, no offsets), it drops out. Its read failing does not fail the check (lagbot
   * may have lost Describe on it); after a few failures in a row it is forgotten.
   */
  async readAllGroups(): Promise<GroupLag[]> {
    return this.use('reading all groups', async (reads) => {
      // Every group's topics are most of the cluster's: one Metadata for all, asked at once.
      const catalog = reads.topics();
      const all = () => catalog;
      const groups = await reads.listGroups(await catalog);
      const listed = new Map(groups.map((g) => [g.groupId, g]));
      const unlisted = [...this.remembered.keys()].filter((g) => !listed.has(g));
      const [lags, extra] = await Promise.all([
        this.readGroups(reads, [...listed.keys()], listed, all),
        this.readGroups(reads, unlisted, listed, all).then(
          (found) => ({ ok: true as const, found }),
          () => ({ ok: false as const }),
        ),
      ]);
      const remembered = new Map<string, number>();
      for (const lag of lags) remembered.set(lag.group, 0);
      if (extra.ok) {
        lags.push(...extra.found);
        for (const lag of extra.found) remembered.set(lag.group, 0);
      } else {
        for (const g of unlisted) {
          const misses = (this.remembered.get(g) ?? 0) + 1;
          if (misses < FORGET_AFTER_MISSES) remembered.set(g, misses);
        }
      }
      this.remembered = remembered;
      return lags;
    });
  }

  /** A read through the session; a failure that is the cluster changing becomes LagUnavailableError. */
  private async use<T>(what: string, read: (reads: ClusterReads) => Promise<T>): Promise<T> {
    try {
      return await this.session.use(what, read);
    } catch (error) {
      if (error instanceof LagUnavailableError || !isTransient(error)) throw error;
      throw new LagUnavailableError(
        `Kafka cluster ${this.cluster} is moving a partition leader or group coordinator (${what}): ${describeError(error)}`,
        this.cluster,
        this.session.config.brokers,
        { cause: error },
      );
    }
  }

  /** `catalogOf` gives the catalog for the groups' topics (and the brokers, for a listing with no topics). */
  private async readGroups(
    reads: ClusterReads,
    groupIds: string[],
    listed: ReadonlyMap<string, ListedGroup> | null,
    catalogOf: (topics: readonly string[]) => Promise<TopicCatalog>,
  ): Promise<GroupLag[]> {
    if (groupIds.length === 0) return [];
    const types = new Map(groupIds.map((g) => [g, listed?.get(g)?.type ?? null]));
    // Share groups commit no offsets: their start offsets and lag come from their own request.
    // Other types (streams groups) commit offsets but are described by requests lagbot does not send.
    const describable = groupIds.filter((g) => types.get(g) !== 'other');
    const withOffsets = groupIds.filter((g) => types.get(g) !== 'share');
    const share = groupIds.filter((g) => types.get(g) === 'share');
    const [descriptions, committedByGroup, shareOffsets] = await Promise.all([
      reads.describeGroups(describable, types),
      reads.fetchCommitted(withOffsets),
      share.length > 0 ? reads.fetchShareOffsets(share) : Promise.resolve([]),
    ]);
    const byId = new Map(descriptions.map((d) => [d.groupId, d]));
    const committedOf = new Map([...withOffsets.map((g, i) => [g, committedByGroup[i] ?? []] as const), ...share.map((g, i) => [g, shareOffsets[i] ?? []] as const)]);

    const snapshots: GroupSnapshot[] = [];
    for (const groupId of groupIds) {
      const committed = committedOf.get(groupId) ?? [];
      const snapshot = await this.snapshotOf(reads, catalogOf, groupId, byId.get(groupId), committed, listed);
      if (snapshot) snapshots.push(snapshot);
    }

    const topicsOf = snapshots.map((s) => {
      const topics = new Set<string>();
      for (const c of s.committed) topics.add(c.topic);
      for (const m of s.members) for (const a of m.assignment) topics.add(a.topic);
      return topics;
    });
    const allTopics = new Set<string>();
    for (const topics of topicsOf) for (const t of topics) allTopics.add(t);
    const topics = [...allTopics];
    const offsets = await reads.topicOffsets(topics, await catalogOf(topics));
    const readAt = this.clock.now();
    // Each group gets only its own topics' offsets: computeGroupLag indexes every partition
    // it is given, and the whole cluster's partitions for each of 1,000 groups is 10^7 entries.
    return snapshots.map((s, i) => {
      const own = new Map<string, TopicOffsets>();
      for (const topic of topicsOf[i] as Set<string>) {
        const o = offsets.get(topic);
        if (o) own.set(topic, o);
      }
      return computeGroupLag(s, own, readAt);
    });
  }

  /**
   * Turn a group's description into a snapshot. A KIP-848 group that could not be described
   * (its broker lacks ConsumerGroupDescribe) comes back from the classic DescribeGroups
   * `Dead` with no members although it exists (listed, or holding offsets): it must never
   * be reported dead.
   */
  private async snapshotOf(
    reads: ClusterReads,
    catalogOf: (topics: readonly string[]) => Promise<TopicCatalog>,
    groupId: string,
    description: DescribedGroup | undefined,
    committed: CommittedOffset[],
    listed: ReadonlyMap<string, ListedGroup> | null,
  ): Promise<GroupSnapshot | null> {
    const rawState = description?.state ?? 'Dead';
    const state: GroupState = KNOWN_STATES.has(rawState as GroupState) ? (rawState as GroupState) : 'Unknown';
    // A share-partition without a start offset yet is still one of the group's ("-" in kafka-share-groups).
    const isShare = description?.type === 'share' || listed?.get(groupId)?.type === 'share';
    const withOffsets = isShare ? committed : committed.filter((c) => c.offset !== null);

    if (description === undefined || (description.type === 'classic' && state === 'Dead' && description.members.length === 0)) {
      const listing = listed ? listed.get(groupId) : (await reads.listGroups(await catalogOf([]))).find((g) => g.groupId === groupId);
      if (!listing && withOffsets.length === 0) return null;
      const type = listing?.type ?? 'consumer';
      return {
        cluster: this.cluster,
        group: groupId,
        state: 'Unknown',
        protocol: type,
        protocolType: listing?.protocolType ?? 'consumer',
        assignmentStrategy: null,
        membersVisible: false,
        members: [],
        committed: withOffsets,
      };
    }

    return {
      cluster: this.cluster,
      group: groupId,
      state,
      protocol: description?.type ?? 'classic',
      protocolType: description?.protocolType ?? '',
      assignmentStrategy: description?.assignor ?? null,
      membersVisible: true,
      members: description?.members ?? [],
      ...(description?.epochs ? { epochs: description.epochs } : {}),
      committed: withOffsets,
    };
  }
}
