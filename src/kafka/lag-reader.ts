import type { GroupDescription } from 'kafkajs';
import { computeGroupLag } from '../core/lag.js';
import { LagUnavailableError, type Clock, type LagSource } from '../core/ports.js';
import type { CommittedOffset, GroupLag, GroupSnapshot, GroupState, TopicOffsets } from '../core/protocol.js';
import type { AdminSession } from './admin-session.js';
import { decodeAssignment } from './assignment.js';
import type { ClusterReads, TopicCatalog } from './cluster-reads.js';
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
      const groups = await reads.listGroups(await reads.topics());
      return groups.map((g) => g.groupId).sort();
    });
  }

  async readGroup(group: string): Promise<GroupLag | null> {
    return this.use(`reading group ${group}`, async (reads) => {
      const [lag] = await this.readGroups(reads, [group], null, reads.topics());
      return lag ?? null;
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
      const catalog = reads.topics();
      const groups = await reads.listGroups(await catalog);
      const listed = new Set(groups.map((g) => g.groupId));
      const unlisted = [...this.remembered.keys()].filter((g) => !listed.has(g));
      const [lags, extra] = await Promise.all([
        this.readGroups(reads, [...listed], listed, catalog),
        this.readGroups(reads, unlisted, listed, catalog).then(
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

  private async readGroups(reads: ClusterReads, groupIds: string[], listed: Set<string> | null, catalogRead: Promise<TopicCatalog>): Promise<GroupLag[]> {
    if (groupIds.length === 0) {
      await catalogRead;
      return [];
    }
    const [descriptions, committedByGroup, catalog] = await Promise.all([reads.describeGroups(groupIds), reads.fetchCommitted(groupIds), catalogRead]);
    const byId = new Map(descriptions.map((d) => [d.groupId, d]));

    const snapshots: GroupSnapshot[] = [];
    for (const [i, groupId] of groupIds.entries()) {
      const committed = committedByGroup[i] as CommittedOffset[];
      const snapshot = await this.snapshotOf(reads, catalog, groupId, byId.get(groupId), committed, listed);
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
    const offsets = await reads.topicOffsets([...allTopics], catalog);
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
   * Turn DescribeGroups' answer into a snapshot. KIP-848 groups are invisible to the
   * classic DescribeGroups and come back `Dead` with no members although they exist
   * (listed, or holding offsets); they must never be reported dead.
   */
  private async snapshotOf(
    reads: ClusterReads,
    catalog: TopicCatalog,
    groupId: string,
    description: GroupDescription | undefined,
    committed: CommittedOffset[],
    listed: Set<string> | null,
  ): Promise<GroupSnapshot | null> {
    const rawState = description?.state ?? 'Dead';
    const state: GroupState = KNOWN_STATES.has(rawState as GroupState) ? (rawState as GroupState) : 'Unknown';
    const withOffsets = committed.filter((c) => c.offset !== null);

    if (state === 'Dead' && (description?.members.length ?? 0) === 0) {
      const isListed = listed ? listed.has(groupId) : (await reads.listGroups(catalog)).some((g) => g.groupId === groupId);
      if (!isListed && withOffsets.length === 0) return null;
      return {
        cluster: this.cluster,
        group: groupId,
        state: 'Unknown',
        protocol: 'consumer',
        protocolType: 'consumer',
        assignmentStrategy: null,
        membersVisible: false,
        members: [],
        committed: withOffsets,
      };
    }

    const protocolType = description?.protocolType ?? '';
    return {
      cluster: this.cluster,
      group: groupId,
      state,
      protocol: 'classic',
      protocolType,
      assignmentStrategy: description?.protocol ? description.protocol : null,
      membersVisible: true,
      members: (description?.members ?? []).map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.clientHost.replace(/^\//, ''),
        assignment: decodeAssignment(protocolType, m.memberAssignment),
      })),
      committed: withOffsets,
    };
  }
}
