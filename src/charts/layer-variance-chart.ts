/**
 * Per-layer weight variance over ticks on a log axis: the "vanishing variance" of averaged models
 * (Tian et al. 2024: plain averaging of K uncorrelated models divides the variance by ≈ K per step,
 * variance correction keeps it) and the variance of LLPF points. Color = layer; series as
 * separate panels (default) or as stroke dash.
 */

import type { TopLevelSpec } from 'vega-lite';
import type { LayerStatRow } from '../rows/rows.js';
import { AXIS, LEGEND } from './messages.js';
import { DECADE_LABEL_EXPR, DEFAULT_HEIGHT, DEFAULT_WIDTH, SCHEMA_URL, paperConfig, requireRows, titleProp, uniqueInOrder } from './theme.js';

export interface LayerVarianceChartOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Width of one panel in px. Default 440 (`strokeDash`) or 440 / number of series, at least 200 (`facet`). */
  readonly width?: number;
  /** Height in px. Default 280. */
  readonly height?: number;
  /** How series are told apart. Default `'facet'` (one panel per series, shared log y axis). */
  readonly seriesAs?: 'facet' | 'strokeDash';
  /** x axis title. Default "tick". */
  readonly xTitle?: string;
}

/** Variance vs tick per layer, log y, color = layer, facet or stroke dash = series. */
export function layerVarianceChart(rows: readonly LayerStatRow[], options: LayerVarianceChartOptions = {}): TopLevelSpec {
  requireRows('layerVarianceChart', rows);
  const layers = uniqueInOrder(rows.map((r) => r.layer));
  const series = uniqueInOrder(rows.map((r) => r.series));
  const seriesAs = options.seriesAs ?? 'facet';
  const x = { field: 'tick', type: 'quantitative' as const, title: options.xTitle ?? AXIS.tick };
  const y = { field: 'variance', type: 'quantitative' as const, title: AXIS.variance, scale: { type: 'log' as const }, axis: { labelExpr: DECADE_LABEL_EXPR } };
  const color = { field: 'layer', type: 'nominal' as const, title: LEGEND.layer, sort: layers };
  const height = options.height ?? DEFAULT_HEIGHT;
  const base = { $schema: SCHEMA_URL, ...titleProp(options.title), config: paperConfig(), data: { values: rows.map((r) => ({ ...r })) } };
  if (seriesAs === 'strokeDash') {
    return {
      ...base,
      width: options.width ?? DEFAULT_WIDTH,
      height,
      mark: { type: 'line', point: true },
      encoding: { x, y, color, strokeDash: { field: 'series', type: 'nominal', title: LEGEND.series, sort: series, legend: { symbolType: 'stroke', symbolStrokeWidth: 2 } } },
    };
  }
  return {
    ...base,
    facet: { column: { field: 'series', type: 'nominal', title: null, sort: series } },
    spec: {
      width: options.width ?? Math.max(200, Math.round(DEFAULT_WIDTH / series.length)),
      height,
      mark: { type: 'line', point: true },
      encoding: { x, y, color },
    },
  };
}
