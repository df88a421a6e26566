import { existsSync } from 'node:fs';
import { sampleFrom, type GroupSample } from '../core/history.js';
import type { GroupRef } from '../core/protocol.js';
import { openSqliteStore } from '../store/sqlite-store.js';

/**
 * The history a running lagbot keeps in its SQLite store (`store.path`), for the CLI, which
 * runs no monitor: rates, slow-consumer findings, lag in seconds and charts come from it.
 */
export interface StoredHistories {
  /** false: no store at that path (no lagbot has run with this config here). */
  readonly found: boolean;
  /** A group's samples since the time given, oldest first; [] when the store has none. */
  of(ref: GroupRef): readonly GroupSample[];
}

/** Reads lazily, one cluster at a time, and each cluster once: `lagbot lag` of every group reads the store once. */
export function storedHistories(storePath: string, since: number): StoredHistories {
  if (storePath === ':memory:' || !existsSync(storePath)) return { found: false, of: () => [] };
  const byCluster = new Map<string, Map<string, GroupSample[]>>();
  const load = (cluster: string): Map<string, GroupSample[]> => {
    const groups = new Map<string, GroupSample[]>();
    const store = openSqliteStore(storePath);
    // The store reads them by group, then time: each sample builds on the one before.
    try {
      for (const { group, record } of store.loadSamples(cluster, since)) {
        const samples = groups.get(group) ?? [];
        samples.push(sampleFrom(record, samples.at(-1)));
        groups.set(group, samples);
      }
    } finally {
      store.close();
    }
    return groups;
  };
  return {
    found: true,
    of(ref) {
      let groups = byCluster.get(ref.cluster);
      if (!groups) byCluster.set(ref.cluster, (groups = load(ref.cluster)));
      return groups.get(ref.group) ?? [];
    },
  };
}
