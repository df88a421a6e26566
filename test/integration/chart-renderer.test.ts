import { afterEach, describe, expect, it } from 'vitest';
import type { LagChart } from '../../src/core/chart.js';
import { renderChartPng } from '../../src/charts/render.js';
import { ChartRenderer, RendererUnavailableError } from '../../src/charts/renderer.js';
import { waitFor } from '../../tools/slack-standin/standin.js';

// The renderer runs the built render-process.js: `npm test` builds before the tests run.

const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);
const chart: LagChart = {
  cluster: 'prod-eu',
  group: 'user-events-consumer',
  from: T0,
  to: T0 + 19 * 60_000,
  points: Array.from({ length: 20 }, (_, i) => ({ at: T0 + i * 60_000, lag: i * 5_000, producePerSec: 900, consumePerSec: 600 })),
  thresholds: [{ severity: 'warning', lag: 50_000 }],
  marks: [],
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const renderers: ChartRenderer[] = [];
const renderer = (options: ConstructorParameters<typeof ChartRenderer>[0] = {}): ChartRenderer => {
  const r = new ChartRenderer(options);
  renderers.push(r);
  return r;
};

afterEach(() => {
  for (const r of renderers.splice(0)) r.stop();
});

describe('the chart renderer process', () => {
  it('draws in a process of its own the same PNG as drawing in this one', async () => {
    const r = renderer();
    const png = await r.render(chart);
    expect(r.pid).not.toBeNull();
    expect(r.pid).not.toBe(process.pid);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.equals(await renderChartPng(chart))).toBe(true);
  });

  it('draws charts asked at once over one process, and exits once idle', async () => {
    const r = renderer({ idleMs: 300 });
    const pngs = await Promise.all([r.render(chart), r.render({ ...chart, group: 'orders' }), r.render(chart)]);
    expect(pngs.map((p) => p.length > 1_000)).toEqual([true, true, true]);
    expect(pngs[0]!.equals(pngs[2]!)).toBe(true);
    expect(pngs[0]!.equals(pngs[1]!)).toBe(false);
    const pid = r.pid!;
    await waitFor(() => !alive(pid), 5_000);
    expect(r.pid).toBeNull();
    // The next chart starts it again.
    await r.render(chart);
    expect(r.pid).not.toBe(pid);
  });

  it('a renderer killed while drawing fails that chart as unavailable, and the next chart gets a new one', async () => {
    const r = renderer();
    const drawing = r.render(chart);
    process.kill(r.pid!, 'SIGKILL');
    await expect(drawing).rejects.toThrow(RendererUnavailableError);
    await expect(drawing).rejects.toThrow(/exited \(SIGKILL\) while drawing/);
    expect((await r.render(chart)).length).toBeGreaterThan(1_000);
  });

  it('a chart that cannot be drawn fails as itself, and the renderer stays', async () => {
    const r = renderer();
    await r.render(chart);
    const pid = r.pid;
    const broken = { ...chart, points: null } as unknown as LagChart;
    const failure = await r.render(broken).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(RendererUnavailableError);
    expect(r.pid).toBe(pid);
    expect((await r.render(chart)).length).toBeGreaterThan(1_000);
  });

  it('gives up a chart that takes too long and restarts the renderer', async () => {
    const r = renderer({ timeoutMs: 50 });
    const drawing = r.render(chart);
    const pid = r.pid!;
    await expect(drawing).rejects.toThrow(/no answer within 0.05 s/);
    await waitFor(() => !alive(pid), 5_000);
    expect(r.pid).toBeNull();
  });

  it('says to build lagbot when the renderer module is missing', async () => {
    const r = renderer({ entry: '/nonexistent/render-process.js' });
    await expect(r.render(chart)).rejects.toThrow(/does not exist: build lagbot first \(npm run build\)/);
  });
});
