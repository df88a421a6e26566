import { completeTotal } from '../core/lag.js';
import type { GroupLag, LagSecondsMethod, TopicPartitions } from '../core/protocol.js';
import type { SkippedRange } from '../core/record-time.js';

type TopicPartitionsJson = Array<{ topic: string; partitions: number[] }>;

/**
 * The `lagbot lag GROUP --json` object: a stable interface, unknown values are null. Fields
 * are only ever added: `protocol` stays beside `type`, which names the same group type.
 */
export interface GroupLagJson {
  cluster: string;
  group: string;
  state: string;
  protocol: string;
  /** The group type: `classic`, `consumer` (KIP-848), `share` (KIP-932) or `other`; the same value as `protocol`. */
  type: string;
  /** KIP-848 and share groups: GROUP-EPOCH and TARGET-ASSIGNMENT-EPOCH as `kafka-consumer-groups --state --verbose` prints them; null for classic groups. */
  groupEpoch: number | null;
  assignmentEpoch: number | null;
  /** false when the members could not be read (a KIP-848 group on a broker without ConsumerGroupDescribe): `members` is then empty, not "nobody". */
  membersVisible: boolean;
  members: Array<{
    memberId: string;
    clientId: string;
    host: string;
    assignment: TopicPartitionsJson;
    /** The member's epoch (KIP-848 and share members) and the assignment a KIP-848 member is moving to (equal to `assignment` once reached); null where the member has none. */
    memberEpoch: number | null;
    targetAssignment: TopicPartitionsJson | null;
  }>;
  partitions: Array<{
    topic: string;
    partition: number;
    committedOffset: number | null;
    logEndOffset: number | null;
    logStartOffset: number | null;
    lag: number | null;
    memberId: string | null;
    clientId: string | null;
    host: string | null;
    /** How stale the group's view of the partition is, in seconds; null when unknown. */
    lagSeconds: number | null;
    /** `exact` (the record at the committed offset), `estimated` (the log end's history) or `extrapolated` (beyond it); null with lagSeconds null. */
    lagSecondsMethod: LagSecondsMethod | null;
    /** An exact figure whose record lies past compacted offsets, transaction markers or aborted records (the next record the group reads); null otherwise. */
    lagSecondsSkipped: SkippedRange | null;
  }>;
  totalLag: number | null;
  /** The group's staleness: its stalest partition's, and how that was found. */
  lagSeconds: number | null;
  lagSecondsMethod: LagSecondsMethod | null;
}

const topicsJson = (topics: readonly TopicPartitions[]): TopicPartitionsJson => topics.map((t) => ({ topic: t.topic, partitions: [...t.partitions] }));

export function groupJson(lag: GroupLag): GroupLagJson {
  return {
    cluster: lag.cluster,
    group: lag.group,
    state: lag.state,
    protocol: lag.protocol,
    type: lag.protocol,
    groupEpoch: lag.epochs?.group ?? null,
    assignmentEpoch: lag.epochs?.assignment ?? null,
    membersVisible: lag.membersVisible,
    members: lag.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      host: m.host,
      assignment: topicsJson(m.assignment),
      memberEpoch: m.memberEpoch ?? null,
      targetAssignment: m.targetAssignment ? topicsJson(m.targetAssignment) : null,
    })),
    partitions: lag.partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      committedOffset: p.committedOffset,
      logEndOffset: p.logEndOffset,
      logStartOffset: p.logStartOffset,
      lag: p.lag,
      memberId: p.memberId,
      clientId: p.clientId,
      host: p.host,
      lagSeconds: p.lagSeconds ?? null,
      lagSecondsMethod: p.lagSeconds === null || p.lagSeconds === undefined ? null : (p.lagSecondsMethod ?? null),
      lagSecondsSkipped: p.lagSecondsSkipped ?? null,
    })),
    // null, not a partial sum, when a partition's log end could not be read: scripts compare totals over time.
    totalLag: completeTotal(lag),
    lagSeconds: lag.lagSeconds ?? null,
    lagSecondsMethod: lag.lagSeconds === null || lag.lagSeconds === undefined ? null : (lag.lagSecondsMethod ?? null),
  };
}
