/**
 * The vocabulary every part of lagbot speaks. Parts import these types, never each
 * other's insides (the same role Burrow's core/protocol plays).
 *
 * Offsets are plain numbers: Kafka offsets are int64, but a partition would need
 * 2^53 messages before precision is lost, which no real log reaches.
 */

/** Classic group states, plus the KIP-848 consumer-protocol states. */
export type GroupState =
  | 'Stable'
  | 'PreparingRebalance'
  | 'CompletingRebalance'
  | 'Empty'
  | 'Dead'
  | 'Assigning'
  | 'Reconciling'
  | 'Unknown';

/**
 * `classic`: the JoinGroup/SyncGroup protocol, fully visible through DescribeGroups.
 * `consumer`: the KIP-848 protocol; offsets and lag are readable, members are not (kafkajs
 * has no ConsumerGroupDescribe), and its state is not known to lagbot.
 */
export type GroupProtocol = 'classic' | 'consumer';

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  assignment: TopicPartitions[];
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** null when the group has no committed offset for the partition. */
  offset: number | null;
}

/** What the cluster says about one group, before any arithmetic. */
export interface GroupSnapshot {
  group: string;
  state: GroupState;
  protocol: GroupProtocol;
  /** Embedded protocol type from ListGroups/DescribeGroups: `consumer`, `connect`, or empty. */
  protocolType: string;
  /** Assignment strategy (classic: the chosen protocol name, e.g. `range`). */
  assignmentStrategy: string | null;
  /** False when members cannot be read (KIP-848 groups); `members` is then empty. */
  membersVisible: boolean;
  members: GroupMember[];
  committed: CommittedOffset[];
}

export interface PartitionOffsets {
  partition: number;
  logEndOffset: number;
  logStartOffset: number;
}

/** Log offsets of one topic; `exists: false` when the topic was deleted. */
export type TopicOffsets =
  | { topic: string; exists: true; partitions: PartitionOffsets[] }
  | { topic: string; exists: false };

export type PartitionFlag =
  /** Retention removed messages the group never consumed. */
  | 'offset-below-log-start'
  /** The group still has offsets on a topic that no longer exists. */
  | 'topic-deleted'
  /** Assigned, but the group never committed: lag unknown. */
  | 'no-committed-offset';

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: number | null;
  logEndOffset: number | null;
  logStartOffset: number | null;
  /** null when unknown; never guessed. */
  lag: number | null;
  memberId: string | null;
  clientId: string | null;
  host: string | null;
  flags: PartitionFlag[];
}

export interface TopicLag {
  topic: string;
  /** Sum of known partition lags. */
  lag: number;
  partitions: number;
  unknownLagPartitions: number;
}

export interface GroupLag {
  group: string;
  state: GroupState;
  protocol: GroupProtocol;
  protocolType: string;
  assignmentStrategy: string | null;
  membersVisible: boolean;
  members: GroupMember[];
  /** Largest lag first; unknown lag last. */
  partitions: PartitionLag[];
  topics: TopicLag[];
  /** Sum of known partition lags; null when no partition has a known lag. */
  totalLag: number | null;
  /** When the offsets were read (ms since epoch), from the injected clock. */
  readAt: number;
}

/** One line of `/lag list`: a group and its headline numbers. */
export interface GroupListing {
  group: string;
  state: GroupState;
  protocol: GroupProtocol;
  members: number | null;
  totalLag: number | null;
  partitions: number;
}

export type HintKind =
  | 'hot-partition'
  | 'idle-members'
  | 'unowned-partitions'
  | 'rebalancing'
  | 'no-members'
  | 'members-not-visible'
  | 'offset-below-log-start'
  | 'topic-deleted'
  | 'no-committed-offset';

export interface Hint {
  kind: HintKind;
  /** Plain text (not yet escaped for Slack); views format it. */
  text: string;
}

/** Clock injected everywhere time matters, so tests never sleep. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
