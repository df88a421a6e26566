import Bottleneck from 'bottleneck';
import type { Admin, GroupDescription } from 'kafkajs';
import { computeGroupLag, listingOf, sortListings } from '../core/lag.js';
import type {
  Clock,
  CommittedOffset,
  GroupLag,
  GroupListing,
  GroupSnapshot,
  GroupState,
  TopicOffsets,
} from '../core/protocol.js';
import type { AdminSession } from './admin-session.js';
import { decodeAssignment } from './assignment.js';

const KNOWN_STATES = new Set<GroupState>([
  'Stable',
  'PreparingRebalance',
  'CompletingRebalance',
  'Empty',
  'Dead',
  'Assigning',
  'Reconciling',
]);

function parseOffset(value: string): number | null {
  const n = Number(value);
  // Kafka answers -1 for "no committed offset".
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** The port lagbot's core reads lag through; tests of the Slack side may use any implementation. */
export interface LagSource {
  /** null when the cluster has no such group. */
  readGroup(group: string): Promise<GroupLag | null>;
  readAllGroups(): Promise<GroupLag[]>;
  listGroupNames(): Promise<string[]>;
}

/**
 * Reads consumer lag from a cluster through one shared admin connection. Requests for
 * many groups go out together: DescribeGroups batched per coordinator, OffsetFetch per
 * group in parallel, ListOffsets once per topic however many groups read it.
 */
export class KafkaLagReader implements LagSource {
  private readonly limiter: Bottleneck;

  constructor(
    private readonly session: AdminSession,
    private readonly clock: Clock,
    concurrency = 32,
  ) {
    this.limiter = new Bottleneck({ maxConcurrent: concurrency });
  }

  async listGroupNames(): Promise<string[]> {
    return this.session.use('listing groups', async (admin) => {
      const { groups } = await admin.listGroups();
      return groups.map((g) => g.groupId).sort();
    });
  }

  async readGroup(group: string): Promise<GroupLag | null> {
    return this.session.use(`reading group ${group}`, async (admin) => {
      const [lag] = await this.readGroups(admin, [group], null);
      return lag ?? null;
    });
  }

  async readAllGroups(): Promise<GroupLag[]> {
    return this.session.use('reading all groups', async (admin) => {
      const { groups } = await admin.listGroups();
      const listed = new Set(groups.map((g) => g.groupId));
      return this.readGroups(admin, [...listed], listed);
    });
  }

  /** Headline numbers of every group, largest total lag first. */
  async listGroups(): Promise<GroupListing[]> {
    return sortListings((await this.readAllGroups()).map(listingOf));
  }

  private async readGroups(admin: Admin, groupIds: string[], listed: Set<string> | null): Promise<GroupLag[]> {
    if (groupIds.length === 0) return [];
    const [{ groups: descriptions }, committedByGroup, existingTopics] = await Promise.all([
      admin.describeGroups(groupIds),
      Promise.all(groupIds.map((groupId) => this.limiter.schedule(() => this.fetchCommitted(admin, groupId)))),
      admin.listTopics().then((names) => new Set(names)),
    ]);
    const byId = new Map(descriptions.map((d) => [d.groupId, d]));

    const snapshots: GroupSnapshot[] = [];
    for (const [i, groupId] of groupIds.entries()) {
      const committed = committedByGroup[i] as CommittedOffset[];
      const snapshot = await this.snapshotOf(admin, groupId, byId.get(groupId), committed, listed);
      if (snapshot) snapshots.push(snapshot);
    }

    const topics = new Set<string>();
    for (const s of snapshots) {
      for (const c of s.committed) topics.add(c.topic);
      for (const m of s.members) for (const a of m.assignment) topics.add(a.topic);
    }
    const offsets = await this.fetchTopicOffsets(admin, [...topics], existingTopics);
    const readAt = this.clock.now();
    return snapshots.map((s) => computeGroupLag(s, offsets, readAt));
  }

  private async fetchCommitted(admin: Admin, groupId: string): Promise<CommittedOffset[]> {
    // Never resolveOffsets: true — kafkajs would commit the resolved offsets.
    const topics = await admin.fetchOffsets({ groupId });
    return topics.flatMap(({ topic, partitions }) =>
      partitions.map((p) => ({ topic, partition: p.partition, offset: parseOffset(p.offset) })),
    );
  }

  /**
   * Turn DescribeGroups' answer into a snapshot. KIP-848 groups are invisible to the
   * classic DescribeGroups and come back `Dead` with no members although they exist
   * (listed, or holding offsets); they must never be reported dead.
   */
  private async snapshotOf(
    admin: Admin,
    groupId: string,
    description: GroupDescription | undefined,
    committed: CommittedOffset[],
    listed: Set<string> | null,
  ): Promise<GroupSnapshot | null> {
    const rawState = description?.state ?? 'Dead';
    const state: GroupState = KNOWN_STATES.has(rawState as GroupState) ? (rawState as GroupState) : 'Unknown';
    const withOffsets = committed.filter((c) => c.offset !== null);

    if (state === 'Dead' && (description?.members.length ?? 0) === 0) {
      const isListed = listed ? listed.has(groupId) : await this.isListed(admin, groupId);
      if (!isListed && withOffsets.length === 0) return null;
      return {
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

  private async isListed(admin: Admin, groupId: string): Promise<boolean> {
    const { groups } = await admin.listGroups();
    return groups.some((g) => g.groupId === groupId);
  }

  /** Log start and end offsets per topic, once per topic however many groups need it. */
  private async fetchTopicOffsets(admin: Admin, topics: string[], existing: Set<string>): Promise<Map<string, TopicOffsets>> {
    const result = new Map<string, TopicOffsets>();
    await Promise.all(
      topics.map((topic) =>
        this.limiter.schedule(async () => {
          if (!existing.has(topic)) {
            result.set(topic, { topic, exists: false });
            return;
          }
          // A stale-metadata error here is not proof that *this* topic is gone: kafkajs
          // fails every refresh once any topic it has seen was deleted. It propagates, so
          // the session retries the whole read on a fresh client.
          const partitions = await admin.fetchTopicOffsets(topic);
          result.set(topic, {
            topic,
            exists: true,
            partitions: partitions.map((p) => ({
              partition: p.partition,
              logEndOffset: Number(p.high),
              logStartOffset: Number(p.low),
            })),
          });
        }),
      ),
    );
    return result;
  }
}
