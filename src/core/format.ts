/** Number and time formatting shared by the Slack and terminal views. */

const counts = new Intl.NumberFormat('en-US');

/** `4,442,768`, or `-` for unknown, as kafka-consumer-groups prints unknown values. */
export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : counts.format(value);
}

/** `4.4M`, `512K`: for headlines where the exact figure is in the table below. */
export function formatCompact(value: number | null): string {
  if (value === null) return 'unknown';
  if (value < 10_000) return counts.format(value);
  if (value < 1_000_000) return `${(value / 1000).toFixed(value < 100_000 ? 1 : 0)}K`;
  return `${(value / 1_000_000).toFixed(value < 10_000_000 ? 2 : 1)}M`;
}

export function formatPercent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** `2026-11-27 03:14:05 UTC`: on-call people compare times across tools, so always UTC. */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}
