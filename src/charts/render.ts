import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { LagChart } from '../core/chart.js';
import { lagChartSpec } from './lag-chart-spec.js';

/**
 * Charts drawn on the server: Vega-Lite compiles the spec, Vega lays it out as SVG without a
 * browser (renderer 'none', data inline: nothing is fetched), and resvg rasterizes the SVG to
 * PNG with the machine's fonts.
 */

export async function renderChartSvg(chart: LagChart): Promise<string> {
  const view = new vega.View(vega.parse(compile(lagChartSpec(chart)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes at twice the SVG's size, so text stays sharp in Slack's preview. */
export async function renderChartPng(chart: LagChart): Promise<Buffer> {
  const svg = await renderChartSvg(chart);
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
  return Buffer.from(png);
}
