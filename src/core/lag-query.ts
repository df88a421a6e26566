import type { ChartThreshold } from './chart.js';
import type { GroupView, LagRequest } from './command.js';
import { findingsOf, type Finding, type FindingSettings } from './findings.js';
import { listingOf, sortListings } from './lag.js';
import { LagUnavailableError, type Clock, type LagSource } from './ports.js';
import { partitionRates, type GroupSample, type PartitionRates } from './history.js';
import type { GroupLag, GroupListing, GroupRef } from './protocol.js';
import { DEFAULT_STALENESS, estimateStaleness, type StalenessSettings } from './staleness.js';
import { NO_BROKER_TIMES, anchorAsks, askBrokerTimes, exactAsks, timesLookup, type BrokerTimes } from './broker-times.js';
import type { RecordTimeSource } from './record-time.js';
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
  /** Produce and consume rate per partition over the rate window; null (or absent) without history. */
  rates?: PartitionRates | null;
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
  /** How staleness is estimated; the defaults where absent. */
  staleness?: StalenessSettings;
  /** Each cluster's record timestamps, for the exact staleness of a group's largest lags; estimates only without. */
  recordTimes?: readonly RecordTimeSource[];
  /** How long a group answer waits for the broker's timestamps before it goes out with estimates. */
  recordTimesDeadlineMs?: number;
  /** Told when the broker's timestamps could not be read (the answer still goes out). */
  onRecordTimesError?: (cluster: string, error: unknown) => void;
  /** The group's threshold lines, drawn on its chart. */
  chartThresholds?: (ref: GroupRef) => readonly ChartThreshold[];
  /**
   * Once one cluster has answered, how much longer the others get before the answer goes
   * out without them; each cluster's own read deadline bounds it too.
   */
  graceMs?: number;
  /**
   * The groups the asker may read (the access rules); every group when absent. A listing and
   * the closest names of a missing group hold only these, so neither tells of the others.
   */
  visible?: (ref: GroupRef) => boolean;
}

const DEFAULT_GRACE_MS = 2_000;
/** Exact figures for this many of a group's largest lags per answer. */
const EXACT_PER_ANSWER = 20;
const DEFAULT_RECORD_TIMES_DEADLINE_MS = 1_500;

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

function foundGroup(lag: GroupLag, deps: LagQueryDeps): FoundGroup {
  const history = deps.history?.(lag);
  const samples = history ?? [];
  return {
    lag,
    findings: findingsOf({ lag, history: samples, settings: deps.findingSettings }),
    rates: partitionRates(samples, deps.findingSettings.rateWindowMs),
    ...(history ? { history } : {}),
  };
}

/** Read what the request asks for. A cluster that cannot be read is part of the answer, not an exception. */
export async function answerLag(request: LagRequest, deps: LagQueryDeps): Promise<LagAnswer> {
  if (request.kind === 'help') return { kind: 'help' };
  const graceMs = deps.graceMs ?? DEFAULT_GRACE_MS;
  let sources = deps.sources;
  if (request.cluster !== undefined) {
    sources = deps.sources.filter((s) => s.cluster === request.cluster);
    if (sources.length === 0) return { kind: 'unknown-cluster', cluster: request.cluster, known: deps.sources.map((s) => s.cluster) };
  }

  const historyOf = (lag: GroupLag): readonly GroupSample[] => deps.history?.(lag) ?? [];
  const settings = deps.staleness ?? DEFAULT_STALENESS;
  const withStaleness = (lag: GroupLag, times: BrokerTimes = NO_BROKER_TIMES): GroupLag => {
    estimateStaleness(lag, historyOf(lag), settings, timesLookup(times));
    return lag;
  };
  /** The broker's timestamps for one group's answer: exact for its largest lags, anchors beyond the history. */
  const brokerTimesOf = async (lag: GroupLag): Promise<BrokerTimes> => {
    const source = deps.recordTimes?.find((s) => s.cluster === lag.cluster);
    if (!source) return NO_BROKER_TIMES;
    const asks = { exact: exactAsks(lag, EXACT_PER_ANSWER), anchors: anchorAsks(lag, historyOf(lag), settings) };
    return askBrokerTimes(source, asks, deps.recordTimesDeadlineMs ?? DEFAULT_RECORD_TIMES_DEADLINE_MS, (error) => deps.onRecordTimesError?.(lag.cluster, error));
  };

  const visible = deps.visible ?? (() => true);
  if (request.kind === 'list') {
    const reads = (await readEach(sources, (s) => s.readAllGroups(), graceMs)).map((r) => (r.ok ? { ...r, value: r.value.filter(visible).map((lag) => withStaleness(lag)) } : r));
    const unavailable = problemsOf(reads);
    if (unavailable.length === reads.length) return { kind: 'unavailable', problems: unavailable };
    const clusters = reads.flatMap((r) => (r.ok ? [{ cluster: r.cluster, groups: r.value, listings: sortListings(r.value.map(listingOf)) }] : []));
    return { kind: 'list', clusters, unavailable, readAt: deps.clock.now() };
  }

  const reads = await readEach(sources, (s) => s.readGroup(request.group), graceMs);
  const unavailable = problemsOf(reads);
  const groups = reads.flatMap((r) => (r.ok && r.value && visible(r.value) ? [r.value] : []));
  const times = await Promise.all(groups.map(brokerTimesOf));
  const found = groups.map((lag, i) => foundGroup(withStaleness(lag, times[i]), deps));
  if (found.length > 0) return { kind: 'group', found, view: request.view, unavailable };
  if (unavailable.length === reads.length) return { kind: 'unavailable', problems: unavailable };

  const searchedSources = sources.filter((s) => !unavailable.some((p) => p.cluster === s.cluster));
  const names = await readEach(searchedSources, (s) => s.listGroupNames(), graceMs);
  const known = [...new Set(names.flatMap((r) => (r.ok ? r.value.filter((group) => visible({ cluster: r.cluster, group })) : [])))];
  return {
    kind: 'unknown-group',
    group: request.group,
    suggestions: closestNames(request.group, known),
    searched: searchedSources.map((s) => s.cluster),
    unavailable,
  };
}
