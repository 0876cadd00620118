/**
 * Robustness of single layers (Adilova et al., ICLR 2024): loss when layer l of θ_A moves by t
 * along the interpolation direction θ_B^l − θ_A^l versus along random Gaussian directions of the
 * same norm. One panel per layer; random directions drawn as the mean over samples with a min–max band.
 *
 * @example
 * robustnessChart(rows, { columns: 4 });
 */

import type { TopLevelSpec } from 'vega-lite';
import type { RobustnessRow, Split } from '../rows/rows.js';
import { AXIS, LABEL, LEGEND, metricTitleLines, type Metric } from './messages.js';
import { aggregateBand, bandLayers } from './band.js';
import { SCHEMA_URL, metricFormat, metricOf, paperConfig, rowsOfSplits, titleProp, uniqueInOrder } from './theme.js';

export interface RobustnessChartOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Width of one layer panel in px. Default 220. */
  readonly width?: number;
  /** Height of one layer panel in px. Default 180. */
  readonly height?: number;
  /** Split shown. Default `'test'`. */
  readonly split?: Split;
  /** Value on the y axis. Default `'loss'`. */
  readonly metric?: Metric;
  /** Layer panels per row. Default 3. */
  readonly columns?: number;
  /** Log y axis (loss only). Default `false`. */
  readonly log?: boolean;
}

const DIRECTIONS = ['interpolation', 'random'] as const;

/** Loss vs t per layer: interpolation direction vs random directions (mean, min–max band). */
export function robustnessChart(rows: readonly RobustnessRow[], options: RobustnessChartOptions = {}): TopLevelSpec {
  const split = options.split ?? 'test';
  const metric = options.metric ?? 'loss';
  const kept = rowsOfSplits('robustnessChart', rows, [split]);
  const layers = uniqueInOrder(kept.map((r) => r.layer));
  const values = layers.flatMap((layer) =>
    aggregateBand(kept.filter((r) => r.layer === layer).map((r) => ({ key: r.direction, x: r.t, y: metricOf(r, metric) }))).map(
      (p) => ({ layer, direction: p.key, t: p.x, mean: p.mean, min: p.min, max: p.max }),
    ),
  );
  const x = { field: 't', type: 'quantitative' as const, title: AXIS.step, axis: { tickCount: 4 } };
  const y = {
    field: 'mean',
    type: 'quantitative' as const,
    title: metricTitleLines(metric, split),
    axis: { format: metricFormat(metric) },
    scale: options.log === true && metric === 'loss' ? { type: 'log' } : { zero: false },
  };
  const color = {
    field: 'direction',
    type: 'nominal' as const,
    title: [LEGEND.direction, LEGEND.band],
    sort: DIRECTIONS.filter((d) => values.some((v) => v.direction === d)),
  };
  return {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    data: { values },
    facet: { field: 'layer', type: 'nominal', title: null, sort: layers, header: { labelExpr: LABEL.layerHeaderExpr } },
    columns: options.columns ?? 3,
    // An x axis under every panel: a wrapped grid's empty cells then hold no orphan axis.
    resolve: { axis: { x: 'independent' } },
    spec: { width: options.width ?? 220, height: options.height ?? 180, layer: bandLayers(x, y, color) },
  } as TopLevelSpec;
}
