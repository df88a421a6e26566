import type { LagChart } from '../core/chart.js';
import type { SlackFile } from '../core/protocol.js';

/**
 * A chart as a file for Slack: its name and title. Group ids may hold any character, so the
 * filename keeps only the safe ones; the title is plain text in Slack, shown as written.
 */

const safe = (name: string): string => name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'group';

/** `lag-orders-20261202-0314.png`, in UTC like the chart itself. */
export function chartFilename(chart: LagChart): string {
  const stamp = new Date(chart.to).toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
  return `lag-${safe(chart.group)}-${stamp}.png`;
}

export function chartFile(chart: LagChart, title: string): SlackFile {
  return { kind: 'chart', filename: chartFilename(chart), title, chart };
}
