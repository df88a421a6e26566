import { writeFile } from 'node:fs/promises';
import { historyChart, type ChartThreshold, type LagChart } from '../core/chart.js';
import type { GroupRef } from '../core/protocol.js';
import type { StoredHistories } from './stored-history.js';

/**
 * `lagbot lag GROUP --chart out.png`. The CLI runs no monitor, so the chart is the history the
 * running lagbot keeps in its SQLite store (`store.path`).
 */

export type ChartOutcome = { ok: true; chart: LagChart } | { ok: false; reason: string };

/** The chart of a group's stored samples; a reason instead when there are fewer than two. */
export function storedChart(histories: StoredHistories, storePath: string, ref: GroupRef, thresholds: readonly ChartThreshold[]): ChartOutcome {
  if (!histories.found) {
    return { ok: false, reason: `no lag history: the store ${storePath} does not exist (set store.path to the file a running \`lagbot start\` uses; it keeps the last hour of every watched group)` };
  }
  const history = histories.of(ref);
  const chart = historyChart(ref, history, thresholds);
  if (!chart || chart.points.length < 2) {
    return { ok: false, reason: `no lag history of ${ref.group} in ${storePath} yet: a running lagbot stores a sample of each watched group at every check (${history.length} so far)` };
  }
  return { ok: true, chart };
}

/** Drawn in this process: the CLI is short-lived, and only `--chart` loads the chart libraries. */
export async function writeChart(path: string, chart: LagChart): Promise<void> {
  const { renderChartPng } = await import('../charts/render.js');
  await writeFile(path, await renderChartPng(chart));
}
