import { formatCount, formatPercent } from './format.js';
import type { GroupLag, Hint, PartitionLag } from './protocol.js';

/** A partition holding at least this share of the group's lag is "the smoking gun". */
export const HOT_PARTITION_SHARE = 0.5;

const REBALANCING_STATES = new Set(['PreparingRebalance', 'CompletingRebalance', 'Assigning', 'Reconciling']);

export function isRebalancing(lag: Pick<GroupLag, 'state'>): boolean {
  return REBALANCING_STATES.has(lag.state);
}

const tp = (p: Pick<PartitionLag, 'topic' | 'partition'>): string => `${p.topic}-${p.partition}`;

function listSome(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** The partition holding most of the lag, if one does. */
export function hotPartition(lag: GroupLag): { partition: PartitionLag; share: number } | null {
  const known = lag.partitions.filter((p) => p.lag !== null);
  const total = lag.totalLag;
  if (known.length < 2 || total === null || total <= 0) return null;
  const top = known[0] as PartitionLag; // partitions are sorted largest lag first
  const share = (top.lag as number) / total;
  return share >= HOT_PARTITION_SHARE ? { partition: top, share } : null;
}

function ownerText(p: PartitionLag): string {
  if (p.memberId === null) return 'It has no owner: no member is consuming it.';
  return `Owner: ${p.memberId} on ${p.host ?? '?'} (client ${p.clientId ?? '?'}).`;
}

/**
 * Plain-language reading of the numbers: what the case study's engineer worked out by
 * hand from two runs of kafka-consumer-groups.
 */
export function diagnose(lag: GroupLag): Hint[] {
  const hints: Hint[] = [];

  const hot = hotPartition(lag);
  if (hot) {
    hints.push({
      kind: 'hot-partition',
      text:
        `Partition ${tp(hot.partition)} holds ${formatPercent(hot.share)} of the lag ` +
        `(${formatCount(hot.partition.lag)} of ${formatCount(lag.totalLag)}): a partition imbalance, ` +
        `not a throughput problem. ${ownerText(hot.partition)}`,
    });
  }

  if (isRebalancing(lag)) {
    hints.push({
      kind: 'rebalancing',
      text:
        `The group is rebalancing (${lag.state}): assignments are in flux and consumption is paused. ` +
        'Repeated rebalances usually mean poll() takes longer than max.poll.interval.ms.',
    });
  }

  if (lag.protocol === 'consumer') {
    hints.push({
      kind: 'members-not-visible',
      text:
        'This group uses the new consumer protocol (KIP-848). Lag is exact, but lagbot cannot read ' +
        'its members and assignments yet; run kafka-consumer-groups --describe --members for them.',
    });
  } else if (lag.members.length === 0) {
    hints.push({
      kind: 'no-members',
      text:
        lag.partitions.length > 0
          ? 'No active members: nothing is consuming, so lag grows with every message produced.'
          : 'No active members and no committed offsets.',
    });
  } else {
    const assignedPartitions = lag.members.reduce(
      (n, m) => n + m.assignment.reduce((k, t) => k + t.partitions.length, 0),
      0,
    );
    const idle = lag.members.filter((m) => m.assignment.every((t) => t.partitions.length === 0));
    if (idle.length > 0 && !isRebalancing(lag)) {
      hints.push({
        kind: 'idle-members',
        text:
          `${idle.length} of ${lag.members.length} members have no partitions (${assignedPartitions} assigned in all): ` +
          'a group uses at most one consumer per partition, extra consumers sit idle. ' +
          'To consume faster, add partitions first.',
      });
    }
    const unowned = lag.partitions.filter((p) => p.memberId === null);
    if (unowned.length > 0 && !isRebalancing(lag)) {
      hints.push({
        kind: 'unowned-partitions',
        text:
          `${unowned.length} partition${unowned.length === 1 ? ' has' : 's have'} committed offsets but no owner: ` +
          `${listSome(unowned.map(tp))}. The group no longer consumes them (unsubscribed topic?).`,
      });
    }
  }

  const deleted = [...new Set(lag.partitions.filter((p) => p.flags.includes('topic-deleted')).map((p) => p.topic))];
  if (deleted.length > 0) {
    hints.push({
      kind: 'topic-deleted',
      text:
        `Topic ${listSome(deleted)} no longer exists but the group still has committed offsets on it; ` +
        'its lag is unknown. Remove them with kafka-consumer-groups --delete-offsets.',
    });
  }

  const below = lag.partitions.filter((p) => p.flags.includes('offset-below-log-start'));
  if (below.length > 0) {
    const lost = below.reduce((n, p) => n + ((p.logStartOffset ?? 0) - (p.committedOffset ?? 0)), 0);
    hints.push({
      kind: 'offset-below-log-start',
      text:
        `Retention deleted ${formatCount(lost)} messages this group never read on ${listSome(below.map(tp))}: ` +
        'the committed offset is below the log start, so lag counts only what is left. ' +
        'On restart the consumer resets per auto.offset.reset.',
    });
  }

  const uncommitted = lag.partitions.filter((p) => p.flags.includes('no-committed-offset'));
  if (uncommitted.length > 0) {
    hints.push({
      kind: 'no-committed-offset',
      text: `No committed offset yet on ${listSome(uncommitted.map(tp))}: lag unknown until the owner commits.`,
    });
  }

  return hints;
}
