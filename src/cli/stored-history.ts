import { existsSync } from 'node:fs';
import { sampleFrom, type GroupSample } from '../core/history.js';
import type { GroupRef } from '../core/protocol.js';
import type { StoreTarget } from '../config/alerting.js';
import { openStore } from '../store/open.js';

/**
 * The history a running lagbot keeps in its store (`store.path` or `store.url`), for the CLI, which
 * runs no monitor: rates, slow-consumer findings, lag in seconds and charts come from it.
 */
export interface StoredHistories {
  /** false: no store at that path (no lagbot has run with this config here). */
  readonly found: boolean;
  /** A group's samples since the time given, oldest first; [] when the store has none. */
  of(ref: GroupRef): readonly GroupSample[];
}

/** Reads the clusters asked for at once, opening the store once: `lagbot lag` of every group reads it once. */
export async function storedHistories(target: StoreTarget, since: number, clusters: readonly string[]): Promise<StoredHistories> {
  if (target.kind === 'sqlite' && (target.path === ':memory:' || !existsSync(target.path))) return { found: false, of: () => [] };
  const byCluster = new Map<string, Map<string, GroupSample[]>>();
  const store = await openStore(target);
  try {
    for (const cluster of new Set(clusters)) {
      const groups = new Map<string, GroupSample[]>();
      // The store reads them by group, then time: each sample builds on the one before.
      for (const { group, record } of await store.loadSamples(cluster, since)) {
        const samples = groups.get(group) ?? [];
        samples.push(sampleFrom(record, samples.at(-1)));
        groups.set(group, samples);
      }
      byCluster.set(cluster, groups);
    }
  } finally {
    await store.close();
  }
  return {
    found: true,
    of: (ref) => byCluster.get(ref.cluster)?.get(ref.group) ?? [],
  };
}
