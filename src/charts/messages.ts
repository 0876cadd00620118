/**
 * Every user-facing string of the charts: axis and legend titles, panel headers, endpoint labels,
 * report boilerplate and error messages. Kept in one module (as vega-lite keeps its `log/message.ts`)
 * so wording and units stay consistent between figures and can be reviewed in one place.
 */

import type { Split } from '../rows/rows.js';

/** The quantity a chart shows on its value axis. `error` is 1 − accuracy. */
export type Metric = 'loss' | 'accuracy' | 'error';

const SPLIT_WORD: Readonly<Record<Split, string>> = { train: 'train', test: 'test' };

/** Unit-bearing title of a metric axis; prefixed with the split when the chart shows only one. */
export function metricTitle(metric: Metric, split?: Split): string {
  const prefix = split === undefined ? '' : `${SPLIT_WORD[split]} `;
  switch (metric) {
    case 'loss':
      return `${prefix}loss (nats, mean cross-entropy)`;
    case 'accuracy':
      return `${prefix}accuracy`;
    case 'error':
      return `${prefix}error (1 − accuracy)`;
  }
}

/** {@link metricTitle} on two lines (quantity, then unit), for narrow panels. */
export function metricTitleLines(metric: Metric, split?: Split): string[] {
  const title = metricTitle(metric, split);
  const open = title.indexOf(' (');
  return open < 0 ? [title] : [title.slice(0, open), title.slice(open + 1)];
}

/** Title of a barrier axis (loss barrier in nats, error barrier as a fraction). */
export function barrierTitle(metric: Metric, split?: Split): string {
  const prefix = split === undefined ? '' : `${SPLIT_WORD[split]} `;
  return metric === 'loss'
    ? `${prefix}loss barrier (nats)`
    : `${prefix}${metric} barrier`;
}

export const AXIS = {
  t: 'interpolation coefficient t',
  /** Two lines: it sits under narrow facet panels. */
  step: ['perturbation step t', '(fraction of ‖B − A‖ of the layer)'],
  magnitude: 'perturbation magnitude (relative to ‖B − A‖)',
  layer: 'layer (input side at top)',
  epoch: 'training epoch',
  cumulativeStep: 'step · layer added',
  cumulativeStepNumber: 'number of interpolated layers',
  tick: 'tick',
  weightNorm: 'weight norm ‖θ‖₂',
  distanceToTarget: 'distance to target ‖θ − target‖₂',
  segmentMaxLoss: 'segment max loss',
  variance: 'weight variance (log scale)',
  u: 'u (units of ‖B − A‖)',
  v: 'v (units of ‖B − A‖)',
  alpha: 'α (filter-normalized direction d)',
  beta: 'β (filter-normalized direction e)',
  layerDistance: 'L2 distance between A and B',
  layerCosine: 'cosine similarity of A and B',
  predictedA: 'class predicted by A',
  predictedB: 'class predicted by B',
  /** PCA axis title, with the share of variance when known. */
  pc: (k: number, ratio?: number): string =>
    ratio === undefined ? `PC${k}` : `PC${k} (${(100 * ratio).toFixed(1)}% of variance)`,
} as const;

export const LEGEND = {
  path: 'path',
  split: 'split',
  order: 'layer order',
  direction: 'direction',
  layer: 'layer',
  series: 'series',
  configuration: 'configuration',
  band: 'band: min–max over samples',
  bandNodes: 'band: min–max over nodes',
  surfaceLoss: (split: Split): string => `${SPLIT_WORD[split]} loss (nats)`,
  surfaceError: (split: Split): string => `${SPLIT_WORD[split]} error`,
  surfaceAccuracy: (split: Split): string => `${SPLIT_WORD[split]} accuracy`,
  examples: (split: Split): string => `${SPLIT_WORD[split]} examples`,
} as const;

export const LABEL = {
  /** Endpoint labels of a path. */
  modeA: 'mode A',
  modeB: 'mode B',
  /** Column header of the layer heatmap: which endpoint the non-interpolated layers come from. */
  restHeaderTitle: 'other layers from',
  restHeader: (rest: 'A' | 'B'): string => `mode ${rest}`,
  /** Panel header of a per-layer facet (a Vega expression over the layer name). */
  layerHeaderExpr: "'layer ' + datum.value",
  orderHeaderTitle: 'layer order',
} as const;

export const TITLE = {
  path: 'Loss along the path',
  layerHeatmap: 'Single-layer interpolation',
  cumulative: 'Cumulative layer interpolation',
  robustness: 'Interpolation direction vs random directions',
  subspace: 'Perturbation along subspaces',
  surface: 'Loss surface on the plane through the modes',
  pca: 'PCA projection of the path',
  llpf: 'Layer-wise path finding',
  layerVariance: 'Per-layer weight variance',
  accuracyBand: 'Accuracy over time',
  directions: 'Loss along filter-normalized random directions',
  compareLayers: 'Layer-wise distance and similarity of two models',
  disagreement: 'Predictions of A against predictions of B',
} as const;

export const REPORT = {
  generator: 'mode-connectivity',
  figureLinks: 'Files:',
  vegaLiteSpec: 'Vega-Lite spec',
  png: 'PNG',
  svg: 'SVG',
  tableOfContents: 'Contents',
} as const;

/** Error messages: what was expected, what was found, where. */
export const ERROR = {
  emptyRows: (chart: string): string =>
    `${chart}: expected at least one row, found none.`,
  noRowsForSplit: (chart: string, split: string, found: readonly string[]): string =>
    `${chart}: no rows for split "${split}"; the rows have splits [${found.join(', ')}].`,
  noEpoch: (chart: string): string =>
    `${chart}: x = "epoch" needs rows with an "epoch" field; none of the rows has one.`,
  noBarrier: (chart: string): string =>
    `${chart}: value = "barrier" needs rows with a "barrier" field; none of the rows has one.`,
  noLayers: (chart: string): string =>
    `${chart}: expected layer rows other than "all", found none.`,
  badOption: (chart: string, option: string, expected: string, found: unknown): string =>
    `${chart}: option "${option}" should be ${expected}, found ${JSON.stringify(found)}.`,
  pcaInput: (expected: string, found: string): string =>
    `projectPca: expected ${expected}, found ${found}.`,
  compile: (detail: string): string => `renderSvg: Vega-Lite could not compile the spec: ${detail}`,
  pngInput: (found: string): string =>
    `renderPng: expected a Vega-Lite spec or an SVG string starting with "<svg", found ${found}.`,
  missingFigures: (reportPath: string, missing: readonly string[]): string =>
    `writeHtmlReport(${reportPath}): referenced figure files do not exist: ${missing.join(', ')}.`,
  scriptInSvg: (file: string): string =>
    `writeHtmlReport: refusing to inline ${file}: the SVG contains a <script> element.`,
  tableRowLength: (caption: string, row: number, expected: number, found: number): string =>
    `writeHtmlReport: table "${caption}" row ${row} has ${found} cells, expected ${expected} (one per column).`,
} as const;
