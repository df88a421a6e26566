import { describe, expect, it } from 'vitest';
import { CHART_EVERY_MS, SERIES_CAP, appendPoint, chartThresholds, historyChart, incidentChart, leadInOf, sparkline, type LagPoint } from '../../src/core/chart.js';
import { appendSample, sampleOf, type GroupSample } from '../../src/core/history.js';
import { DEFAULT_RULES } from '../../src/core/rules.js';
import { incidentFixture } from '../support/incident-fixture.js';
import { CHECK_MS, Scenario, T0, lagOf, ramp, scriptedLag } from '../support/scripted.js';

const point = (at: number, lag: number | null): LagPoint => ({ at, lag, producePerSec: null, consumePerSec: null });

describe('an incident series', () => {
  it('keeps every point up to the cap, then halves the older ones, keeping peaks and the newest', () => {
    let series: LagPoint[] = [];
    for (let i = 0; i < 10; i++) series = appendPoint(series, point(i, i === 3 ? 999 : i), 8);
    expect(series.length).toBeLessThanOrEqual(8);
    expect(series.at(-1)).toEqual(point(9, 9));
    expect(series.map((p) => p.lag)).toContain(999);
    expect(series.map((p) => p.at)).toEqual([...series.map((p) => p.at)].sort((a, b) => a - b));
  });

  it('stays within the cap over a week of one-minute checks', () => {
    let series: LagPoint[] = [];
    for (let i = 0; i < 7 * 24 * 60; i++) series = appendPoint(series, point(i * 60_000, i));
    expect(series.length).toBeLessThanOrEqual(SERIES_CAP);
    expect(series.length).toBeGreaterThan(SERIES_CAP / 2);
    expect(series[0]?.at).toBe(0);
  });

  it('is recorded from every check of an open incident, with marks for opened, escalated, acknowledged and resolved', () => {
    const s = new Scenario();
    s.checks(ramp(51_000, 90_000, 11));
    // The series starts with the build-up the monitor saw before the opening check.
    const opened = s.incident!;
    expect(opened.series?.map((p) => p.lag)).toEqual(ramp(51_000, 90_000, 11));
    expect(opened.series?.filter((p) => p.at < opened.openedAt)).toHaveLength(10);
    expect(opened.series?.slice(1).every((p) => p.producePerSec !== null)).toBe(true);
    expect(s.steps.at(-1)?.chart).toBe(true);
    s.checks([95_000, 600_000]);
    expect(s.incident?.series?.slice(-3).map((p) => p.lag)).toEqual([90_000, 95_000, 600_000]);
    s.click({ kind: 'acknowledge', user: 'U0ONCALL' });
    s.checks(Array.from({ length: 14 }, () => 1_000));
    const resolved = s.steps.find((x) => x.incident?.status === 'resolved')?.incident;
    expect(resolved?.series?.length).toBeGreaterThan(10);
    expect(resolved?.marks?.map((m) => [m.kind, m.severity, m.by])).toEqual([
      ['opened', 'warning', null],
      ['escalated', 'critical', null],
      ['acknowledged', 'critical', 'U0ONCALL'],
      ['resolved', null, null],
    ]);
    // Opened and resolved; the escalation came a minute after the opening chart.
    expect(s.steps.filter((x) => x.chart).map((x) => x.timeline.map((e) => e.kind).filter((k) => k === 'opened' || k === 'resolved'))).toEqual([['opened'], ['resolved']]);
  });

  it('takes at most the last 15 minutes before the opening, and a tenth of the cap', () => {
    const points = Array.from({ length: 100 }, (_, i) => point(T0 + i * 60_000, i));
    const openedAt = T0 + 100 * 60_000;
    const leadIn = leadInOf(points, openedAt);
    expect(leadIn.map((p) => p.lag)).toEqual(Array.from({ length: 15 }, (_, i) => 85 + i));
    expect(leadInOf(Array.from({ length: 100 }, (_, i) => point(openedAt - 1_000 * (100 - i), i)), openedAt)).toHaveLength(SERIES_CAP / 10);
    // Nothing at or after the opening check: that point is the incident's own.
    expect(leadInOf([point(openedAt, 5), point(openedAt + 1, 6)], openedAt)).toEqual([]);
  });

  it('charts an escalation only when the last chart is at least 10 minutes old', () => {
    const s = new Scenario();
    s.checks(ramp(51_000, 90_000, 11));
    const openedAt = s.now - CHECK_MS;
    s.checks([600_000]);
    expect(s.steps.at(-1)?.chart).toBe(false);
    expect(s.incident?.chartedAt).toBe(openedAt);
    while (s.now - openedAt < CHART_EVERY_MS) s.checks([700_000]);
    s.checks([2_500_000]);
    expect(s.timeline.at(-1)?.kind).toBe('escalated');
    expect(s.steps.at(-1)?.chart).toBe(true);
  });

  it('charts the whole incident with the thresholds, and old incidents without a series still chart', () => {
    const s = new Scenario();
    s.checks(ramp(51_000, 90_000, 11));
    s.checks([100_000, 120_000]);
    const chart = incidentChart(s.incident!, chartThresholds(DEFAULT_RULES.thresholds));
    expect(chart.points.map((p) => p.lag)).toEqual([...ramp(51_000, 90_000, 11), 100_000, 120_000]);
    expect(chart.thresholds).toEqual([
      { severity: 'warning', lag: 50_000 },
      { severity: 'critical', lag: 500_000 },
      { severity: 'page', lag: 2_000_000 },
    ]);
    // From the start of the build-up, ten checks before the opening.
    expect(chart.from).toBe(s.incident!.openedAt - 10 * CHECK_MS);

    const old = incidentFixture('inc-old', 'orders');
    const oldChart = incidentChart(old, []);
    expect(oldChart.points).toHaveLength(1);
    expect(oldChart.marks.map((m) => m.kind)).toEqual(['opened']);
  });
});

describe('a chart of the monitor history', () => {
  function history(lags: number[]): GroupSample[] {
    let h: GroupSample[] = [];
    lags.forEach((lag, i) => {
      // The log grows 600 a check; the consumer keeps up except by `lag`.
      const end = 1_000_000 + i * 600;
      h = appendSample(h, sampleOf(scriptedLag(T0 + i * CHECK_MS, { partitions: [{ committed: end - lag, logEnd: end }], members: 1 }), h.at(-1)), 3_600_000);
    });
    return h;
  }

  it('has a point per sample with produce and consume rates between samples', () => {
    const chart = historyChart({ cluster: 'default', group: 'g' }, history([0, 300, 600]), [])!;
    expect(chart.points.map((p) => p.lag)).toEqual([0, 300, 600]);
    expect(chart.points[0]?.producePerSec).toBeNull();
    expect(chart.points[1]?.producePerSec).toBe(20);
    expect(chart.points[2]?.consumePerSec).toBe(10);
    expect(chart.from).toBe(T0);
    expect(chart.to).toBe(T0 + 2 * CHECK_MS);
  });

  it('is null without history', () => {
    expect(historyChart({ cluster: 'default', group: 'g' }, [], [])).toBeNull();
    expect(lagOf(1).partitions).toHaveLength(1);
  });
});

describe('a sparkline', () => {
  it('scales from nothing to the peak, newest on the right', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7].map((lag, i) => point(i, lag)))).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([point(0, 5), point(1, 5)])).toBe('██');
    expect(sparkline([point(0, 0), point(1, 0)])).toBe('▁▁');
  });

  it('shows unknown lag as a gap, buckets long series, and says nothing for one point', () => {
    expect(sparkline([point(0, 7), point(1, null), point(2, 0)])).toBe('█ ▁');
    expect([...sparkline(Array.from({ length: 120 }, (_, i) => point(i, i)), 30)]).toHaveLength(30);
    expect(sparkline([point(0, 1)])).toBe('');
  });
});
