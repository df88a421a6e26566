import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import type { LagChart } from '../../src/core/chart.js';
import { lagChartSpec, visibleThresholds } from '../../src/charts/lag-chart-spec.js';
import { renderChartPng, renderChartSvg } from '../../src/charts/render.js';

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);
const MIN = 60_000;

function chart(peak = 120_000): LagChart {
  const points = Array.from({ length: 40 }, (_, i) => ({
    at: T0 + i * MIN,
    lag: Math.round((peak * Math.min(i, 30)) / 30),
    producePerSec: 14_000 + (i > 5 ? 30_000 : 0),
    consumePerSec: 14_000,
  }));
  return {
    cluster: 'prod-eu',
    group: 'user-events-consumer',
    from: T0,
    to: T0 + 39 * MIN,
    points,
    thresholds: [
      { severity: 'warning', lag: 50_000 },
      { severity: 'critical', lag: 500_000 },
      { severity: 'page', lag: 2_000_000 },
    ],
    marks: [
      { kind: 'opened', at: T0 + 10 * MIN, severity: 'warning', by: null },
      { kind: 'acknowledged', at: T0 + 14 * MIN, severity: 'warning', by: 'U0ONCALL' },
      { kind: 'resolved', at: T0 + 39 * MIN, severity: null, by: null },
    ],
  };
}

describe('lag chart rendering', () => {
  it('draws the lines the lag reached and the next one above its peak, not the ones far above', () => {
    expect(visibleThresholds(chart(120_000)).map((t) => t.severity)).toEqual(['warning', 'critical']);
    expect(visibleThresholds(chart(3_000_000)).map((t) => t.severity)).toEqual(['warning', 'critical', 'page']);
    expect(visibleThresholds(chart(1_000)).map((t) => t.severity)).toEqual(['warning']);
  });

  it('renders an SVG with the group, the threshold lines and the marks', async () => {
    const svg = await renderChartSvg(chart());
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Consumer lag · user-events-consumer on prod-eu');
    expect(svg).toContain('WARNING 50,000');
    expect(svg).toContain('CRITICAL 500,000');
    expect(svg).not.toContain('PAGE 2,000,000');
    expect(svg).toContain('acknowledged (U0ONCALL)');
    expect(svg).toContain('opened WARNING');
    expect(svg).toContain('2026-12-02 03:00–03:39 UTC');
    // The dashed threshold rules are drawn as lines.
    expect((svg.match(/stroke-dasharray="6,4"/g) ?? []).length).toBe(2);
  });

  it('renders a PNG: the signature, a decodable image of the expected size', async () => {
    const png = await renderChartPng(chart());
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR: width and height, big-endian, right after the signature and chunk header.
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    expect(width).toBeGreaterThan(1400);
    expect(height).toBeGreaterThan(600);
    // resvg reads it back: the bytes are a whole PNG, not just a header.
    const decoded = new Resvg(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}"><image href="data:image/png;base64,${png.toString('base64')}" width="${width}" height="${height}"/></svg>`).render();
    expect(decoded.width).toBe(width);
    expect(decoded.pixels.some((v, i) => i % 4 !== 3 && v < 128)).toBe(true);
  });

  it('renders a chart with no rates and no marks (the first minutes of history)', async () => {
    const bare: LagChart = { ...chart(), points: [{ at: T0, lag: 10, producePerSec: null, consumePerSec: null }], marks: [], thresholds: [] };
    expect(lagChartSpec(bare)).toHaveProperty('vconcat');
    const png = await renderChartPng(bare);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
