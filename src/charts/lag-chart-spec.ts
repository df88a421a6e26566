import type { TopLevelSpec } from 'vega-lite';
import type { ChartMark, ChartThreshold, LagChart } from '../core/chart.js';
import type { Severity } from '../core/protocol.js';
import { formatCount } from '../views/format.js';

/**
 * A lag chart as a Vega-Lite spec: lag over time with the threshold lines and the incident's
 * marks on top, produce and consume rates below on the same time axis. Times in UTC, so a
 * chart reads the same wherever it is rendered.
 */

const SEVERITY_COLOR: Record<Severity, string> = { warning: '#d4a000', critical: '#e8590c', page: '#c92a2a' };
const MARK_COLOR: Record<ChartMark['kind'], string> = { opened: '#c92a2a', escalated: '#e8590c', acknowledged: '#1971c2', resolved: '#2f9e44' };
const LAG_COLOR = '#1c7ed6';
const WIDTH = 720;

/**
 * The lines worth drawing: every one the lag reached, and the next one above its peak. A page
 * line at 2,000,000 over an incident that peaked at 90,000 would flatten the lag to the floor.
 */
export function visibleThresholds(chart: LagChart): ChartThreshold[] {
  const peak = Math.max(0, ...chart.points.map((p) => p.lag ?? 0));
  const sorted = [...chart.thresholds].sort((a, b) => a.lag - b.lag);
  const reached = sorted.filter((t) => t.lag <= peak);
  const next = sorted.find((t) => t.lag > peak);
  return next ? [...reached, next] : reached;
}

export function markLabel(mark: ChartMark): string {
  const severity = mark.severity ? ` ${mark.severity.toUpperCase()}` : '';
  const by = mark.by ? ` (${mark.by})` : '';
  return `${mark.kind}${mark.kind === 'acknowledged' || mark.kind === 'resolved' ? '' : severity}${by}`;
}

export function chartTitle(chart: LagChart): string {
  return `Consumer lag · ${chart.group}${chart.cluster === 'default' ? '' : ` on ${chart.cluster}`}`;
}

export function chartSubtitle(chart: LagChart): string {
  const day = new Date(chart.from).toISOString().slice(0, 10);
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  return `${day} ${clock(chart.from)}–${clock(chart.to)} UTC`;
}

export function lagChartSpec(chart: LagChart): TopLevelSpec {
  const lagRows = chart.points.filter((p) => p.lag !== null).map((p) => ({ at: p.at, lag: p.lag }));
  const rateRows = chart.points.flatMap((p) => [
    ...(p.producePerSec === null ? [] : [{ at: p.at, rate: p.producePerSec, series: 'produce' }]),
    ...(p.consumePerSec === null ? [] : [{ at: p.at, rate: p.consumePerSec, series: 'consume' }]),
  ]);
  const lines = visibleThresholds(chart).map((t) => ({ lag: t.lag, label: `${t.severity.toUpperCase()} ${formatCount(t.lag)}`, color: SEVERITY_COLOR[t.severity] }));
  // Labels step down in three rows, so marks a minute apart stay readable.
  const marks = chart.marks.map((m, i) => ({ at: m.at, label: markLabel(m), color: MARK_COLOR[m.kind], y: 4 + 14 * (i % 3) }));
  const x = { field: 'at', type: 'temporal' as const, scale: { type: 'utc' as const, domain: [chart.from, Math.max(chart.to, chart.from + 60_000)] }, title: null };

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: chartTitle(chart), subtitle: chartSubtitle(chart), anchor: 'start', fontSize: 16 },
    background: 'white',
    padding: 12,
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, view: { stroke: null } },
    vconcat: [
      {
        width: WIDTH,
        height: 220,
        layer: [
          {
            data: { values: lagRows },
            mark: { type: 'area', line: { color: LAG_COLOR, strokeWidth: 2 }, color: LAG_COLOR, opacity: 0.15 },
            encoding: { x: { ...x, axis: { format: '%H:%M', labels: false, ticks: false, grid: false } }, y: { field: 'lag', type: 'quantitative', title: 'lag (messages)', axis: { format: '~s' } } },
          },
          ...(lines.length === 0
            ? []
            : [
                {
                  data: { values: lines },
                  layer: [
                    { mark: { type: 'rule' as const, strokeDash: [6, 4], strokeWidth: 1.5 }, encoding: { y: { field: 'lag', type: 'quantitative' as const }, color: { field: 'color', type: 'nominal' as const, scale: null } } },
                    {
                      mark: { type: 'text' as const, align: 'right' as const, baseline: 'bottom' as const, dx: -2, dy: -2, fontSize: 11 },
                      encoding: { y: { field: 'lag', type: 'quantitative' as const }, x: { value: WIDTH }, text: { field: 'label' }, color: { field: 'color', type: 'nominal' as const, scale: null } },
                    },
                  ],
                },
              ]),
          ...(marks.length === 0
            ? []
            : [
                {
                  data: { values: marks },
                  layer: [
                    { mark: { type: 'rule' as const, strokeWidth: 1.5 }, encoding: { x, color: { field: 'color', type: 'nominal' as const, scale: null } } },
                    {
                      mark: { type: 'text' as const, align: 'left' as const, angle: 0, dx: 3, fontSize: 11, baseline: 'top' as const },
                      encoding: { x, y: { field: 'y', type: 'quantitative' as const, scale: null }, text: { field: 'label' }, color: { field: 'color', type: 'nominal' as const, scale: null } },
                    },
                  ],
                },
              ]),
        ],
        resolve: { scale: { y: 'shared' } },
      },
      {
        width: WIDTH,
        height: 110,
        data: { values: rateRows },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: { ...x, axis: { format: '%H:%M', grid: false } },
          y: { field: 'rate', type: 'quantitative', title: 'messages/s', axis: { format: '~s' } },
          color: { field: 'series', type: 'nominal', scale: { domain: ['produce', 'consume'], range: ['#2f9e44', '#7048e8'] }, legend: { orient: 'top', title: null } },
        },
      },
    ],
  };
}
