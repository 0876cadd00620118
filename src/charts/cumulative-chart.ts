/**
 * Cumulative layer interpolation (Adilova et al., ICLR 2024): the midpoint barrier after adding
 * layers one at a time to the interpolated set, from the input side (`shallow`), from the output
 * side (`deep`) and in a seeded random order. One line per order; in the default `facets` layout
 * each order has its own panel whose x axis names the layer added at each step.
 *
 * @example
 * cumulativeChart(rows);                        // three panels, x = "1 · conv1", "2 · conv2", …
 * cumulativeChart(rows, { layout: 'overlay' }); // one panel, x = number of layers
 */

import type { TopLevelSpec } from 'vega-lite';
import type { CumulativeRow, Split } from '../rows/rows.js';
import { AXIS, LABEL, LEGEND, barrierTitle, metricTitle, type Metric } from './messages.js';
import {
  DEFAULT_HEIGHT,
  DEFAULT_WIDTH,
  SCHEMA_URL,
  metricFormat,
  metricOf,
  paperConfig,
  rowsOfSplits,
  titleProp,
  uniqueInOrder,
} from './theme.js';

export interface CumulativeChartOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Total width in px (split between panels in the `facets` layout). Default 440. */
  readonly width?: number;
  /** Panel height in px. Default 280. */
  readonly height?: number;
  /** Split shown. Default `'test'`. */
  readonly split?: Split;
  /** Value on the y axis: the midpoint barrier, or the midpoint loss/accuracy/error. Default `'barrier'`. */
  readonly value?: 'barrier' | Metric;
  /** One panel per order with layer names on x, or all orders on one panel with x = step. Default `'facets'`. */
  readonly layout?: 'facets' | 'overlay';
}

const ORDERS = ['shallow', 'deep', 'random'] as const;

/** Barrier (or loss, accuracy, error) vs number of interpolated layers, one line per order. */
export function cumulativeChart(rows: readonly CumulativeRow[], options: CumulativeChartOptions = {}): TopLevelSpec {
  const split = options.split ?? 'test';
  const valueKind = options.value ?? 'barrier';
  const kept = rowsOfSplits('cumulativeChart', rows, [split]);
  const orders = ORDERS.filter((o) => kept.some((r) => r.order === o));
  const values = kept.map((r) => ({
    order: r.order,
    step: r.step,
    addedLayer: r.addedLayer,
    stepLabel: `${r.step} · ${r.addedLayer}`,
    value: valueKind === 'barrier' ? r.barrier : metricOf(r, valueKind),
  }));
  const yTitle = valueKind === 'barrier' ? barrierTitle('loss', split) : metricTitle(valueKind, split);
  const y = {
    field: 'value',
    type: 'quantitative' as const,
    title: yTitle,
    // Padding before the domain is rounded: a point at the largest barrier otherwise sits half outside the frame ([-1.39, 1.59] → [-1.4, 1.6]).
    scale: { padding: 10 },
    axis: { format: valueKind === 'barrier' ? '~g' : metricFormat(valueKind) },
  };
  const color = { field: 'order', type: 'nominal' as const, title: LEGEND.order, sort: orders };
  const width = options.width ?? DEFAULT_WIDTH;
  const height = options.height ?? DEFAULT_HEIGHT;
  const base = { $schema: SCHEMA_URL, ...titleProp(options.title), config: paperConfig(), data: { values } };

  if ((options.layout ?? 'facets') === 'overlay') {
    const steps = uniqueInOrder(values.map((v) => v.step));
    const x = { field: 'step', type: 'quantitative' as const, title: AXIS.cumulativeStepNumber, axis: { values: steps, format: 'd' } };
    return {
      ...base,
      width,
      height,
      layer: [
        { mark: { type: 'line' }, encoding: { x, y, color } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y, color } },
      ],
    };
  }

  // Each panel's x axis lists its own order's layers, so x is resolved independently.
  const x = {
    field: 'stepLabel',
    type: 'ordinal' as const,
    title: AXIS.cumulativeStep,
    sort: { field: 'step', op: 'min' as const },
    axis: { labelAngle: -40, labelAlign: 'right' as const },
  };
  return {
    ...base,
    facet: { column: { field: 'order', type: 'nominal', title: LABEL.orderHeaderTitle, sort: orders } },
    spec: {
      width: Math.max(120, Math.round(width / orders.length)),
      height,
      layer: [
        { mark: { type: 'line' }, encoding: { x, y, color: { ...color, legend: null } } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y, color: { ...color, legend: null } } },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  };
}
