import type { ChartThreshold } from './chart.js';
import type { GroupView, LagRequest } from './command.js';
import { findingsOf, type Finding, type FindingSettings } from './findings.js';
import { listingOf, sortListings } from './lag.js';
import { LagUnavailableError, type Clock, type LagSource } from './ports.js';
import type { GroupSample } from './history.js';
import type { GroupLag, GroupListing, GroupRef } from './protocol.js';
import { closestNames } from './suggest.js';

/**
 * The one lag query behind `/lag` and `lagbot lag`: a request in, an answer out, over
 * every cluster lagbot knows. Each surface only renders the answer (Block Kit, a table,
 * JSON) and picks its exit code.
 */

/** A cluster that could not be read for this answer, and why. */
export interface ClusterProblem {
  cluster: string;
  detail: string;
}

export interface ClusterGroups {
  cluster: string;
  /** In full, for `--json`. */
  groups: GroupLag[];
  /** Their headline numbers, largest lag first. */
  listings: GroupListing[];
}

export interface FoundGroup {
  lag: GroupLag;
  findings: Finding[];
  /** The monitor's samples of the group, oldest first, where a monitor runs (for its chart and sparkline). */
  history?: readonly GroupSample[];
}

export type LagAnswer =
  | { kind: 'help' }
  /** Clusters in the configured order; `unavailable` ones are left out of `clusters`. */
  | { kind: 'list'; clusters: ClusterGroups[]; unavailable: ClusterProblem[]; readAt: number }
  /** The group in each cluster that has it (at least one), in the configured order. */
  | { kind: 'group'; found: FoundGroup[]; view: GroupView; unavailable: ClusterProblem[] }
  | { kind: 'unknown-group'; group: string; suggestions: string[]; searched: string[]; unavailable: ClusterProblem[] }
  | { kind: 'unknown-cluster'; cluster: string; known: string[] }
  /** Not one of the clusters asked could be read. */
  | { kind: 'unavailable'; problems: ClusterProblem[] };

export interface LagQueryDeps {
  /** One per cluster, in the configured order. */
  sources: readonly LagSource[];
  clock: Clock;
  findingSettings: FindingSettings;
  /**
   * The history the monitor keeps of a group (oldest first), for findings, rates and staleness
   * beyond a one-off read; empty where no monitor runs (the CLI without a store).
   */
  history?: (ref: GroupRef) => readonly GroupSample[];
  /** The group's threshold lines, drawn on its chart. */
  chartThresholds?: (ref: GroupRef) => readonly ChartThreshold[];
  /**
   * Once one cluster has answered, how much longer the others get before the answer goes
   * out without them; each cluster's own read deadline bounds it too.
   */
  graceMs?: number;
}

const DEFAULT_GRACE_MS = 2_000;

type Read<T> = { cluster: string; ok: true; value: T } | { cluster: string; ok: false; detail: string };

/**
 * The same read on every source in parallel. A dead cluster fails on its own; a slow one
 * is left behind `graceMs` after the first answer, so it never holds up the others.
 */
async function readEach<T>(sources: readonly LagSource[], read: (s: LagSource) => Promise<T>, graceMs: number): Promise<Array<Read<T>>> {
  const results: Array<Read<T> | undefined> = sources.map(() => undefined);
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  let leaveBehind: () => void = () => undefined;
  const leftBehind = new Promise<void>((resolve) => (leaveBehind = resolve));
  const reads = sources.map(async (source, i) => {
    try {
      const value = await read(source);
      results[i] = { cluster: source.cluster, ok: true, value };
      graceTimer ??= setTimeout(leaveBehind, graceMs);
    } catch (error) {
      // Even a surprise is this cluster's alone: the others' answers still go out.
      const detail = error instanceof LagUnavailableError ? error.message : `unexpected error reading cluster ${source.cluster}: ${error instanceof Error ? error.message : String(error)}`;
      results[i] = { cluster: source.cluster, ok: false, detail };
    }
  });
  try {
    await Promise.race([Promise.all(reads), leftBehind]);
  } finally {
    clearTimeout(graceTimer);
  }
  return results.map(
    (r, i) => r ?? { cluster: (sources[i] as LagSource).cluster, ok: false, detail: `no answer within ${graceMs / 1000} s of the other clusters; left out of this answer` },
  );
}

const problemsOf = <T>(reads: ReadonlyArray<Read<T>>): ClusterProblem[] =>
  reads.flatMap((r) => (r.ok ? [] : [{ cluster: r.cluster, detail: r.detail }]));

/** Read what the request asks for. A cluster that cannot be read is part of the answer, not an exception. */
export async function answerLag(request: LagRequest, deps: LagQueryDeps): Promise<LagAnswer> {
  if (request.kind === 'help') return { kind: 'help' };
  const graceMs = deps.graceMs ?? DEFAULT_GRACE_MS;
  let sources = deps.sources;
  if (request.cluster !== undefined) {
    sources = deps.sources.filter((s) => s.cluster === request.cluster);
    if (sources.length === 0) return { kind: 'unknown-cluster', cluster: request.cluster, known: deps.sources.map((s) => s.cluster) };
  }

  if (request.kind === 'list') {
    const reads = await readEach(sources, (s) => s.readAllGroups(), graceMs);
    const unavailable = problemsOf(reads);
    if (unavailable.length === reads.length) return { kind: 'unavailable', problems: unavailable };
    const clusters = reads.flatMap((r) => (r.ok ? [{ cluster: r.cluster, groups: r.value, listings: sortListings(r.value.map(listingOf)) }] : []));
    return { kind: 'list', clusters, unavailable, readAt: deps.clock.now() };
  }

  const reads = await readEach(sources, (s) => s.readGroup(request.group), graceMs);
  const unavailable = problemsOf(reads);
  const found = reads.flatMap((r): FoundGroup[] => {
    if (!r.ok || !r.value) return [];
    const history = deps.history?.(r.value);
    const findings = findingsOf({ lag: r.value, history: history ?? [], settings: deps.findingSettings });
    return [{ lag: r.value, findings, ...(history ? { history } : {}) }];
  });
  if (found.length > 0) return { kind: 'group', found, view: request.view, unavailable };
  if (unavailable.length === reads.length) return { kind: 'unavailable', problems: unavailable };

  const searchedSources = sources.filter((s) => !unavailable.some((p) => p.cluster === s.cluster));
  const names = await readEach(searchedSources, (s) => s.listGroupNames(), graceMs);
  const known = [...new Set(names.flatMap((r) => (r.ok ? r.value : [])))];
  return {
    kind: 'unknown-group',
    group: request.group,
    suggestions: closestNames(request.group, known),
    searched: searchedSources.map((s) => s.cluster),
    unavailable,
  };
}
