import type { LagChart } from '../core/chart.js';
import { renderChartPng } from './render.js';

/**
 * The chart renderer's own process (see renderer.ts): it loads Vega, Vega-Lite and resvg,
 * draws the charts it is sent over the IPC channel, and exits when lagbot lets it go or dies.
 */

interface RenderAsk {
  id: number;
  chart: LagChart;
}

function isAsk(value: unknown): value is RenderAsk {
  return typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'number' && typeof (value as { chart?: unknown }).chart === 'object';
}

const send = (answer: object): void => {
  process.send?.(answer);
};

process.on('message', (message: unknown) => {
  if (!isAsk(message)) return;
  const { id, chart } = message;
  renderChartPng(chart).then(
    (png) => send({ id, ok: true, png }),
    (err: unknown) => send({ id, ok: false, message: err instanceof Error ? err.message : String(err) }),
  );
});

// The channel closes when lagbot stops the renderer, and when lagbot itself dies (even by SIGKILL).
process.on('disconnect', () => process.exit(0));
