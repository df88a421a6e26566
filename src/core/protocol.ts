/**
 * The vocabulary every part of lagbot speaks. Parts import these types, never each
 * other's insides (the same role Burrow's core/protocol plays).
 *
 * Offsets are plain numbers: Kafka offsets are int64, but a partition would need
 * 2^53 messages before precision is lost, which no real log reaches.
 */

import type { KnownBlock } from '@slack/types';
import type { ChartMark, LagChart, LagPoint } from './chart.js';
import type { SkippedRange } from './record-time.js';
import type { Finding, Owner } from './findings.js';
import type { IncidentSilence } from './silence.js';
import type { EscalationState } from './escalation.js';

/**
 * Which group: a group id is unique only within its cluster, so every map, store row,
 * metric series and message that is about a group carries both.
 */
export interface GroupRef {
  cluster: string;
  group: string;
}

/** The cluster a single `kafka:` section configures. */
export const DEFAULT_CLUSTER = 'default';

/** One string per group, for map keys. */
export const groupKey = (ref: GroupRef): string => `${ref.cluster}\u0000${ref.group}`;

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
 * The group's type, as Kafka names it (ListGroups v5, `kafka-consumer-groups --list --type`).
 * `classic`: the JoinGroup/SyncGroup protocol, described by DescribeGroups.
 * `consumer`: the KIP-848 protocol, described by ConsumerGroupDescribe; where a broker lacks
 * it (before Kafka 3.8), offsets and lag are still readable but members are not.
 * `share`: a KIP-932 share group; it commits no offsets, so it has no consumer lag.
 * `other`: a type this lagbot does not know (Kafka 4.1's streams groups, KIP-1071).
 */
export type GroupProtocol = 'classic' | 'consumer' | 'share' | 'other';

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  assignment: TopicPartitions[];
  /** KIP-848 members only: the epoch the member is at, and the assignment it is moving to. */
  memberEpoch?: number;
  targetAssignment?: TopicPartitions[];
}

/** KIP-848 groups only: the group's epoch and the epoch of the target assignment its members move to. */
export interface GroupEpochs {
  group: number;
  assignment: number;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** null when the group has no committed offset for the partition. For a share group: the share-partition's start offset. */
  offset: number | null;
  /**
   * Share groups only: the lag the broker counts for the share-partition (Kafka 4.2+), which
   * knows records delivered past the start offset; null where the broker reports none.
   */
  reportedLag?: number | null;
}

/** What the cluster says about one group, before any arithmetic. */
export interface GroupSnapshot extends GroupRef {
  state: GroupState;
  protocol: GroupProtocol;
  /** Embedded protocol type from ListGroups/DescribeGroups: `consumer`, `connect`, or empty. */
  protocolType: string;
  /** Assignment strategy (classic: the chosen protocol name, e.g. `range`). */
  assignmentStrategy: string | null;
  /** False when members cannot be read (KIP-848 groups on a broker without ConsumerGroupDescribe); `members` is then empty. */
  membersVisible: boolean;
  members: GroupMember[];
  epochs?: GroupEpochs;
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
  | 'no-committed-offset'
  /** The partition's leader could not be asked for its log end right now (a broker down, a leader moving): lag unknown. */
  | 'log-end-unknown'
  /** A share-partition whose lag the broker does not count (brokers before Kafka 4.2): lag unknown. */
  | 'lag-not-reported';

/**
 * How a lag in seconds was found: `exact` from the timestamp of the record at the committed
 * offset, `estimated` by interpolating the log end's history, `extrapolated` beyond it (from
 * the broker's timestamps or the produce rate), so each figure says how far to trust it.
 */
export type LagSecondsMethod = 'exact' | 'estimated' | 'extrapolated';

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
  /** How stale the group's view of this partition is, in seconds; null when unknown. Absent until estimated. */
  lagSeconds?: number | null;
  lagSecondsMethod?: LagSecondsMethod | null;
  /** An exact figure found its record past compacted offsets, transaction markers or aborted records (the next record the group reads). */
  lagSecondsSkipped?: SkippedRange | null;
}

export interface TopicLag {
  topic: string;
  /** Sum of known partition lags. */
  lag: number;
  partitions: number;
  unknownLagPartitions: number;
}

export interface GroupLag extends GroupRef {
  state: GroupState;
  protocol: GroupProtocol;
  protocolType: string;
  assignmentStrategy: string | null;
  membersVisible: boolean;
  members: GroupMember[];
  epochs?: GroupEpochs;
  /** Largest lag first; unknown lag last. */
  partitions: PartitionLag[];
  topics: TopicLag[];
  /** Sum of known partition lags; null when no partition has a known lag. */
  totalLag: number | null;
  /** When the offsets were read (ms since epoch), from the injected clock. */
  readAt: number;
  /** The largest partition lag in seconds (the group is as stale as its stalest partition); null when unknown. Absent until estimated. */
  lagSeconds?: number | null;
  lagSecondsMethod?: LagSecondsMethod | null;
}

/** One line of `/lag list`: a group and its headline numbers. */
export interface GroupListing extends GroupRef {
  state: GroupState;
  protocol: GroupProtocol;
  members: number | null;
  totalLag: number | null;
  /** False when some partition's log end could not be read: totalLag is then a lower bound. */
  totalComplete: boolean;
  partitions: number;
}

/** A Slack message as lagbot builds it: fallback text plus Block Kit blocks (plain JSON). */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** A file lagbot posts: the data to render, not the bytes, so the outbox stays plain JSON. */
export type SlackFile =
  | { kind: 'chart'; filename: string; title: string; chart: LagChart }
  | { kind: 'markdown'; filename: string; title: string; text: string };

/**
 * Something lagbot wants Slack to show, decided by the core and delivered later by the
 * outbox (in order, rate-limited, retried, never twice). Thread replies and root edits
 * name their incident; the delivery layer knows the incident's root message ts.
 */
export type SlackEffect =
  | { kind: 'post-root'; incidentId: string; channel: string; message: SlackMessage }
  | { kind: 'update-root'; incidentId: string; channel: string; message: SlackMessage }
  | { kind: 'post-thread'; incidentId: string; channel: string; message: SlackMessage }
  | { kind: 'post-channel'; channel: string; message: SlackMessage }
  /** A file in the incident's thread: its own stream, so a slow upload never holds up the timeline text. */
  | { kind: 'post-file'; incidentId: string; channel: string; file: SlackFile };

export type Severity = 'warning' | 'critical' | 'page';

/** The figures shown on an incident's root message, refreshed by each check. */
export interface IncidentFigures {
  at: number;
  totalLag: number | null;
  /** The group's lag in seconds (its stalest partition) and how it was found; absent on incidents stored before staleness was known. */
  lagSeconds?: number | null;
  lagSecondsMethod?: LagSecondsMethod | null;
  /** Lag growth in messages per second over the rate window; null until two samples. */
  lagGrowthPerSec: number | null;
  producePerSec: number | null;
  consumePerSec: number | null;
  state: GroupState;
  members: number | null;
  partitions: number;
  hotPartition: { topic: string; partition: number; lag: number; share: number; owner: Owner | null } | null;
  /** Milliseconds until lag reaches 0 at current rates; null when not draining. */
  drainMs: number | null;
  /**
   * While growing: the next rule to raise the severity, the lag at which it fires, and the
   * milliseconds until then at the current rate. `line`: a threshold; `doubling`: the
   * critical rule for lag that doubled within its window.
   */
  nextThreshold: { severity: Severity; lag: number; inMs: number; rule: 'line' | 'doubling' } | null;
  /** The check's headline finding (see diagnosisOf); absent on incidents stored before diagnoses were named. */
  diagnosis?: Finding | null;
}

/**
 * One lag incident of one group: the incident state machine's state. Plain data, so the
 * store keeps it as JSON and a restart continues exactly where it stopped.
 */
export interface Incident extends GroupRef {
  id: string;
  channel: string;
  status: 'open' | 'resolved';
  severity: Severity;
  peakSeverity: Severity;
  openedAt: number;
  updatedAt: number;
  peakLag: number;
  peakLagAt: number;
  /** The stalest the group got while open, in seconds; absent on incidents stored before staleness was known. */
  peakLagSeconds?: number | null;
  /** Consume rate when the incident opened, for the impact summary. */
  openingConsumePerSec: number | null;
  figures: IncidentFigures;
  acknowledged: { by: string; at: number; severity: Severity } | null;
  /** Severity at snooze time: an escalation above it ends the snooze. */
  snoozed: { by: string; at: number; until: number; severity: Severity } | null;
  resolved: { by: string | null; at: number } | null;
  /** Last time the escalation policy notified anyone; null while it never has. */
  lastNotifiedAt: number | null;
  /** When lag first went back under the warning line (hysteresis for resolution). */
  belowWarningSince: number | null;
  /** Observed time under the line since then: time without data does not count. */
  belowWarningObservedMs: number;
  /** A lower severity the rules have said since `since`, for `observedMs` of observed time (hysteresis for de-escalation). */
  lowerSeverity: { severity: Severity; since: number; observedMs: number } | null;
  /** The last check that saw this group's lag; null when checks were missed since (a gap). */
  lastObservedAt: number | null;
  /** Last time the root message was refreshed for new figures alone. */
  rootRefreshedAt: number;
  /** Identities of findings already written to the timeline (see findingIdentity), so each is told once. */
  told: string[];
  /** Group state and members at the previous check, to tell changes. */
  lastState: GroupState | null;
  lastMemberIds: string[] | null;
  /** The incident's own lag series for its charts, capped (see appendPoint); absent on incidents stored before charts. */
  series?: LagPoint[];
  /** Opened, escalated, acknowledged, resolved: drawn on the charts. */
  marks?: ChartMark[];
  /** When the last chart was queued, so escalations post at most one per CHART_EVERY_MS. */
  chartedAt?: number | null;
  /** The silence the incident is under, or the last one it was under; absent on incidents that never were. */
  silence?: IncidentSilence | null;
  /**
   * Where the escalation policy stands; null when it is not running (acknowledged, or the
   * incident never reached the policy's severity). Absent on incidents stored before policies.
   */
  escalation?: EscalationState | null;
  /** Whom the incident was last reassigned to ("Reassign"), by whom and when. */
  assignee?: { user: string; by: string; at: number } | null;
  /** People added with "Add responder", in the order they were added. */
  responders?: string[];
}
