import type { GroupLag } from '../../src/core/protocol.js';
import { groupJson } from '../../src/views/json.js';
import { parseDescribeOffsets } from '../../tools/kafka-testbed/tools.js';

/**
 * lagbot's partition rows and `kafka-consumer-groups --describe`'s, in one shape, so a test
 * compares them with one toEqual: the number every lag test stands on.
 */
export type DescribedRow = Omit<ReturnType<typeof groupJson>['partitions'][number], 'logStartOffset' | 'lagSeconds' | 'lagSecondsMethod' | 'lagSecondsSkipped'>;

export const byPartition = (a: { topic: string; partition: number }, b: { topic: string; partition: number }): number =>
  a.topic.localeCompare(b.topic) || a.partition - b.partition;

/** Kafka's tool prints hosts as `/10.0.1.14`. */
export const stripSlash = (host: string | null): string | null => (host === null ? null : host.replace(/^\//, ''));

/** lagbot's rows of one group, sorted by topic and partition. */
export function ourRows(lag: GroupLag): DescribedRow[] {
  return groupJson(lag)
    .partitions.map(({ logStartOffset: _start, lagSeconds: _seconds, lagSecondsMethod: _method, lagSecondsSkipped: _skipped, ...row }) => row)
    .sort(byPartition);
}

/** The tool's `--describe` output as rows by group, each sorted by topic and partition. */
export function theirRowsByGroup(describeOutput: string): Map<string, DescribedRow[]> {
  const byGroup = new Map<string, DescribedRow[]>();
  for (const r of parseDescribeOffsets(describeOutput)) {
    const rows = byGroup.get(r.group) ?? [];
    rows.push({
      topic: r.topic,
      partition: r.partition,
      committedOffset: r.currentOffset,
      logEndOffset: r.logEndOffset,
      lag: r.lag,
      memberId: r.consumerId,
      host: stripSlash(r.host),
      clientId: r.clientId,
    });
    byGroup.set(r.group, rows);
  }
  for (const rows of byGroup.values()) rows.sort(byPartition);
  return byGroup;
}
