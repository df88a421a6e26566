import { partitionKey, type PartitionRates } from '../core/history.js';
import { formatCount, formatPerSecValue, formatStaleness } from './format.js';
import type { GroupLag, GroupListing, GroupMember, LagSecondsMethod, PartitionLag, TopicPartitions } from '../core/protocol.js';

/** `*` beside an exact staleness (the record's own timestamp); extrapolated ones read `~` already. */
export const methodMark = (method: LagSecondsMethod | null | undefined): string => (method === 'exact' ? '*' : '');

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
  { header: 'STALENESS', align: 'right' },
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
    formatStaleness(p.lagSeconds, p.lagSecondsMethod) + methodMark(p.lagSecondsMethod),
    p.memberId ?? '-',
    p.host ?? '-',
  ];
}

/** Produce rate (log-end growth) and consume rate (committed offset growth) per second, over the rate window. */
export const RATE_COLUMNS: Column[] = [
  { header: 'IN/S', align: 'right' },
  { header: 'OUT/S', align: 'right' },
];

/** The rate cells of a partition's row, `-` where a rate is not known; null when there are no rates at all (no history). */
export function rateCells(rates: PartitionRates | null | undefined): ((p: Pick<PartitionLag, 'topic' | 'partition'>) => [string, string]) | null {
  if (!rates) return null;
  const index = new Map(rates.keys.map((k, i) => [k, i]));
  return (p) => {
    const i = index.get(partitionKey(p.topic, p.partition));
    return i === undefined ? ['-', '-'] : [formatPerSecValue(rates.producePerSec[i]), formatPerSecValue(rates.consumePerSec[i])];
  };
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

const EPOCH_COLUMN: Column = { header: 'EPOCH', align: 'right' };
const TARGET_COLUMN: Column = { header: 'TARGET-ASSIGNMENT', align: 'left' };

const partitionsOf = (topics: readonly TopicPartitions[]): string[] => topics.flatMap((t) => t.partitions.map((p) => `${t.topic}\u0000${p}`)).sort();
const sameAssignment = (a: readonly TopicPartitions[], b: readonly TopicPartitions[]): boolean => partitionsOf(a).join('\u0001') === partitionsOf(b).join('\u0001');

/** The target cell: `(same)` once the member has reached it, `-` when it is to hold nothing. */
export function targetText(m: GroupMember): string {
  if (m.targetAssignment === undefined) return '-';
  return sameAssignment(m.assignment, m.targetAssignment) ? '(same)' : assignmentText(m.targetAssignment);
}

/**
 * The member table of a group, as `--members --verbose` shows it: the classic columns, plus
 * EPOCH where members have epochs (KIP-848 and share groups) and TARGET-ASSIGNMENT where they
 * have targets (KIP-848), with the target only where it differs from the assignment.
 */
export function memberTable(lag: Pick<GroupLag, 'members'>): { columns: Column[]; rows: string[][] } {
  const epochs = lag.members.some((m) => m.memberEpoch !== undefined);
  const targets = lag.members.some((m) => m.targetAssignment !== undefined);
  const columns = [...MEMBER_COLUMNS.slice(0, 4), ...(epochs ? [EPOCH_COLUMN] : []), MEMBER_COLUMNS[4] as Column, ...(targets ? [TARGET_COLUMN] : [])];
  const rows = sortedMembers(lag).map((m) => {
    const [id, host, client, count, assignment] = memberRow(m) as [string, string, string, string, string];
    const epoch = m.memberEpoch === undefined ? '-' : String(m.memberEpoch);
    return [id, host, client, count, ...(epochs ? [epoch] : []), assignment, ...(targets ? [targetText(m)] : [])];
  });
  return { columns, rows };
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
  { header: 'TYPE', align: 'left' },
];

export function listingRow(l: GroupListing): string[] {
  // A sum missing some partitions is shown as what it is: at least that much.
  return [l.group, l.state, l.members === null ? '?' : String(l.members), String(l.partitions), `${l.totalComplete ? '' : '≥ '}${formatCount(l.totalLag)}`, l.protocol];
}
