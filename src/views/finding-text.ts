import type { Finding, FindingKind, Owner, PartitionId, PartitionMove } from '../core/findings.js';
import { formatCount, formatDuration, formatPerSec, formatPercent, formatRatio, formatUtc } from './format.js';
import { PLAIN_STYLE, type TextStyle } from './text-style.js';

/** The sentence of every finding: the same words in `/lag`, the incident thread and the terminal. */

export const FINDING_ICONS: Record<FindingKind, string> = {
  'hot-partition': ':fire:',
  'slow-consumer': ':turtle:',
  'traffic-spike': ':ocean:',
  rebalancing: ':arrows_counterclockwise:',
  reconciling: ':point_right:',
  'rebalance-storm': ':cyclone:',
  stalled: ':double_vertical_bar:',
  rewind: ':rewind:',
  stopped: ':zzz:',
  'members-not-visible': ':eyes:',
  'idle-members': ':hourglass:',
  'under-scaled': ':chart_with_upwards_trend:',
  'unowned-partitions': ':ghost:',
  'topic-deleted': ':wastebasket:',
  'retention-loss': ':warning:',
  'no-committed-offset': ':grey_question:',
  'share-lag-not-reported': ':grey_question:',
  'log-end-unknown': ':satellite_antenna:',
};

function listSome(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

const tp = (p: PartitionId, s: TextStyle): string => s.name(`${p.topic}-${p.partition}`);
const tps = (ps: readonly PartitionId[], s: TextStyle): string => listSome(ps.map((p) => tp(p, s)));

/** `consumer-2 on 10.0.1.15`: the client id and host first, as the case study's table reads; the member id is long. */
export function ownerText(owner: Owner, s: TextStyle = PLAIN_STYLE): string {
  return `${s.name(owner.clientId ?? owner.memberId)} on ${s.name(owner.host ?? '?')}`;
}

/** The owner of one side of a move; the member ids join in when both sides read the same. */
function moveText(m: PartitionMove, s: TextStyle): string {
  const side = (o: Owner | null, same: boolean): string => (o === null ? 'no member' : same ? `${ownerText(o, s)} (member ${s.name(o.memberId)})` : ownerText(o, s));
  const same = m.from !== null && m.to !== null && m.from.clientId === m.to.clientId && m.from.host === m.to.host;
  const lag = m.lag === null ? '' : ` (lag ${formatCount(m.lag)})`;
  return `${tp(m, s)}${lag} from ${side(m.from, same)} to ${side(m.to, same)}`;
}

/** KIP-848 states: members move partitions one at a time instead of stopping together. */
const KIP848_REBALANCE = new Set(['Assigning', 'Reconciling']);

export function findingText(f: Finding, s: TextStyle = PLAIN_STYLE): string {
  switch (f.kind) {
    case 'hot-partition': {
      const owner = f.owner
        ? `Owner: ${ownerText(f.owner, s)} (member ${s.name(f.owner.memberId)}).`
        : 'It has no owner: no member is consuming it.';
      return (
        `Hot partition ${tp(f, s)} holds ${formatPercent(f.share)} of the lag (${formatCount(f.lag)} of ${formatCount(f.totalLag)}): ` +
        `a partition imbalance, not a throughput problem. ${owner}`
      );
    }
    case 'slow-consumer': {
      const others = f.siblings === 1 ? 'the other partition' : 'the other partitions';
      const who = f.owner ? `its owner ${ownerText(f.owner, s)} is slow: profile it` : 'it has no owner now';
      return (
        `${tp(f, s)} is consumed at ${formatPerSec(f.consumePerSec)}, ${others} at ${formatPerSec(f.siblingsConsumePerSec)}, ` +
        `while ${formatPerSec(f.producePerSec)} arrive on it (lag ${formatCount(f.lag)}); ${who}.`
      );
    }
    case 'traffic-spike': {
      const advice =
        f.members !== null && f.members >= f.partitions
          ? `every partition has its own consumer already (${f.members} for ${f.partitions}): add partitions, or make processing faster`
          : `add consumers, up to the partition count (${f.partitions}${f.members === null ? '' : `; ${f.members} now`})`;
      return (
        `Traffic spike: produce rate ${formatRatio(f.ratio)} its ${formatDuration(f.baselineMs)} median (${formatPerSec(f.producePerSec)} against ${formatPerSec(f.baselinePerSec)}); ` +
        `consumers are at their usual ${formatPerSec(f.consumePerSec)}: ${advice}.`
      );
    }
    case 'rewind': {
      const who = f.owner ? ` (owner ${ownerText(f.owner, s)})` : '';
      return (
        `Committed offset of ${tp(f, s)}${who} went backwards from ${formatCount(f.from)} to ${formatCount(f.to)}, seen at ${formatUtc(f.at)}: ` +
        `an offset reset or a replay; ${formatCount(f.from - f.to)} messages are consumed again.`
      );
    }
    case 'rebalancing':
      if (KIP848_REBALANCE.has(f.state)) {
        return (
          `The group is rebalancing (${f.state}, KIP-848): members are moving to a new target assignment. ` +
          'Only the partitions that move pause; the others are consumed throughout.'
        );
      }
      return (
        `The group is rebalancing (${f.state}): assignments are in flux and consumption is paused. ` +
        'Repeated rebalances usually mean poll() takes longer than max.poll.interval.ms.'
      );
    case 'reconciling': {
      const shown = f.moving.slice(0, 5).map((m) => moveText(m, s));
      const more = f.moving.length > shown.length ? `; and ${f.moving.length - shown.length} more` : '';
      const epoch = f.assignmentEpoch === null ? 'their target assignment' : `target assignment epoch ${f.assignmentEpoch}`;
      const count = f.moving.length === 1 ? '1 partition is' : `${f.moving.length} partitions are`;
      return (
        `${f.membersBehind} of ${f.members} member${f.members === 1 ? '' : 's'} ${f.membersBehind === 1 ? 'has' : 'have'} not reached ${epoch} (KIP-848): ` +
        `${count} moving: ${shown.join('; ')}${more}. A partition is not consumed between its release and its new owner taking it.`
      );
    }
    case 'rebalance-storm':
      return (
        `Rebalance storm: ${f.rebalances} rebalances in ${formatDuration(f.windowMs)}. ` +
        'Members are being dropped, usually because poll() takes longer than max.poll.interval.ms: ' +
        "slow processing (the case study's was schema deserialization). Tune max.poll.records and max.poll.interval.ms together."
      );
    case 'stalled': {
      const who = f.owner ? `owner ${ownerText(f.owner, s)}` : 'no owner';
      return (
        `Consumer stalled on ${tp(f, s)} (${who}): the committed offset has not moved for ` +
        `${formatDuration(f.sinceMs)} while ${formatCount(f.arrived)} messages arrived.`
      );
    }
    case 'stopped':
      return f.partitions > 0
        ? 'No active members: nothing is consuming, so lag grows with every message produced.'
        : 'No active members and no committed offsets.';
    case 'members-not-visible':
      if (f.protocol === 'share') return 'Share group (KIP-932): its members could not be read.';
      if (f.protocol === 'other') {
        return (
          'lagbot does not describe groups of this type (e.g. Kafka Streams groups, KIP-1071): ' +
          'lag is exact from its committed offsets, but its members are not read.'
        );
      }
      return (
        'This group uses the consumer protocol (KIP-848). Lag is exact, but its members could not be read: ' +
        "that takes ConsumerGroupDescribe (Kafka 3.8+) with the cluster's flexibleRequests on. " +
        'kafka-consumer-groups --describe --members shows them.'
      );
    case 'idle-members':
      return (
        `${f.idle} of ${f.members} members have no partitions (${f.partitions} assigned in all): ` +
        'a group uses at most one consumer per partition, extra consumers sit idle. To consume faster, add partitions first.'
      );
    case 'under-scaled':
      return `${f.members} consumer${f.members === 1 ? '' : 's'} for ${f.partitions} partitions: scaling to ${f.partitions} consumers gives each partition its own.`;
    case 'unowned-partitions':
      return (
        `${f.partitions.length} partition${f.partitions.length === 1 ? ' has' : 's have'} committed offsets but no owner: ` +
        `${tps(f.partitions, s)}. The group no longer consumes them (unsubscribed topic?).`
      );
    case 'topic-deleted':
      return (
        `Topic ${listSome(f.topics.map(s.name))} no longer exists but the group still has committed offsets on it; ` +
        'its lag is unknown. Remove them with kafka-consumer-groups --delete-offsets.'
      );
    case 'retention-loss':
      return (
        `Retention deleted ${formatCount(f.lost)} messages this group never read on ${tps(f.partitions, s)}: ` +
        'the committed offset is below the log start, so lag counts only what is left. ' +
        'On restart the consumer resets per auto.offset.reset.'
      );
    case 'no-committed-offset':
      return f.share
        ? `No start offset yet on ${tps(f.partitions, s)}: the share group has not read them, so their lag is unknown.`
        : `No committed offset yet on ${tps(f.partitions, s)}: lag unknown until the owner commits.`;
    case 'share-lag-not-reported':
      return `The broker does not count share-group lag for ${tps(f.partitions, s)}: that needs Kafka 4.2 or later; the start offsets are exact.`;
    case 'log-end-unknown':
      return (
        `The log end of ${tps(f.partitions, s)} cannot be read right now (its leader is down or moving): ` +
        `lag there is unknown, so the total of ${formatCount(f.knownLag)} counts only the other partitions. ` +
        'lagbot neither opens nor resolves incidents on such a read.'
      );
  }
}
