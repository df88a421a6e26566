import { completeTotal } from '../core/lag.js';
import type { GroupLag } from '../core/protocol.js';

/** The `lagbot lag GROUP --json` object: a stable interface, unknown values are null. */
export interface GroupLagJson {
  cluster: string;
  group: string;
  state: string;
  protocol: string;
  members: Array<{
    memberId: string;
    clientId: string;
    host: string;
    assignment: Array<{ topic: string; partitions: number[] }>;
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
  }>;
  totalLag: number | null;
}

export function groupJson(lag: GroupLag): GroupLagJson {
  return {
    cluster: lag.cluster,
    group: lag.group,
    state: lag.state,
    protocol: lag.protocol,
    members: lag.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      host: m.host,
      assignment: m.assignment.map((t) => ({ topic: t.topic, partitions: [...t.partitions] })),
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
    })),
    // null, not a partial sum, when a partition's log end could not be read: scripts compare totals over time.
    totalLag: completeTotal(lag),
  };
}
