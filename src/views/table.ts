import { formatCount } from './format.js';
import type { GroupLag, GroupListing, GroupMember, PartitionLag, TopicPartitions } from '../core/protocol.js';

export interface Column {
  header: string;
  align: 'left' | 'right';
}

/** Fixed-width text table, as kafka-consumer-groups prints it. Returns one string per line. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const width = widths[i] as number;
        return c.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}

export const PARTITION_COLUMNS: Column[] = [
  { header: 'TOPIC', align: 'left' },
  { header: 'PARTITION', align: 'right' },
  { header: 'CURRENT-OFFSET', align: 'right' },
  { header: 'LOG-END-OFFSET', align: 'right' },
  { header: 'LAG', align: 'right' },
  { header: 'CONSUMER-ID', align: 'left' },
  { header: 'HOST', align: 'left' },
];

export function partitionRow(p: PartitionLag): string[] {
  const flag = p.flags.includes('offset-below-log-start') ? '!' : p.flags.includes('topic-deleted') || p.flags.includes('log-end-unknown') ? '?' : '';
  return [
    p.topic,
    String(p.partition),
    formatCount(p.committedOffset),
    formatCount(p.logEndOffset),
    formatCount(p.lag) + flag,
    p.memberId ?? '-',
    p.host ?? '-',
  ];
}

export const MEMBER_COLUMNS: Column[] = [
  { header: 'CONSUMER-ID', align: 'left' },
  { header: 'HOST', align: 'left' },
  { header: 'CLIENT-ID', align: 'left' },
  { header: '#PARTITIONS', align: 'right' },
  { header: 'ASSIGNMENT', align: 'left' },
];

/** `user-events(0,1),audit(2)` as --members --verbose prints it; `-` for none. */
export function assignmentText(assignment: readonly TopicPartitions[]): string {
  const parts = assignment.filter((t) => t.partitions.length > 0);
  if (parts.length === 0) return '-';
  return parts.map((t) => `${t.topic}(${[...t.partitions].sort((a, b) => a - b).join(',')})`).join(',');
}

export function memberPartitionCount(member: GroupMember): number {
  return member.assignment.reduce((n, t) => n + t.partitions.length, 0);
}

export function memberRow(m: GroupMember): string[] {
  return [m.memberId, m.host, m.clientId, String(memberPartitionCount(m)), assignmentText(m.assignment)];
}

/** Members sorted the way a person scans them: most partitions first, then by id. */
export function sortedMembers(lag: Pick<GroupLag, 'members'>): GroupMember[] {
  return [...lag.members].sort(
    (a, b) => memberPartitionCount(b) - memberPartitionCount(a) || (a.memberId < b.memberId ? -1 : 1),
  );
}

export const LISTING_COLUMNS: Column[] = [
  { header: 'GROUP', align: 'left' },
  { header: 'STATE', align: 'left' },
  { header: 'MEMBERS', align: 'right' },
  { header: 'PARTITIONS', align: 'right' },
  { header: 'TOTAL-LAG', align: 'right' },
];

export function listingRow(l: GroupListing): string[] {
  const state = l.protocol === 'consumer' ? `${l.state} (KIP-848)` : l.state;
  // A sum missing some partitions is shown as what it is: at least that much.
  return [l.group, state, l.members === null ? '?' : String(l.members), String(l.partitions), `${l.totalComplete ? '' : '≥ '}${formatCount(l.totalLag)}`];
}
