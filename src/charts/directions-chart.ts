/**
 * Loss landscapes along filter-normalized random directions around one model (Li et al. 2018,
 * "Visualizing the Loss Landscape of Neural Nets", NeurIPS, Fig. 1 and 5):
 *
 *   1-D: f(α) = L(θ + α·d) as a line per split, loss and accuracy side by side;
 *   2-D: f(α, β) = L(θ + α·d + β·e) as a heatmap with contour lines (the surface chart on the
 *        (α, β) grid), the model itself marked at the origin.
 *
 * @example
 * directionsChart(await evaluateRandomDirections(arch, model, data, { dimensions: 1 }));
 */

import type { TopLevelSpec } from 'vega-lite';
import type { DirectionRow } from '../landscape/rows.js';
import type { Split } from '../rows/rows.js';
import { AXIS, LEGEND, metricTitle, type Metric } from './messages.js';
import { surfaceChart } from './surface-chart.js';
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, SCHEMA_URL, metricFormat, metricOf, paperConfig, rowsOfSplits, titleProp, uniqueInOrder } from './theme.js';

export interface DirectionsChartOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Width of one panel in px. Default 440. */
  readonly width?: number;
  /** Height of a 1-D panel in px. Default 280 (2-D: width × β range / α range). */
  readonly height?: number;
  /** Splits drawn in 1-D (stroke dash tells them apart). Default `['test']`. */
  readonly splits?: readonly Split[];
  /** Split shown in 2-D. Default `'test'`. */
  readonly split?: Split;
  /** 1-D panels, one per metric. Default `['loss', 'accuracy']`. */
  readonly metrics?: readonly Metric[];
  /** Label of the model at α = β = 0 in 2-D. Default `θ`. */
  readonly label?: string;
}

/** A line (rows without β) or a heatmap (rows with β) of the random-direction landscape. */
export function directionsChart(rows: readonly DirectionRow[], options: DirectionsChartOptions = {}): TopLevelSpec {
  if (rows.some((r) => r.beta !== undefined)) {
    const surface = rows.map((r) => ({ u: r.alpha, v: r.beta ?? 0, split: r.split, loss: r.loss, accuracy: r.accuracy }));
    return surfaceChart(surface, [{ label: options.label ?? 'θ', series: 'mode', u: 0, v: 0, order: 0 }], {
      ...titleProp(options.title),
      ...(options.width === undefined ? {} : { width: options.width }),
      split: options.split ?? 'test',
      axisTitles: [AXIS.alpha, AXIS.beta],
    });
  }
  const kept = rowsOfSplits('directionsChart', rows, options.splits ?? ['test']);
  const splits = uniqueInOrder(kept.map((r) => r.split));
  const metrics = options.metrics ?? ['loss', 'accuracy'];
  const panel = (metric: Metric) => ({
    width: options.width ?? DEFAULT_WIDTH,
    height: options.height ?? DEFAULT_HEIGHT,
    data: { values: kept.map((r) => ({ alpha: r.alpha, split: r.split, value: metricOf(r, metric) })) },
    layer: [
      {
        mark: { type: 'line' as const, strokeWidth: 2 },
        encoding: {
          x: { field: 'alpha', type: 'quantitative' as const, title: AXIS.alpha, scale: { nice: false } },
          y: { field: 'value', type: 'quantitative' as const, title: metricTitle(metric, splits.length === 1 ? splits[0] : undefined), scale: { zero: metric !== 'loss' }, axis: { format: metricFormat(metric) } },
          strokeDash: { field: 'split', type: 'nominal' as const, title: LEGEND.split, sort: splits },
        },
      },
      // The model itself, α = 0.
      { mark: { type: 'rule' as const, color: '#888888', strokeDash: [2, 3] }, encoding: { x: { datum: 0, type: 'quantitative' as const } } },
    ],
  });
  return {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    hconcat: metrics.map(panel),
  };
}
