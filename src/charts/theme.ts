/**
 * Shared look of every chart: a paper-size config (fonts ≥ 11 px at the default size, untruncated
 * legends, white background) and the small helpers the builders use to pick splits and metrics.
 */

import type { Config } from 'vega-lite';
import type { Split } from '../rows/rows.js';
import { ERROR, type Metric } from './messages.js';

/** Vega-Lite schema URL written into every spec, so editors validate the saved `.vl.json`. */
export const SCHEMA_URL = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Default single-panel size in px (a single column of a two-column paper at 2× scale). */
export const DEFAULT_WIDTH = 440;
export const DEFAULT_HEIGHT = 280;

/**
 * Font family written into the SVG. The renderer (`render.ts`) loads DejaVu Sans when present;
 * the generic fallbacks keep the SVG readable in a browser without it.
 */
export const FONT_FAMILY = 'DejaVu Sans, Helvetica, Arial, sans-serif';

/**
 * Categorical colours: the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), ordered
 * so that the first five series take clearly different hues (blue, orange, green, purple,
 * vermillion) that stay apart for the common colour-vision deficiencies; yellow, the weakest on
 * white, comes last.
 */
export const CATEGORY_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#000000', '#F0E442'] as const;

/** Lines drawn for context behind a panel's own series (the other configurations' means). */
export const CONTEXT_GREY = '#c8c8c8';

/** Background of a legend whose symbols are white (lines drawn white on a dark surface). */
export const LEGEND_BOX = '#3a3a3a';

/** Axis label size in px (paperConfig); builders that place labels themselves measure with it. */
export const AXIS_LABEL_FONT_SIZE = 12;

/** Paper config: 12–14 px text at 1×, legends never truncated, no frame clipping. */
export function paperConfig(): Config {
  return {
    font: FONT_FAMILY,
    background: 'white',
    padding: 8,
    axis: {
      labelFontSize: AXIS_LABEL_FONT_SIZE,
      titleFontSize: 13,
      titleFontWeight: 'normal',
      labelLimit: 0,
      titlePadding: 8,
      gridColor: '#e6e6e6',
    },
    legend: {
      labelFontSize: 12,
      titleFontSize: 12,
      titleFontWeight: 'normal',
      labelLimit: 0,
      titleLimit: 0,
      symbolSize: 120,
    },
    header: { labelFontSize: 13, titleFontSize: 13, titleFontWeight: 'normal' },
    title: { fontSize: 15, fontWeight: 'normal', anchor: 'start', offset: 10 },
    text: { fontSize: 12 },
    line: { strokeWidth: 2 },
    view: { stroke: '#bbbbbb' },
    range: { category: [...CATEGORY_COLORS] },
  };
}

/** Vega expression giving the metric of a row (`error` = 1 − accuracy). */
export function metricExpr(metric: Metric): string {
  switch (metric) {
    case 'loss':
      return 'datum.loss';
    case 'accuracy':
      return 'datum.accuracy';
    case 'error':
      return '1 - datum.accuracy';
  }
}

/** The metric of a row computed in TypeScript (same meaning as {@link metricExpr}). */
export function metricOf(row: { readonly loss: number; readonly accuracy: number }, metric: Metric): number {
  switch (metric) {
    case 'loss':
      return row.loss;
    case 'accuracy':
      return row.accuracy;
    case 'error':
      return 1 - row.accuracy;
  }
}

/** Accuracy and error read best as percentages; loss as plain numbers. */
export function metricFormat(metric: Metric): string {
  return metric === 'loss' ? '~g' : '.1~%';
}

/** Keep the rows of the given splits; throw, naming the splits present, when none match. */
export function rowsOfSplits<R extends { readonly split: Split }>(
  chart: string,
  rows: readonly R[],
  splits: readonly Split[],
): R[] {
  if (rows.length === 0) throw new Error(ERROR.emptyRows(chart));
  const kept = rows.filter((r) => splits.includes(r.split));
  if (kept.length === 0) {
    const found = uniqueInOrder(rows.map((r) => r.split));
    throw new Error(ERROR.noRowsForSplit(chart, splits.join(', '), found));
  }
  return kept;
}

/** Distinct values in order of first appearance (the order layers and series are listed in). */
export function uniqueInOrder<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

/** Throw the standard "no rows" error for an empty input. */
export function requireRows(chart: string, rows: readonly unknown[]): void {
  if (rows.length === 0) throw new Error(ERROR.emptyRows(chart));
}

/** The title property of a spec: omitted when empty so the chart takes no title space. */
export function titleProp(title: string | undefined): { title?: string } {
  return title === undefined || title === '' ? {} : { title };
}

/**
 * Log-axis label expression: label only exact powers of ten (1e-3, 1e-2, …) so a log axis
 * reads as decades instead of a crowd of 2e-3, 5e-3 labels.
 */
export const DECADE_LABEL_EXPR =
  "abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) < 1e-6 ? format(datum.value, '.0e') : ''";

/**
 * About `count` round tick values spanning [lo, hi] (steps of 1, 2 or 5 × 10^k), with lo and hi
 * themselves included so a colour legend names its ends.
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return Number.isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / Math.max(1, count - 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const inner: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v < hi - step * 0.3; v += step) {
    if (v > lo + step * 0.3) inner.push(Number(v.toPrecision(12)));
  }
  return [lo, ...inner, hi];
}
