/**
 * Accuracy over ticks, one line per configuration with a min–max band (over the nodes of a gossip
 * run, or over seeds): the vanishing-variance comparison of plain gossip, corrected gossip and FL
 * (Tian et al. 2024).
 */

import type { TopLevelSpec } from 'vega-lite';
import { AXIS, LEGEND, metricTitle } from './messages.js';
import { bandLayers } from './band.js';
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, SCHEMA_URL, paperConfig, requireRows, titleProp, uniqueInOrder } from './theme.js';

/** Accuracy of one configuration at one tick: mean and range over nodes or seeds (0..1). */
export interface AccuracyBandRow {
  readonly series: string;
  readonly tick: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

export interface AccuracyBandChartOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Width in px. Default 440. */
  readonly width?: number;
  /** Height in px. Default 280. */
  readonly height?: number;
  /** y axis title. Default "test accuracy". */
  readonly yTitle?: string;
  /** x axis title. Default "tick". */
  readonly xTitle?: string;
  /** What the band spans, shown under the legend title. Default "band: min–max over samples". */
  readonly bandTitle?: string;
}

/** Accuracy vs tick, one line per configuration with a min–max band. */
export function accuracyBandChart(rows: readonly AccuracyBandRow[], options: AccuracyBandChartOptions = {}): TopLevelSpec {
  requireRows('accuracyBandChart', rows);
  const series = uniqueInOrder(rows.map((r) => r.series));
  const x = { field: 'tick', type: 'quantitative' as const, title: options.xTitle ?? AXIS.tick };
  const y = {
    field: 'mean',
    type: 'quantitative' as const,
    title: options.yTitle ?? metricTitle('accuracy', 'test'),
    axis: { format: '.0%' },
    scale: { domain: [0, 1] },
  };
  const color = { field: 'series', type: 'nominal' as const, title: [LEGEND.configuration, options.bandTitle ?? LEGEND.band], sort: series };
  return {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    width: options.width ?? DEFAULT_WIDTH,
    height: options.height ?? DEFAULT_HEIGHT,
    data: { values: rows.map((r) => ({ ...r })) },
    layer: bandLayers(x, y, color),
  } as TopLevelSpec;
}
