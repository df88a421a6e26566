/**
 * What the App Home tab shows, as plain data: per cluster, its open incidents and the
 * groups that are most stale at the latest check. The view writes the sentences.
 */

import type { Step } from './incident.js';
import type { GroupLag, GroupRef, Incident } from './protocol.js';
import { currentSilences, type Silence, type SilenceTarget } from './silence.js';

/** A group's headline at the latest check: all the Home tab keeps of it between checks. */
export type GroupStanding = Pick<GroupLag, 'cluster' | 'group' | 'totalLag' | 'lagSeconds' | 'lagSecondsMethod'>;

export interface HomeCluster {
  cluster: string;
  /** Oldest first. */
  incidents: Incident[];
  /** The stalest groups, stalest first, at most STALEST_SHOWN. */
  stalest: GroupStanding[];
  /** How many groups the latest check read; null before the first check of this process. */
  groups: number | null;
  /** Silences in force on the cluster's groups (ending soonest first), then those scheduled. */
  silences: Silence[];
}

export interface HomeSummary {
  at: number;
  clusters: HomeCluster[];
}

export const STALEST_SHOWN = 10;

export function standingOf(lag: GroupLag): GroupStanding {
  return { cluster: lag.cluster, group: lag.group, totalLag: lag.totalLag, lagSeconds: lag.lagSeconds ?? null, lagSecondsMethod: lag.lagSecondsMethod ?? null };
}

/** Larger first, unknown (null or absent) after every known value. */
function descending(a: number | null | undefined, b: number | null | undefined): number {
  const known = (v: number | null | undefined): v is number => v !== null && v !== undefined;
  if (known(a) && known(b)) return b - a;
  return known(a) ? -1 : known(b) ? 1 : 0;
}

/**
 * Staleness ranks first; groups whose staleness is not known come after every one whose
 * is, ordered by their lag in messages, so a lagging group is never hidden behind idle ones.
 */
export function byStaleness(a: GroupStanding, b: GroupStanding): number {
  return descending(a.lagSeconds, b.lagSeconds) || descending(a.totalLag, b.totalLag) || (a.group < b.group ? -1 : a.group > b.group ? 1 : 0);
}

/** Whether a silence can cover groups of `cluster`: the whole cluster, or a pattern on it or on every cluster. */
function onCluster(target: SilenceTarget, cluster: string): boolean {
  return target.kind === 'cluster' ? target.cluster === cluster : target.cluster === null || target.cluster === cluster;
}

export function homeOf(
  clusters: readonly string[],
  incidents: readonly Incident[],
  standings: (cluster: string) => readonly GroupStanding[] | null,
  at: number,
  options: {
    /** The groups the viewer may read (the access rules); every group when absent. */
    visible?: (ref: GroupRef) => boolean;
    /** The silences the viewer may read of; past ones are left out here. */
    silences?: readonly Silence[];
  } = {},
): HomeSummary {
  const visible = options.visible ?? (() => true);
  const silences = currentSilences(options.silences ?? [], at);
  return {
    at,
    clusters: clusters.map((cluster) => {
      const all = standings(cluster);
      const groups = all === null ? null : all.filter(visible);
      return {
        cluster,
        incidents: incidents.filter((i) => i.cluster === cluster && i.status === 'open' && visible(i)).sort((a, b) => a.openedAt - b.openedAt || (a.id < b.id ? -1 : 1)),
        stalest: [...(groups ?? [])].sort(byStaleness).slice(0, STALEST_SHOWN),
        groups: groups === null ? null : groups.length,
        silences: silences.filter((s) => onCluster(s.target, cluster)),
      };
    }),
  };
}

/**
 * Whether a step changes what the Home tab shows of its incident: it opened, changed
 * severity, was acknowledged, snoozed or resolved. Figures alone move every check and
 * would republish every Home tab every check.
 */
export function changesHome(step: Step): boolean {
  if (!step.incident) return false;
  if (step.opened) return true;
  return step.timeline.some((e) => e.kind === 'escalated' || e.kind === 'deescalated' || e.kind === 'acknowledged' || e.kind === 'snoozed' || e.kind === 'snooze-ended' || e.kind === 'resolved');
}
