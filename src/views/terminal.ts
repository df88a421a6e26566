import type { Finding } from '../core/findings.js';
import type { ClusterGroups } from '../core/lag-query.js';
import type { GroupLag, GroupListing } from '../core/protocol.js';
import type { SkippedRange } from '../core/record-time.js';
import { isNamed } from './text-style.js';
import { findingText } from './finding-text.js';
import { formatCount, formatStaleness, formatUtc } from './format.js';
import { SHARE_GROUP_NOTE, epochsText, isLaglessShare, memberCountText, membersUnreadText, serverAssigned, typeText } from './group-type.js';
import type { PartitionRates } from '../core/history.js';
import { LISTING_COLUMNS, PARTITION_COLUMNS, RATE_COLUMNS, listingRow, memberTable, partitionRow, rateCells, renderTable } from './table.js';

/** " (cluster prod-eu)" for a named cluster. */
const inCluster = (cluster: string): string => (isNamed(cluster) ? ` (cluster ${cluster})` : '');

/** `state Stable, protocol classic, strategy range, members 3`; KIP-848 and share groups name their assignor and epochs. */
function stateLine(lag: GroupLag): string {
  const strategy = lag.assignmentStrategy ? `, ${serverAssigned(lag) ? 'assignor' : 'strategy'} ${lag.assignmentStrategy}` : '';
  const epochs = epochsText(lag);
  return `state ${lag.state}, protocol ${typeText(lag.protocol)}${strategy}${epochs === null ? '' : `, ${epochs}`}, members ${memberCountText(lag)}`;
}

function membersTable(lag: GroupLag): string[] {
  const { columns, rows } = memberTable(lag);
  return renderTable(columns, rows);
}

const SKIPPED_TEXT: Record<SkippedRange, string> = {
  compacted: 'offsets removed by compaction',
  'transaction-markers': 'transaction markers',
  aborted: 'records of aborted transactions',
};

/** `, staleness 45s (exact)`: the stalest partition's, and how it was found. */
function stalenessText(lag: GroupLag): string {
  if (lag.lagSeconds === null || lag.lagSeconds === undefined) return '';
  return `, staleness ${formatStaleness(lag.lagSeconds, lag.lagSecondsMethod)} (${lag.lagSecondsMethod ?? 'estimated'})`;
}

/** Kafka's partition table, with IN/S and OUT/S after LAG and STALENESS where the history gives rates. */
function partitionLines(lag: GroupLag, rates: PartitionRates | null | undefined): string[] {
  const cells = rateCells(rates);
  if (!cells) return renderTable(PARTITION_COLUMNS, lag.partitions.map(partitionRow));
  const columns = [...PARTITION_COLUMNS.slice(0, 6), ...RATE_COLUMNS, ...PARTITION_COLUMNS.slice(6)];
  const rows = lag.partitions.map((p) => {
    const row = partitionRow(p);
    return [...row.slice(0, 6), ...cells(p), ...row.slice(6)];
  });
  return renderTable(columns, rows);
}

/** `lagbot lag GROUP`: the summary a person would otherwise get from two runs of Kafka's tool. */
export function groupText(lag: GroupLag, findings: readonly Finding[], rates?: PartitionRates | null): string {
  const share = isLaglessShare(lag);
  const lines = [
    share
      ? `GROUP ${lag.group}${inCluster(lag.cluster)}: share group, no consumer lag`
      : `GROUP ${lag.group}${inCluster(lag.cluster)}: total lag ${formatCount(lag.totalLag)} over ${lag.partitions.length} partitions${stalenessText(lag)}`,
    stateLine(lag),
    '',
  ];
  if (share) lines.push(SHARE_GROUP_NOTE, '');
  if (lag.partitions.length > 0) lines.push(...partitionLines(lag, rates), '');
  if (lag.members.length > 0) lines.push(...membersTable(lag), '');
  for (const finding of findings) lines.push(`* ${findingText(finding)}`);
  for (const p of lag.partitions) if (p.lagSecondsSkipped) lines.push(`${p.topic}-${p.partition}: the next record to consume lies past ${SKIPPED_TEXT[p.lagSecondsSkipped]}; its age is the staleness`);
  if (lag.partitions.some((p) => p.lagSeconds !== null && p.lagSeconds !== undefined)) lines.push('staleness: * exact (the record at the committed offset), ~ extrapolated beyond lagbot\'s history, else estimated from it');
  lines.push(`log-end offsets are last stable offsets (read_committed); read ${formatUtc(lag.readAt)}`);
  return lines.join('\n');
}

export function listText(listings: readonly GroupListing[]): string {
  if (listings.length === 0) return 'No consumer groups.';
  return renderTable(LISTING_COLUMNS, listings.map(listingRow)).join('\n');
}

/** `lagbot lag`: one table, or one per cluster under its name when clusters have names. */
export function clusterListText(clusters: readonly ClusterGroups[]): string {
  if (clusters.length === 1 && clusters[0] && !isNamed(clusters[0].cluster)) return listText(clusters[0].listings);
  return clusters.map((c) => `CLUSTER ${c.cluster}\n${listText(c.listings)}`).join('\n\n');
}

/** `lagbot lag GROUP --members`: the `--members --verbose` view. */
export function membersText(lag: GroupLag): string {
  const lines = [`GROUP ${lag.group}${inCluster(lag.cluster)}: ${stateLine(lag)}`, ''];
  if (isLaglessShare(lag)) lines.push(SHARE_GROUP_NOTE);
  if (!lag.membersVisible) lines.push(membersUnreadText(lag.protocol));
  else if (lag.members.length === 0) lines.push('No active members.');
  else lines.push(...membersTable(lag));
  return lines.join('\n');
}
