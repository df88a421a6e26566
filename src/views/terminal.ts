import type { Finding } from '../core/findings.js';
import type { ClusterGroups } from '../core/lag-query.js';
import type { GroupLag, GroupListing } from '../core/protocol.js';
import { isNamed } from './text-style.js';
import { findingText } from './finding-text.js';
import { formatCount, formatUtc } from './format.js';
import {
  LISTING_COLUMNS,
  MEMBER_COLUMNS,
  PARTITION_COLUMNS,
  listingRow,
  memberRow,
  partitionRow,
  renderTable,
  sortedMembers,
} from './table.js';

/** " (cluster prod-eu)" for a named cluster. */
const inCluster = (cluster: string): string => (isNamed(cluster) ? ` (cluster ${cluster})` : '');

function stateLine(lag: GroupLag): string {
  const members = lag.membersVisible ? String(lag.members.length) : 'not visible (KIP-848)';
  const strategy = lag.assignmentStrategy ? `, strategy ${lag.assignmentStrategy}` : '';
  return `state ${lag.state}, protocol ${lag.protocol}${strategy}, members ${members}`;
}

/** `lagbot lag GROUP`: the summary a person would otherwise get from two runs of Kafka's tool. */
export function groupText(lag: GroupLag, findings: readonly Finding[]): string {
  const lines = [
    `GROUP ${lag.group}${inCluster(lag.cluster)}: total lag ${formatCount(lag.totalLag)} over ${lag.partitions.length} partitions`,
    stateLine(lag),
    '',
  ];
  if (lag.partitions.length > 0) lines.push(...renderTable(PARTITION_COLUMNS, lag.partitions.map(partitionRow)), '');
  if (lag.members.length > 0) lines.push(...renderTable(MEMBER_COLUMNS, sortedMembers(lag).map(memberRow)), '');
  for (const finding of findings) lines.push(`* ${findingText(finding)}`);
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
  if (!lag.membersVisible) lines.push('Members of consumer-protocol (KIP-848) groups are not visible to lagbot yet.');
  else if (lag.members.length === 0) lines.push('No active members.');
  else lines.push(...renderTable(MEMBER_COLUMNS, sortedMembers(lag).map(memberRow)));
  return lines.join('\n');
}
