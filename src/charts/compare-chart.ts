/**
 * Comparisons of two models (Adilova et al., ICLR 2024; the model comparisons of the
 * decentralized-learning study, Tian et al. 2024), as two charts:
 *
 *   compareLayersChart  per layer group: ‖θ_A^l − θ_B^l‖₂ and cos(θ_A^l, θ_B^l), input side at top;
 *   disagreementChart   the K×K matrix M[i][j] = #{n : argmax f_A(x_n) = i, argmax f_B(x_n) = j},
 *                       counts written in the cells (the diagonal is where A and B agree).
 *
 * @example
 * const { layers, disagreement } = await compareModels(arch, a, b, data);
 * compareLayersChart(layers); disagreementChart(disagreement);
 */

import type { TopLevelSpec } from 'vega-lite';
import type { DisagreementRow, LayerComparisonRow } from '../landscape/rows.js';
import type { Split } from '../rows/rows.js';
import { AXIS, ERROR, LEGEND } from './messages.js';
import { SCHEMA_URL, paperConfig, rowsOfSplits, titleProp } from './theme.js';

export interface CompareChartOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Width of one panel in px. Default 260 (layers), 320 (matrix). */
  readonly width?: number;
}

/** Distance and cosine similarity per layer group (the whole-model row `all` left out), side by side. */
export function compareLayersChart(rows: readonly LayerComparisonRow[], options: CompareChartOptions = {}): TopLevelSpec {
  const layers = rows.filter((r) => r.layer !== 'all');
  if (layers.length === 0) throw new Error(ERROR.noLayers('compareLayersChart'));
  const order = [...layers].sort((a, b) => a.layerIndex - b.layerIndex).map((r) => r.layer);
  const width = options.width ?? 260;
  const height = Math.max(80, 22 * order.length);
  const y = { field: 'layer', type: 'nominal' as const, title: AXIS.layer, sort: order };
  const values = layers.map((r) => ({ layer: r.layer, distance: r.distance, cosine: Number.isFinite(r.cosine) ? r.cosine : null }));
  return {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    data: { values },
    hconcat: [
      { width, height, mark: { type: 'bar', color: '#0072B2' }, encoding: { y, x: { field: 'distance', type: 'quantitative', title: AXIS.layerDistance, axis: { tickCount: 5 } } } },
      {
        width,
        height,
        layer: [
          { mark: { type: 'bar', color: '#E69F00' }, encoding: { y, x: { field: 'cosine', type: 'quantitative', title: AXIS.layerCosine, scale: { domain: [-1, 1] } } } },
          { mark: { type: 'rule', color: '#888888' }, encoding: { x: { datum: 0, type: 'quantitative' } } },
        ],
      },
    ],
  };
}

/** The disagreement matrix of one split as a heatmap with the counts in the cells. */
export function disagreementChart(rows: readonly DisagreementRow[], options: CompareChartOptions & { readonly split?: Split } = {}): TopLevelSpec {
  const split = options.split ?? 'test';
  const cells = rowsOfSplits('disagreementChart', rows, [split]);
  const classes = [...new Set(cells.flatMap((c) => [c.predictedA, c.predictedB]))].sort((a, b) => a - b);
  const width = options.width ?? 320;
  const max = Math.max(...cells.map((c) => c.count));
  const x = { field: 'predictedB', type: 'ordinal' as const, title: AXIS.predictedB, sort: classes, axis: { labelAngle: 0 } };
  const y = { field: 'predictedA', type: 'ordinal' as const, title: AXIS.predictedA, sort: classes };
  return {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    data: { values: cells.map((c) => ({ predictedA: c.predictedA, predictedB: c.predictedB, count: c.count })) },
    width,
    height: width,
    layer: [
      { mark: { type: 'rect' }, encoding: { x, y, color: { field: 'count', type: 'quantitative', title: LEGEND.examples(split), scale: { scheme: 'blues' } } } },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          x,
          y,
          text: { field: 'count', type: 'quantitative' },
          // Dark cells get white numbers.
          color: { condition: { test: `datum.count > ${0.5 * max}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}
