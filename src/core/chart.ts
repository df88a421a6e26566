import { ratesOf, type GroupSample } from './history.js';
import type { GroupRef, Incident, IncidentFigures, Severity } from './protocol.js';
import type { Thresholds } from './rules.js';

/**
 * The data of a lag chart, as plain JSON: what the views draw, what the outbox keeps. No
 * pixels here; src/views/chart renders it.
 */

/** One moment of a group: its lag, how stale it was, and the rates around it. */
export interface LagPoint {
  at: number;
  /** null: not known at that check (a broker down). */
  lag: number | null;
  lagSeconds?: number | null;
  producePerSec: number | null;
  consumePerSec: number | null;
}

/** A horizontal line: where a severity begins. */
export interface ChartThreshold {
  severity: Severity;
  lag: number;
}

export type ChartMarkKind = 'opened' | 'escalated' | 'acknowledged' | 'resolved';

/** A moment of the incident drawn on the chart, with who did it (null: lagbot). */
export interface ChartMark {
  kind: ChartMarkKind;
  at: number;
  severity: Severity | null;
  by: string | null;
}

export interface LagChart extends GroupRef {
  /** What the chart covers (ms since epoch). */
  from: number;
  to: number;
  points: LagPoint[];
  thresholds: ChartThreshold[];
  marks: ChartMark[];
}

/**
 * An incident keeps at most this many points of its own series: one a minute for six hours,
 * then coarser (see appendPoint), so a week-long incident is still a few KB of JSON.
 */
export const SERIES_CAP = 360;
/** Marks beyond this (a flapping incident) keep the first and the newest. */
export const MARKS_CAP = 40;
/** How far back before its opening an incident's series starts: the build-up is the story of the first chart. */
export const LEAD_IN_MS = 15 * 60_000;
/** An escalation posts a chart only if the incident's last chart is at least this old. */
export const CHART_EVERY_MS = 10 * 60_000;

export const pointOf = (figures: IncidentFigures): LagPoint => ({
  at: figures.at,
  lag: figures.totalLag,
  ...(figures.lagSeconds !== undefined ? { lagSeconds: figures.lagSeconds } : {}),
  producePerSec: figures.producePerSec,
  consumePerSec: figures.consumePerSec,
});

const lagOf = (p: LagPoint): number => p.lag ?? -1;

/**
 * Appends a point; past `cap`, neighbours are merged in pairs, keeping the one with more lag
 * so the peak survives any amount of downsampling. The first point (where the chart starts)
 * and the newest are never merged away.
 */
export function appendPoint(series: readonly LagPoint[], point: LagPoint, cap = SERIES_CAP): LagPoint[] {
  const next = [...series, point];
  if (next.length <= cap) return next;
  const older = next.slice(1, -1);
  const merged: LagPoint[] = [next[0] as LagPoint];
  for (let i = 0; i < older.length; i += 2) {
    const a = older[i] as LagPoint;
    const b = older[i + 1];
    merged.push(b === undefined || lagOf(a) >= lagOf(b) ? a : b);
  }
  return [...merged, point];
}

export function appendMark(marks: readonly ChartMark[], mark: ChartMark, cap = MARKS_CAP): ChartMark[] {
  const next = [...marks, mark];
  return next.length <= cap ? next : [next[0] as ChartMark, ...next.slice(next.length - cap + 1)];
}

/** The points of the build-up to an incident opening at `openedAt`, within LEAD_IN_MS, at most a tenth of the cap. */
export function leadInOf(points: readonly LagPoint[], openedAt: number): LagPoint[] {
  const before = points.filter((p) => p.at < openedAt && p.at >= openedAt - LEAD_IN_MS);
  return before.slice(-Math.floor(SERIES_CAP / 10));
}

export function chartThresholds(thresholds: Thresholds): ChartThreshold[] {
  return [
    { severity: 'warning', lag: thresholds.warning.lag },
    { severity: 'critical', lag: thresholds.critical.lag },
    { severity: 'page', lag: thresholds.page.lag },
  ];
}

/** The whole incident so far, from the series it keeps (incidents stored before it have their figures alone). */
export function incidentChart(incident: Incident, thresholds: readonly ChartThreshold[]): LagChart {
  const points = incident.series && incident.series.length > 0 ? incident.series : [pointOf(incident.figures)];
  const marks = incident.marks ?? [{ kind: 'opened', at: incident.openedAt, severity: null, by: null }];
  const first = points[0] as LagPoint;
  const last = points[points.length - 1] as LagPoint;
  return {
    cluster: incident.cluster,
    group: incident.group,
    from: Math.min(first.at, incident.openedAt),
    to: Math.max(last.at, incident.resolved?.at ?? 0),
    points: [...points],
    thresholds: [...thresholds],
    marks: [...marks],
  };
}

/**
 * The monitor's history of a group as chart points: rates between each sample and the one
 * before it, none across a gap (nothing was seen there). null when there is no history.
 */
export function historyChart(ref: GroupRef, history: readonly GroupSample[], thresholds: readonly ChartThreshold[]): LagChart | null {
  const first = history[0];
  const last = history[history.length - 1];
  if (!first || !last) return null;
  const points = history.map((sample, i): LagPoint => {
    const previous = history[i - 1];
    const rates = previous && !sample.afterGap ? ratesOf([previous, sample], sample.at - previous.at) : null;
    return { at: sample.at, lag: sample.totalLag, producePerSec: rates?.producePerSec ?? null, consumePerSec: rates?.consumePerSec ?? null };
  });
  return { cluster: ref.cluster, group: ref.group, from: first.at, to: last.at, points, thresholds: [...thresholds], marks: [] };
}

const SPARKS = '▁▂▃▄▅▆▇█';

/**
 * The lag of a series as text, one character per bucket (the newest on the right), scaled
 * from 0 to the series' own peak; unknown buckets are spaces. '' for fewer than two points.
 */
export function sparkline(points: readonly LagPoint[], width = 30): string {
  if (points.length < 2) return '';
  const buckets = Math.min(width, points.length);
  const peak = Math.max(0, ...points.map(lagOf));
  let line = '';
  for (let b = 0; b < buckets; b += 1) {
    const slice = points.slice(Math.floor((b * points.length) / buckets), Math.floor(((b + 1) * points.length) / buckets));
    const lag = Math.max(-1, ...slice.map(lagOf));
    if (lag < 0) line += ' ';
    else line += SPARKS[peak === 0 ? 0 : Math.min(SPARKS.length - 1, Math.floor((lag / peak) * (SPARKS.length - 1) + 0.5))];
  }
  return line;
}
