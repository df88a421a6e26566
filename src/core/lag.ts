import type {
  CommittedOffset,
  GroupLag,
  GroupListing,
  GroupMember,
  GroupSnapshot,
  PartitionFlag,
  PartitionLag,
  PartitionOffsets,
  TopicLag,
  TopicOffsets,
} from './protocol.js';

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Values by topic and partition, like a Map keyed by `key(topic, partition)` but without a
 * key string per partition: computeGroupLag looks up each of a check's 50,000
 * group-partitions three times.
 */
class ByPartition<V> {
  private readonly topics = new Map<string, Map<number, V>>();

  get(topic: string, partition: number): V | undefined {
    return this.topics.get(topic)?.get(partition);
  }

  set(topic: string, partition: number, value: V): void {
    let partitions = this.topics.get(topic);
    if (!partitions) this.topics.set(topic, (partitions = new Map()));
    partitions.set(partition, value);
  }
}

/**
 * The flags of a partition with none, one frozen array for all: most of a check's 50,000
 * group-partitions have no flag, and each empty array lived to the end of the check (and
 * was made at all: 50,000 arrays a check).
 */
const NO_FLAGS = Object.freeze([]) as unknown as PartitionFlag[];

/** `flags` with `flag` after the others; an array is made only for a partition's first flag. */
function withFlag(flags: PartitionFlag[], flag: PartitionFlag): PartitionFlag[] {
  if (flags === NO_FLAGS) return [flag];
  flags.push(flag);
  return flags;
}

/** Which member owns each assigned partition. */
export function ownersByPartition(members: readonly GroupMember[]): Map<string, GroupMember> {
  const owners = new Map<string, GroupMember>();
  for (const member of members) {
    for (const { topic, partitions } of member.assignment) {
      for (const partition of partitions) owners.set(key(topic, partition), member);
    }
  }
  return owners;
}

function ownerIndex(members: readonly GroupMember[]): ByPartition<GroupMember> {
  const owners = new ByPartition<GroupMember>();
  for (const member of members) {
    for (const { topic, partitions } of member.assignment) {
      for (const partition of partitions) owners.set(topic, partition, member);
    }
  }
  return owners;
}

/**
 * The rows `kafka-consumer-groups --describe` prints: every partition the group has a
 * committed offset for, plus every assigned partition (with no offset yet). In first-seen
 * order; a partition committed twice keeps its place with the later offset.
 */
function describedPartitions(snapshot: GroupSnapshot): CommittedOffset[] {
  const rows: CommittedOffset[] = [];
  const at = new ByPartition<number>();
  for (const c of snapshot.committed) {
    const i = at.get(c.topic, c.partition);
    if (i === undefined) {
      at.set(c.topic, c.partition, rows.length);
      rows.push(c);
    } else {
      rows[i] = c;
    }
  }
  for (const member of snapshot.members) {
    for (const { topic, partitions } of member.assignment) {
      for (const partition of partitions) {
        if (at.get(topic, partition) !== undefined) continue;
        at.set(topic, partition, rows.length);
        rows.push({ topic, partition, offset: null });
      }
    }
  }
  return rows;
}

export interface PartitionLagInput {
  committedOffset: number | null;
  logEndOffset: number | null;
  logStartOffset: number | null;
}

/**
 * LAG = LOG-END-OFFSET − CURRENT-OFFSET, as Kafka's tool computes it, with two guards:
 * no committed offset means unknown lag (never 0, never the whole log), and when
 * retention has deleted past the committed offset only LEO − log start messages remain
 * to be consumed, so lag is capped there.
 */
export function partitionLag(input: PartitionLagInput): { lag: number | null; belowLogStart: boolean } {
  const { committedOffset, logEndOffset, logStartOffset } = input;
  if (committedOffset === null || logEndOffset === null) return { lag: null, belowLogStart: false };
  const belowLogStart = logStartOffset !== null && committedOffset < logStartOffset;
  const from = belowLogStart ? (logStartOffset as number) : committedOffset;
  // A read_uncommitted consumer can commit past the last stable offset of an open
  // transaction; that is "caught up", not negative lag.
  return { lag: Math.max(0, logEndOffset - from), belowLogStart };
}

function compareRows(a: PartitionLag, b: PartitionLag): number {
  if (a.lag !== b.lag) {
    if (a.lag === null) return 1;
    if (b.lag === null) return -1;
    return b.lag - a.lag;
  }
  return a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1;
}

/**
 * Each topic's partitions by number, made once per read of the topic (the array) and shared
 * by every group given it: the groups of a check get the same TopicOffsets, five groups a
 * topic in the benchmark, and a map per group and topic was most of the 4 MB of maps
 * computeGroupLag made a check at 1,000 groups. Held as long as the read is.
 */
const partitionsByNumber = new WeakMap<readonly PartitionOffsets[], Map<number, PartitionOffsets>>();

function byNumber(partitions: readonly PartitionOffsets[]): Map<number, PartitionOffsets> {
  let index = partitionsByNumber.get(partitions);
  if (!index) {
    index = new Map();
    // A partition listed twice keeps the later entry, as before.
    for (const p of partitions) index.set(p.partition, p);
    partitionsByNumber.set(partitions, index);
  }
  return index;
}

/** The log offsets of a partition of the given topics, the later entry winning as a ByPartition filled in order would. */
function logOffsetsOf(topicOffsets: ReadonlyMap<string, TopicOffsets>): { get(topic: string, partition: number): PartitionOffsets | undefined } {
  let keyedByName = true;
  topicOffsets.forEach((t, name) => {
    if (t.topic !== name) keyedByName = false;
  });
  if (keyedByName) {
    return {
      get(topic, partition) {
        const t = topicOffsets.get(topic);
        return t?.exists ? byNumber(t.partitions).get(partition) : undefined;
      },
    };
  }
  // A map whose keys are not its topics' names (not lagbot's own reads): each entry by its topic's name.
  const index = new ByPartition<PartitionOffsets>();
  for (const t of topicOffsets.values()) {
    if (t.exists) for (const p of t.partitions) index.set(t.topic, p.partition, p);
  }
  return index;
}

/** Combine what the cluster said about a group with its topics' log offsets. */
export function computeGroupLag(
  snapshot: GroupSnapshot,
  topicOffsets: ReadonlyMap<string, TopicOffsets>,
  readAt: number,
): GroupLag {
  const owners = ownerIndex(snapshot.members);
  const logOffsets = logOffsetsOf(topicOffsets);

  const partitions: PartitionLag[] = [];
  for (const row of describedPartitions(snapshot)) {
    let flags = NO_FLAGS;
    const topicState = topicOffsets.get(row.topic);
    if (topicState && !topicState.exists) flags = withFlag(flags, 'topic-deleted');
    const log = logOffsets.get(row.topic, row.partition);
    const logEndOffset = log?.logEndOffset ?? null;
    const logStartOffset = log?.logStartOffset ?? null;
    // A share group's lag is the broker's: records past the start offset may be delivered already.
    const { lag, belowLogStart } =
      snapshot.protocol === 'share' ? { lag: row.offset === null ? null : (row.reportedLag ?? null), belowLogStart: false } : partitionLag({ committedOffset: row.offset, logEndOffset, logStartOffset });
    if (belowLogStart) flags = withFlag(flags, 'offset-below-log-start');
    if (row.offset === null) flags = withFlag(flags, 'no-committed-offset');
    if (snapshot.protocol === 'share' && row.offset !== null && lag === null) flags = withFlag(flags, 'lag-not-reported');
    if (row.offset !== null && logEndOffset === null && !(topicState && !topicState.exists)) flags = withFlag(flags, 'log-end-unknown');
    const owner = owners.get(row.topic, row.partition);
    partitions.push({
      topic: row.topic,
      partition: row.partition,
      committedOffset: row.offset,
      logEndOffset,
      logStartOffset,
      lag,
      memberId: owner?.memberId ?? null,
      clientId: owner?.clientId ?? null,
      host: owner?.host ?? null,
      flags,
      // Set by estimateStaleness on every read it sees: there from the start, they are fields
      // of the row's shape, not a properties array added to 50,000 rows a check.
      lagSeconds: undefined,
      lagSecondsMethod: undefined,
    });
  }
  partitions.sort(compareRows);

  const topics = new Map<string, TopicLag>();
  for (const p of partitions) {
    const t = topics.get(p.topic) ?? { topic: p.topic, lag: 0, partitions: 0, unknownLagPartitions: 0 };
    t.partitions += 1;
    if (p.lag === null) t.unknownLagPartitions += 1;
    else t.lag += p.lag;
    topics.set(p.topic, t);
  }
  const known = partitions.filter((p) => p.lag !== null);
  const totalLag = known.length === 0 ? null : known.reduce((sum, p) => sum + (p.lag ?? 0), 0);

  return {
    cluster: snapshot.cluster,
    group: snapshot.group,
    state: snapshot.state,
    protocol: snapshot.protocol,
    protocolType: snapshot.protocolType,
    assignmentStrategy: snapshot.assignmentStrategy,
    membersVisible: snapshot.membersVisible,
    members: snapshot.members,
    ...(snapshot.epochs ? { epochs: snapshot.epochs } : {}),
    partitions,
    topics: [...topics.values()].sort((a, b) => b.lag - a.lag || (a.topic < b.topic ? -1 : 1)),
    totalLag,
    readAt,
  };
}

/**
 * The total the rules may compare over time: null unless the log end of every partition
 * the group has committed on is known. With a broker down, the sum of what is known is a
 * lower bound; a rule comparing it with the whole sum of a minute ago would see a recovery,
 * and, when the partitions come back, a doubling, that never happened.
 */
export function completeTotal(lag: GroupLag): number | null {
  const missing = lag.partitions.some((p) => p.flags.includes('log-end-unknown'));
  return missing ? null : lag.totalLag;
}

export function listingOf(lag: GroupLag): GroupListing {
  return {
    cluster: lag.cluster,
    group: lag.group,
    state: lag.state,
    protocol: lag.protocol,
    members: lag.membersVisible ? lag.members.length : null,
    totalLag: lag.totalLag,
    totalComplete: completeTotal(lag) !== null || lag.totalLag === null,
    partitions: lag.partitions.length,
  };
}

/** Largest total lag first; groups with unknown lag after those with a number; ties by cluster, then group. */
export function sortListings(listings: readonly GroupListing[]): GroupListing[] {
  return [...listings].sort((a, b) => {
    if (a.totalLag !== b.totalLag) {
      if (a.totalLag === null) return 1;
      if (b.totalLag === null) return -1;
      return b.totalLag - a.totalLag;
    }
    if (a.cluster !== b.cluster) return a.cluster < b.cluster ? -1 : 1;
    return a.group < b.group ? -1 : a.group > b.group ? 1 : 0;
  });
}
