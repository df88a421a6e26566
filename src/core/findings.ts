import { medianOf, observedWindow, partitionKey, partitionRates, ratesOf, rebalancesIn, rewindsIn, splitKey, stalledPartitions, stepRates } from './history.js';
import type { GroupSample } from './history.js';
import type { GroupLag, GroupMember, GroupProtocol, GroupState, PartitionLag, TopicPartitions } from './protocol.js';

/**
 * The one catalogue of what lagbot can read from a group's numbers: what the case study's
 * engineer worked out by hand from kafka-consumer-groups. `/lag` shows the findings over
 * one read; an incident tells the findings over the group's history; `signals.raise` in
 * the configuration takes these kinds. Findings carry figures and identities; the views
 * write the sentences.
 */

/** Who consumes a partition, as the case study's table names it. */
export interface Owner {
  memberId: string;
  clientId: string | null;
  host: string | null;
}

export interface PartitionId {
  topic: string;
  partition: number;
}

/**
 * A partition of a KIP-848 group on its way between members: `from` has it now (null: no
 * member has it, e.g. its owner already let it go), `to` has it in its target assignment
 * (null: no member will, e.g. its topic was unsubscribed).
 */
export interface PartitionMove extends PartitionId {
  /** The partition's lag in this read; null when unknown. */
  lag: number | null;
  from: Owner | null;
  to: Owner | null;
}

export type Finding =
  /** One partition holds most of the lag: an imbalance, not a throughput problem. */
  | { kind: 'hot-partition'; topic: string; partition: number; lag: number; share: number; totalLag: number; owner: Owner | null }
  /**
   * One partition is consumed far slower than the other partitions of its topic while it
   * falls behind: its owner is slow (rates in messages per second over the rate window;
   * `siblingsConsumePerSec`: the median of the other partitions').
   */
  | {
      kind: 'slow-consumer';
      topic: string;
      partition: number;
      consumePerSec: number;
      producePerSec: number;
      siblingsConsumePerSec: number;
      siblings: number;
      lag: number | null;
      owner: Owner | null;
    }
  /**
   * The produce rate jumped well above its median over the history while consumption held:
   * more traffic than the consumers can take, not slower consumers.
   */
  | {
      kind: 'traffic-spike';
      producePerSec: number;
      /** Median produce rate over the history (`baselineMs` long). */
      baselinePerSec: number;
      ratio: number;
      baselineMs: number;
      consumePerSec: number;
      /** Median consume rate over the same history. */
      usualConsumePerSec: number;
      /** null where members are not visible. */
      members: number | null;
      partitions: number;
    }
  /** A committed offset went backwards (Burrow's REWIND): an offset reset or a replay; `at`: the first read that saw it. */
  | { kind: 'rewind'; topic: string; partition: number; from: number; to: number; at: number; owner: Owner | null }
  /** Assignments are in flux: classic groups pause, KIP-848 groups (Assigning, Reconciling) move partitions one by one. */
  | { kind: 'rebalancing'; state: GroupState }
  /**
   * KIP-848 group: members have not reached their target assignment. `moving`: every partition
   * whose owner now is not its owner in the target, largest lag first; `membersBehind` of
   * `members` members hold something other than their target; `assignmentEpoch`: the target's epoch.
   */
  | { kind: 'reconciling'; moving: PartitionMove[]; membersBehind: number; members: number; assignmentEpoch: number | null }
  /** Members keep being dropped: rebalances within the window. */
  | { kind: 'rebalance-storm'; rebalances: number; windowMs: number }
  /** The committed offset stood still while messages arrived (Burrow's STALL). */
  | { kind: 'stalled'; topic: string; partition: number; sinceMs: number; arrived: number; owner: Owner | null }
  /** No active members: nothing consumes. */
  | { kind: 'stopped'; totalLag: number | null; partitions: number }
  /**
   * Lag is exact, members are not readable: a KIP-848 group (`consumer`) on a broker without
   * ConsumerGroupDescribe, a group of a type lagbot does not describe (`other`), a share group
   * with partitions whose members were not read.
   */
  | { kind: 'members-not-visible'; protocol: GroupProtocol }
  /** Members holding no partition (a group uses at most one consumer per partition). */
  | { kind: 'idle-members'; idle: number; members: number; partitions: number }
  /** Fewer consumers than partitions: scaling out gives each partition its own. */
  | { kind: 'under-scaled'; members: number; partitions: number }
  /** Partitions with committed offsets that no member owns. */
  | { kind: 'unowned-partitions'; partitions: PartitionId[] }
  /** Offsets on topics that no longer exist. */
  | { kind: 'topic-deleted'; topics: string[] }
  /** Retention deleted messages the group never read. */
  | { kind: 'retention-loss'; partitions: PartitionId[]; lost: number }
  /** Assigned, never committed (a share group: never read, no start offset): lag unknown. */
  | { kind: 'no-committed-offset'; partitions: PartitionId[]; share: boolean }
  /** Share-partitions whose lag the broker does not count (before Kafka 4.2): lag unknown. */
  | { kind: 'share-lag-not-reported'; partitions: PartitionId[] }
  /** Log ends that could not be read right now (their leader is down or moving): lag unknown, the total a lower bound. */
  | { kind: 'log-end-unknown'; partitions: PartitionId[]; knownLag: number | null };

export type FindingKind = Finding['kind'];

/** Every kind, in the order findings are shown. */
export const FINDING_KINDS = [
  'hot-partition',
  'slow-consumer',
  'traffic-spike',
  'rebalancing',
  'reconciling',
  'rebalance-storm',
  'stalled',
  'rewind',
  'stopped',
  'members-not-visible',
  'idle-members',
  'under-scaled',
  'unowned-partitions',
  'topic-deleted',
  'retention-loss',
  'no-committed-offset',
  'share-lag-not-reported',
  'log-end-unknown',
] as const satisfies readonly FindingKind[];

/** Settings of the detectors that look at history. */
export interface FindingSettings {
  stallAfterMs: number;
  rebalanceWindowMs: number;
  /** This many rebalances within the window make a storm. */
  rebalanceStormCount: number;
  /** Window of the produce and consume rates, per group and per partition. */
  rateWindowMs: number;
  /** "Far below": a partition consumed at this share of its siblings' median rate or less is slow. */
  slowConsumerRatio: number;
  /** "Well above": a produce rate this many times its median over the history or more is a spike. */
  trafficSpikeRatio: number;
}

export const DEFAULT_FINDING_SETTINGS: FindingSettings = {
  stallAfterMs: 5 * 60_000,
  rebalanceWindowMs: 10 * 60_000,
  rebalanceStormCount: 3,
  rateWindowMs: 2 * 60_000,
  slowConsumerRatio: 0.25,
  trafficSpikeRatio: 2,
};

/**
 * Consumption "holds" during a spike when it is at least this share of its usual (median)
 * rate: consumers that got slower are the slow-consumer or stall story, not the traffic's.
 */
export const CONSUMPTION_HELD = 0.9;

/** A baseline is "recent history", not the spike itself, once the history spans this many rate windows. */
export const BASELINE_WINDOWS = 3;

/** A partition holding at least this share of the group's lag is "the smoking gun". */
export const HOT_PARTITION_SHARE = 0.5;

const REBALANCING_STATES = new Set<GroupState>(['PreparingRebalance', 'CompletingRebalance', 'Assigning', 'Reconciling']);

export function isRebalancing(state: GroupState): boolean {
  return REBALANCING_STATES.has(state);
}

export interface FindingInput {
  lag: GroupLag;
  /** The group's samples, ending with this read; empty for a one-off read such as `/lag`. */
  history: readonly GroupSample[];
  settings: FindingSettings;
}

type Detector = (input: FindingInput) => Finding[];

const ownerOf = (p: PartitionLag): Owner | null => (p.memberId === null ? null : { memberId: p.memberId, clientId: p.clientId, host: p.host });
const idOf = (p: PartitionLag): PartitionId => ({ topic: p.topic, partition: p.partition });
const assigned = (lag: GroupLag): number => lag.members.reduce((n, m) => n + m.assignment.reduce((k, t) => k + t.partitions.length, 0), 0);
/** Members are readable and the group is settled, so its assignment means something. */
const settledMembers = (lag: GroupLag): boolean => lag.membersVisible && lag.members.length > 0 && !isRebalancing(lag.state);

const hotPartition: Detector = ({ lag }) => {
  const known = lag.partitions.filter((p) => p.lag !== null);
  const total = lag.totalLag;
  if (known.length < 2 || total === null || total <= 0) return [];
  const top = known[0] as PartitionLag; // partitions are sorted largest lag first
  const share = (top.lag as number) / total;
  if (share < HOT_PARTITION_SHARE) return [];
  return [{ kind: 'hot-partition', topic: top.topic, partition: top.partition, lag: top.lag as number, share, totalLag: total, owner: ownerOf(top) }];
};

const ownerByKey = (lag: GroupLag): Map<string, Owner | null> => new Map(lag.partitions.map((p) => [partitionKey(p.topic, p.partition), ownerOf(p)]));

/**
 * The case study's reasoning: partition 1 consumed at 800/s while the others take 14,200/s,
 * and its log keeps growing, so its owner is slow. A partition that merely gets less traffic
 * keeps up and is not slow; all partitions equally slow is not one slow consumer.
 */
const slowConsumer: Detector = ({ lag, history, settings }) => {
  const rates = partitionRates(history, settings.rateWindowMs);
  if (!rates) return [];
  const { keys, producePerSec, consumePerSec } = rates;
  const slow: Array<{ i: number; siblings: number; median: number }> = [];
  // Keys are sorted by topic: each topic's partitions are one run, its siblings.
  for (let start = 0; start < keys.length; ) {
    const first = keys[start] as string;
    // A topic name holds no NUL: the prefix up to it is the topic.
    const prefix = first.slice(0, first.lastIndexOf('\u0000') + 1);
    let end = start + 1;
    while (end < keys.length && (keys[end] as string).startsWith(prefix)) end += 1;
    for (let i = start; end - start >= 2 && i < end; i += 1) {
      const consume = consumePerSec[i] as number;
      // Consumed at all (a standing offset is a stall), and falling behind.
      if (!(consume > 0) || !(producePerSec[i] as number > consume)) continue;
      const others: number[] = [];
      for (let j = start; j < end; j += 1) if (j !== i && Number.isFinite(consumePerSec[j])) others.push(consumePerSec[j] as number);
      const median = medianOf(others);
      if (median > 0 && consume <= settings.slowConsumerRatio * median) slow.push({ i, siblings: others.length, median });
    }
    start = end;
  }
  if (slow.length === 0) return [];
  const owners = ownerByKey(lag);
  const lagOf = new Map(lag.partitions.map((p) => [partitionKey(p.topic, p.partition), p.lag]));
  return slow.map(({ i, siblings, median }) => {
    const key = keys[i] as string;
    return {
      kind: 'slow-consumer',
      ...splitKey(key),
      consumePerSec: consumePerSec[i] as number,
      producePerSec: producePerSec[i] as number,
      siblingsConsumePerSec: median,
      siblings,
      lag: lagOf.get(key) ?? null,
      owner: owners.get(key) ?? null,
    };
  });
};

/**
 * The other why: more traffic, not slower consumers. The produce rate is well above its own
 * median over the history, consumption holds at its usual rate, and lag grows.
 */
const trafficSpike: Detector = ({ lag, history, settings }) => {
  const rates = ratesOf(history, settings.rateWindowMs);
  // Most groups keep up: the baseline is worked out only for a group falling behind.
  if (!rates || !(rates.producePerSec > rates.consumePerSec)) return [];
  const first = history[0] as GroupSample;
  const baselineMs = (history[history.length - 1] as GroupSample).at - first.at;
  if (baselineMs < BASELINE_WINDOWS * settings.rateWindowMs) return [];
  const steps = stepRates(history);
  const baseline = medianOf(steps.producePerSec);
  const usualConsume = medianOf(steps.consumePerSec);
  if (!(baseline > 0) || rates.producePerSec < settings.trafficSpikeRatio * baseline) return [];
  // Consumers that do not consume at all are stopped or stalled, not outrun.
  if (!(usualConsume > 0) || !(rates.consumePerSec >= CONSUMPTION_HELD * usualConsume)) return [];
  return [
    {
      kind: 'traffic-spike',
      producePerSec: rates.producePerSec,
      baselinePerSec: baseline,
      ratio: rates.producePerSec / baseline,
      baselineMs,
      consumePerSec: rates.consumePerSec,
      usualConsumePerSec: usualConsume,
      members: lag.membersVisible ? lag.members.length : null,
      partitions: lag.partitions.length,
    },
  ];
};

const rewind: Detector = ({ lag, history, settings }) => {
  const rewinds = rewindsIn(history, settings.rateWindowMs);
  if (rewinds.length === 0) return [];
  const owners = ownerByKey(lag);
  return rewinds.map((r) => ({ kind: 'rewind', ...splitKey(r.key), from: r.from, to: r.to, at: r.at, owner: owners.get(r.key) ?? null }));
};

const rebalancing: Detector = ({ lag }) => (isRebalancing(lag.state) ? [{ kind: 'rebalancing', state: lag.state }] : []);

const memberOwner = (m: GroupMember): Owner => ({ memberId: m.memberId, clientId: m.clientId, host: m.host });
const partitionKeys = (topics: readonly TopicPartitions[]): string[] => topics.flatMap((t) => t.partitions.map((p) => partitionKey(t.topic, p)));
/** The member's target, or its current assignment when it has none (a classic member). */
const targetOf = (m: GroupMember): readonly TopicPartitions[] => m.targetAssignment ?? m.assignment;
const atTarget = (m: GroupMember): boolean => {
  const now = new Set(partitionKeys(m.assignment));
  const target = partitionKeys(targetOf(m));
  return target.length === now.size && target.every((k) => now.has(k));
};

/** KIP-848: the partitions whose owner now differs from their owner in the target assignment. */
const reconciling: Detector = ({ lag }) => {
  if (!lag.membersVisible) return [];
  const behind = lag.members.filter((m) => !atTarget(m));
  if (behind.length === 0) return [];
  const current = new Map<string, GroupMember>();
  const target = new Map<string, GroupMember>();
  const ids = new Map<string, PartitionId>();
  const place = (owners: Map<string, GroupMember>, m: GroupMember, topics: readonly TopicPartitions[]): void => {
    for (const t of topics) {
      for (const partition of t.partitions) {
        const key = partitionKey(t.topic, partition);
        owners.set(key, m);
        ids.set(key, { topic: t.topic, partition });
      }
    }
  };
  for (const m of lag.members) {
    place(current, m, m.assignment);
    place(target, m, targetOf(m));
  }
  const lagOf = new Map(lag.partitions.map((p) => [partitionKey(p.topic, p.partition), p.lag]));
  const moving: PartitionMove[] = [];
  for (const [key, id] of ids) {
    const from = current.get(key);
    const to = target.get(key);
    if (from === to) continue;
    moving.push({ ...id, lag: lagOf.get(key) ?? null, from: from ? memberOwner(from) : null, to: to ? memberOwner(to) : null });
  }
  if (moving.length === 0) return [];
  moving.sort(
    (a, b) =>
      (b.lag ?? -1) - (a.lag ?? -1) || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0) || a.partition - b.partition,
  );
  return [{ kind: 'reconciling', moving, membersBehind: behind.length, members: lag.members.length, assignmentEpoch: lag.epochs?.assignment ?? null }];
};

const rebalanceStorm: Detector = ({ history, settings }) => {
  if (history.length === 0) return [];
  const recent = rebalancesIn(observedWindow(history, settings.rebalanceWindowMs));
  return recent.length >= settings.rebalanceStormCount ? [{ kind: 'rebalance-storm', rebalances: recent.length, windowMs: settings.rebalanceWindowMs }] : [];
};

/** No active members: nothing consumes (Burrow's STOP, as far as offsets tell it). */
const isStopped = (lag: GroupLag): boolean => lag.membersVisible && lag.members.length === 0;

// A group without members is stopped, which says it once; each of its partitions standing
// still is not a stall on top of that.
const stalled: Detector = ({ lag, history, settings }) => {
  if (isStopped(lag)) return [];
  const stalls = stalledPartitions(history, settings.stallAfterMs);
  // Indexed only when something stalled: most checks of most groups find nothing.
  if (stalls.length === 0) return [];
  const byKey = new Map(lag.partitions.map((p) => [partitionKey(p.topic, p.partition), p]));
  return stalls.map((stall) => {
    const p = byKey.get(stall.key);
    return { kind: 'stalled', ...splitKey(stall.key), sinceMs: stall.sinceMs, arrived: stall.arrived, owner: p ? ownerOf(p) : null };
  });
};

const stopped: Detector = ({ lag }) =>
  isStopped(lag) ? [{ kind: 'stopped', totalLag: lag.totalLag, partitions: lag.partitions.length }] : [];

// A share group without partitions has no lag to go with members: the views say what it is instead.
const membersNotVisible: Detector = ({ lag }) =>
  lag.membersVisible || (lag.protocol === 'share' && lag.partitions.length === 0) ? [] : [{ kind: 'members-not-visible', protocol: lag.protocol }];

/**
 * One consumer per partition is the rule of consumer groups, not of share groups (KIP-932):
 * their members share partitions, so neither idle members nor scaling to the partition count
 * means anything there.
 */
const onePerPartition = (lag: GroupLag): boolean => lag.protocol !== 'share';

const idleMembers: Detector = ({ lag }) => {
  if (!settledMembers(lag) || !onePerPartition(lag)) return [];
  const idle = lag.members.filter((m) => m.assignment.every((t) => t.partitions.length === 0)).length;
  return idle > 0 ? [{ kind: 'idle-members', idle, members: lag.members.length, partitions: assigned(lag) }] : [];
};

const underScaled: Detector = ({ lag }) => {
  if (!settledMembers(lag) || !onePerPartition(lag)) return [];
  const partitions = lag.partitions.length;
  return lag.members.length < partitions ? [{ kind: 'under-scaled', members: lag.members.length, partitions }] : [];
};

const unownedPartitions: Detector = ({ lag }) => {
  if (!settledMembers(lag)) return [];
  const unowned = lag.partitions.filter((p) => p.memberId === null && !p.flags.includes('topic-deleted'));
  return unowned.length > 0 ? [{ kind: 'unowned-partitions', partitions: unowned.map(idOf) }] : [];
};

const topicDeleted: Detector = ({ lag }) => {
  const topics = [...new Set(lag.partitions.filter((p) => p.flags.includes('topic-deleted')).map((p) => p.topic))];
  return topics.length > 0 ? [{ kind: 'topic-deleted', topics }] : [];
};

const retentionLoss: Detector = ({ lag }) => {
  const below = lag.partitions.filter((p) => p.flags.includes('offset-below-log-start'));
  if (below.length === 0) return [];
  const lost = below.reduce((n, p) => n + ((p.logStartOffset ?? 0) - (p.committedOffset ?? 0)), 0);
  return [{ kind: 'retention-loss', partitions: below.map(idOf), lost }];
};

const noCommittedOffset: Detector = ({ lag }) => {
  const none = lag.partitions.filter((p) => p.flags.includes('no-committed-offset'));
  return none.length > 0 ? [{ kind: 'no-committed-offset', partitions: none.map(idOf), share: lag.protocol === 'share' }] : [];
};

const shareLagNotReported: Detector = ({ lag }) => {
  const unreported = lag.partitions.filter((p) => p.flags.includes('lag-not-reported'));
  return unreported.length > 0 ? [{ kind: 'share-lag-not-reported', partitions: unreported.map(idOf) }] : [];
};

const logEndUnknown: Detector = ({ lag }) => {
  const unknown = lag.partitions.filter((p) => p.flags.includes('log-end-unknown'));
  return unknown.length > 0 ? [{ kind: 'log-end-unknown', partitions: unknown.map(idOf), knownLag: lag.totalLag }] : [];
};

const DETECTORS: Record<FindingKind, Detector> = {
  'hot-partition': hotPartition,
  'slow-consumer': slowConsumer,
  'traffic-spike': trafficSpike,
  rebalancing,
  reconciling,
  'rebalance-storm': rebalanceStorm,
  stalled,
  rewind,
  stopped,
  'members-not-visible': membersNotVisible,
  'idle-members': idleMembers,
  'under-scaled': underScaled,
  'unowned-partitions': unownedPartitions,
  'topic-deleted': topicDeleted,
  'retention-loss': retentionLoss,
  'no-committed-offset': noCommittedOffset,
  'share-lag-not-reported': shareLagNotReported,
  'log-end-unknown': logEndUnknown,
};

/** Every finding over a read and its history, in catalogue order. */
export function findingsOf(input: FindingInput): Finding[] {
  return FINDING_KINDS.flatMap((kind) => DETECTORS[kind](input));
}

/**
 * The kinds that answer "why is there lag", most telling first: nothing consumes; the offset
 * went back; it stands still; it moves too slowly; more arrives than ever; the consumers keep
 * being dropped or moved; one partition holds it. The first one found is the diagnosis.
 */
export const DIAGNOSIS_ORDER = [
  'stopped',
  'rewind',
  'stalled',
  'slow-consumer',
  'traffic-spike',
  'rebalance-storm',
  'reconciling',
  'rebalancing',
  'retention-loss',
  'hot-partition',
  'under-scaled',
] as const satisfies readonly FindingKind[];

/** The headline finding of a check: what the incident's root names as the current diagnosis; null when none explains the lag. */
export function diagnosisOf(findings: readonly Finding[]): Finding | null {
  for (const kind of DIAGNOSIS_ORDER) {
    const found = findingOfKind(findings, kind);
    if (found) return found;
  }
  return null;
}

export function findingOfKind<K extends FindingKind>(findings: readonly Finding[], kind: K): Extract<Finding, { kind: K }> | undefined {
  return findings.find((f): f is Extract<Finding, { kind: K }> => f.kind === kind);
}

const ownerIdentity = (o: Owner | null): string => (o === null ? '-' : `${o.clientId ?? o.memberId}@${o.host ?? '?'}`);
const partitionsIdentity = (ps: readonly PartitionId[]): string => ps.map((p) => `${p.topic}-${p.partition}`).join(',');

/**
 * What a finding says, as far as a reader of the timeline cares: it is told again only
 * when this changes. A flapping group's new member id for the same client on the same
 * host says nothing new; another partition or another owning client or host does.
 */
export function findingIdentity(f: Finding): string {
  switch (f.kind) {
    case 'hot-partition':
      return `${f.kind}:${f.topic}-${f.partition}:${ownerIdentity(f.owner)}`;
    case 'stalled':
      return `${f.kind}:${f.topic}-${f.partition}`;
    case 'slow-consumer':
      return `${f.kind}:${f.topic}-${f.partition}:${ownerIdentity(f.owner)}`;
    case 'rewind':
      return `${f.kind}:${f.topic}-${f.partition}@${f.at}`;
    case 'under-scaled':
      return `${f.kind}:${f.members}`;
    case 'rebalancing':
      return `${f.kind}:${f.state}`;
    case 'reconciling':
      // Told once per target assignment: the moves of one target shrink as they complete,
      // and each step is not news; a new target is.
      return f.assignmentEpoch === null
        ? `${f.kind}:${f.moving.map((m) => `${m.topic}-${m.partition}>${ownerIdentity(m.to)}`).join(',')}`
        : `${f.kind}:epoch-${f.assignmentEpoch}`;
    case 'unowned-partitions':
    case 'retention-loss':
    case 'no-committed-offset':
    case 'share-lag-not-reported':
    case 'log-end-unknown':
      return `${f.kind}:${partitionsIdentity(f.partitions)}`;
    case 'topic-deleted':
      return `${f.kind}:${f.topics.join(',')}`;
    case 'rebalance-storm':
    case 'traffic-spike':
    case 'stopped':
    case 'members-not-visible':
    case 'idle-members':
      return f.kind;
  }
}
