/**
 * Perturbations along subspaces (Adilova et al., ICLR 2024): loss vs perturbation magnitude along
 * (i) the interpolation direction, (ii) random directions in the training subspace (span of the
 * saved checkpoints), (iii) random directions in its orthogonal complement (null space).
 * Mean over samples with a min–max band.
 */

import type { TopLevelSpec } from 'vega-lite';
import type { Split, SubspaceRow } from '../rows/rows.js';
import { AXIS, LEGEND, metricTitle, type Metric } from './messages.js';
import { aggregateBand, bandLayers } from './band.js';
import { logLossDomain } from './path-chart.js';
import { logTicks } from './surface-chart.js';
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, SCHEMA_URL, metricFormat, metricOf, paperConfig, rowsOfSplits, titleProp } from './theme.js';

export interface SubspaceChartOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Width in px. Default 440. */
  readonly width?: number;
  /** Height in px. Default 280. */
  readonly height?: number;
  /** Split shown. Default `'test'`. */
  readonly split?: Split;
  /** Value on the y axis. Default `'loss'`. */
  readonly metric?: Metric;
  /** Log y axis (loss only). Default `false`. */
  readonly log?: boolean;
}

const DIRECTIONS = ['interpolation', 'training-subspace', 'null-space'] as const;

/** Loss vs perturbation magnitude for the three direction kinds, band over samples. */
export function subspaceChart(rows: readonly SubspaceRow[], options: SubspaceChartOptions = {}): TopLevelSpec {
  const split = options.split ?? 'test';
  const metric = options.metric ?? 'loss';
  const kept = rowsOfSplits('subspaceChart', rows, [split]);
  const values = aggregateBand(kept.map((r) => ({ key: r.direction, x: r.magnitude, y: metricOf(r, metric) }))).map((p) => ({
    direction: p.key,
    magnitude: p.x,
    mean: p.mean,
    min: p.min,
    max: p.max,
  }));
  const log = options.log === true && metric === 'loss';
  // Vega's own log ticks put 1-2-5 labels a few pixels apart over four decades and then drop every
  // other one (500, 50, 5, 0.5 went missing): the domain ends at the 1-2-5 values around the band,
  // labelled at exactly those values.
  const logDomain = log ? logLossDomain(values.flatMap((v) => [v.min, v.max])) : undefined;
  const x = { field: 'magnitude', type: 'quantitative' as const, title: AXIS.magnitude };
  const y = {
    field: 'mean',
    type: 'quantitative' as const,
    title: metricTitle(metric, split),
    axis: { format: metricFormat(metric), ...(logDomain === undefined ? {} : { values: logTicks(...logDomain) }) },
    scale: log ? { type: 'log', ...(logDomain === undefined ? {} : { domain: logDomain, nice: false }) } : { zero: false },
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
    width: options.width ?? DEFAULT_WIDTH,
    height: options.height ?? DEFAULT_HEIGHT,
    data: { values },
    layer: bandLayers(x, y, color),
  } as TopLevelSpec;
}
