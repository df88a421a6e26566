import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { renderChartPng } from '../charts/render.js';
import { historyChart, type ChartThreshold, type LagChart } from '../core/chart.js';
import { sampleFrom, type GroupSample } from '../core/history.js';
import type { GroupRef } from '../core/protocol.js';
import { openSqliteStore } from '../store/sqlite-store.js';

/**
 * `lagbot lag GROUP --chart out.png`. The CLI runs no monitor, so the chart is the history the
 * running lagbot keeps in its SQLite store (`store.path`), read without writing anything.
 */

export type ChartOutcome = { ok: true; chart: LagChart } | { ok: false; reason: string };

/** The group's stored samples since `since`, oldest first; a reason instead when there are none. */
export function storedChart(storePath: string, ref: GroupRef, since: number, thresholds: readonly ChartThreshold[]): ChartOutcome {
  if (storePath === ':memory:' || !existsSync(storePath)) {
    return { ok: false, reason: `no lag history: the store ${storePath} does not exist (set store.path to the file a running \`lagbot start\` uses; it keeps the last hour of every watched group)` };
  }
  const store = openSqliteStore(storePath);
  let history: GroupSample[] = [];
  try {
    for (const { group, record } of store.loadSamples(ref.cluster, since)) {
      if (group === ref.group) history.push(sampleFrom(record, history.at(-1)));
    }
  } finally {
    store.close();
  }
  history = history.sort((a, b) => a.at - b.at);
  const chart = historyChart(ref, history, thresholds);
  if (!chart || chart.points.length < 2) {
    return { ok: false, reason: `no lag history of ${ref.group} in ${storePath} yet: a running lagbot stores a sample of each watched group at every check (${history.length} so far)` };
  }
  return { ok: true, chart };
}

export async function writeChart(path: string, chart: LagChart): Promise<void> {
  await writeFile(path, await renderChartPng(chart));
}
