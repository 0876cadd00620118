/**
 * Heatmap of single-layer interpolation (Adilova et al., ICLR 2024, "Layer-wise linear mode
 * connectivity"): one row per layer in `layerIndex` order (input side at the top), one column per t
 * (or per training epoch), one panel per endpoint the other layers come from (rest = A, rest = B).
 * Cells show loss, accuracy, error, or the layer's barrier B_l.
 *
 * @example
 * layerHeatmap(rows, { value: 'barrier', x: 'epoch' }); // layer × epoch barrier map
 */

import type { TopLevelSpec } from 'vega-lite';
import type { LayerRow, Split } from '../rows/rows.js';
import { AXIS, ERROR, LABEL, barrierTitle, metricTitle, type Metric } from './messages.js';
import { estimateTextWidth } from './text-width.js';
import { AXIS_LABEL_FONT_SIZE, DEFAULT_WIDTH, SCHEMA_URL, metricOf, niceTicks, paperConfig, rowsOfSplits, titleProp, uniqueInOrder } from './theme.js';

export interface LayerHeatmapOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Width of one panel in px. Default: 440 / number of panels. */
  readonly width?: number;
  /** Height of one cell row in px. Default 28. */
  readonly rowHeight?: number;
  /** Split shown. Default `'test'`. */
  readonly split?: Split;
  /** Cell value. `barrier` uses the rows' `barrier` field (one value per layer and panel). Default `'loss'`. */
  readonly value?: Metric | 'barrier';
  /** Columns: interpolation coefficient or training epoch (needs `epoch` on the rows). Default `'t'`. */
  readonly x?: 't' | 'epoch';
  /** With x = 't' and rows from several epochs: the epoch shown. Default: the last epoch. */
  readonly epoch?: number;
  /** With x = 'epoch': the t shown (ignored for `barrier`). Default 0.5. */
  readonly t?: number;
  /** Log color scale (values must be > 0). Default `false`. */
  readonly log?: boolean;
  /** Write each cell's value in it. Default: when the cells are wide enough (≥ 36 px). */
  readonly showValues?: boolean;
  /** Sequential color scheme. Default `'viridis'`. */
  readonly scheme?: string;
}

interface Cell {
  readonly layer: string;
  readonly layerIndex: number;
  readonly rest: string;
  readonly x: number;
  readonly value: number;
}

/** Layer × t (or layer × epoch) heatmap of loss, accuracy, error or barrier; panels rest = A | B. */
export function layerHeatmap(rows: readonly LayerRow[], options: LayerHeatmapOptions = {}): TopLevelSpec {
  const split = options.split ?? 'test';
  const valueKind = options.value ?? 'loss';
  const xKind = options.x ?? 't';
  let kept = rowsOfSplits('layerHeatmap', rows, [split]);
  const epochs = uniqueInOrder(kept.flatMap((r) => (r.epoch === undefined ? [] : [r.epoch]))).sort((a, b) => a - b);
  if (xKind === 'epoch' && epochs.length === 0) throw new Error(ERROR.noEpoch('layerHeatmap'));
  if (valueKind === 'barrier' && kept.every((r) => r.barrier === undefined)) throw new Error(ERROR.noBarrier('layerHeatmap'));

  if (xKind === 't' && epochs.length > 0) {
    const epoch = options.epoch ?? epochs[epochs.length - 1];
    kept = kept.filter((r) => r.epoch === epoch);
  }
  if (xKind === 'epoch' && valueKind !== 'barrier') {
    const t = options.t ?? 0.5;
    kept = kept.filter((r) => Math.abs(r.t - t) < 1e-9);
    if (kept.length === 0) throw new Error(ERROR.badOption('layerHeatmap', 't', 'a t present in the rows', t));
  }

  // One cell per (layer, rest, x); a barrier is repeated on each row of its layer, so dedupe by key.
  const cells = new Map<string, Cell>();
  for (const r of kept) {
    const x = xKind === 't' ? r.t : (r.epoch ?? 0);
    if (valueKind === 'barrier' && r.barrier === undefined) continue;
    const value = valueKind === 'barrier' ? snapRoundoff(r.barrier ?? 0) : metricOf(r, valueKind);
    const key = JSON.stringify([r.layer, r.rest, valueKind === 'barrier' && xKind === 't' ? 0 : x]);
    if (!cells.has(key)) {
      cells.set(key, { layer: r.layer, layerIndex: r.layerIndex, rest: LABEL.restHeader(r.rest), x: valueKind === 'barrier' && xKind === 't' ? 0.5 : x, value });
    }
  }
  const values = [...cells.values()];
  const layers = [...new Map(values.map((c) => [c.layer, c.layerIndex])).entries()]
    .sort((a, b) => a[1] - b[1])
    .map(([layer]) => layer);
  const xs = uniqueInOrder(values.map((c) => c.x)).sort((a, b) => a - b);
  const rests = uniqueInOrder(values.map((c) => c.rest)).sort();
  const width = options.width ?? Math.round(DEFAULT_WIDTH / rests.length);
  const height = (options.rowHeight ?? 28) * layers.length;
  const colorTitle = valueKind === 'barrier' ? barrierTitle('loss', split) : metricTitle(valueKind, split);
  const percent = valueKind === 'accuracy' || valueKind === 'error';
  // Values are written in the cells only where they fit (≈ 36 px for '0.123' at 11 px).
  const showValues = options.showValues ?? width / Math.max(1, xs.length) >= 36;
  const xTitle = xKind === 'epoch' ? AXIS.epoch : valueKind === 'barrier' ? null : AXIS.t;
  const format = percent ? '.0%' : '.3~g';

  // Ordinal band axes ignore labelOverlap when rendered headless, so the labels are thinned here:
  // every k-th column, k chosen so that the widest label fits with a gap, the last column always kept.
  const labelFormat = xKind === 't' ? '.2~f' : 'd';
  const labelText = (v: number) => (xKind === 't' ? String(Number(v.toFixed(2))) : String(v));
  const widest = Math.max(...xs.map((v) => estimateTextWidth(labelText(v), AXIS_LABEL_FONT_SIZE)));
  const every = Math.max(1, Math.ceil((widest + 6) / (width / Math.max(1, xs.length))));
  const shown = xs.map((_, i) => i).filter((i) => i % every === 0);
  const last = xs.length - 1;
  if (shown.length > 0 && shown[shown.length - 1] !== last) {
    if (last - (shown[shown.length - 1] as number) < every) shown.pop();
    shown.push(last);
  }
  const labelled = shown.map((i) => xs[i] as number);
  const x = {
    field: 'x',
    type: 'ordinal' as const,
    title: xTitle,
    sort: xs,
    axis: valueKind === 'barrier' && xKind === 't' ? { labels: false, ticks: false } : { labelAngle: 0, values: labelled, format: labelFormat },
  };
  const y = { field: 'layer', type: 'ordinal' as const, title: AXIS.layer, sort: layers };
  const color = {
    field: 'value',
    type: 'quantitative' as const,
    title: colorTitle,
    scale: {
      scheme: options.scheme ?? 'viridis',
      ...(options.log === true ? { type: 'log' as const } : {}),
      // Barriers: the scale spans at least [0, 0.01] nats, so a map of zero barriers reads as zero, not as noise.
      ...(valueKind === 'barrier' && options.log !== true ? { domain: barrierDomain(values.map((c) => c.value)) } : {}),
    },
    legend: {
      format,
      gradientLength: Math.max(120, height - 20),
      orient: 'right' as const,
      direction: 'vertical' as const,
      // Round values between the ends (a gradient labelled only at min and max reads poorly).
      ...(options.log === true ? {} : { values: niceTicks(...legendRange(values.map((c) => c.value), valueKind), 5) }),
    },
  };
  const rect = { mark: { type: 'rect' as const }, encoding: { x, y, color } };
  // Text color flips with the cell's brightness: viridis is dark at the low end.
  const mid = midpoint(values.map((c) => c.value), options.log === true);
  const text = {
    mark: { type: 'text' as const, fontSize: 11 },
    encoding: {
      x,
      y,
      text: { field: 'value', type: 'quantitative' as const, format },
      color: { condition: { test: `datum.value < ${mid}`, value: 'white' }, value: 'black' },
    },
  };

  return {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    data: { values },
    facet: { column: { field: 'rest', type: 'nominal', title: LABEL.restHeaderTitle, sort: rests } },
    spec: { width, height, layer: showValues ? [rect, text] : [rect] },
  };
}

/** Differences of equal losses leave roundoff (~1e-16); below 1e-9 nats a barrier is zero. */
function snapRoundoff(value: number): number {
  return Math.abs(value) < 1e-9 ? 0 : value;
}

function barrierDomain(values: readonly number[]): [number, number] {
  return [Math.min(0, ...values), Math.max(0.01, ...values)];
}

/** The colour scale's extent: the data's, or for barriers the padded domain the scale uses. */
function legendRange(values: readonly number[], kind: Metric | 'barrier'): [number, number] {
  return kind === 'barrier' ? barrierDomain(values) : [Math.min(...values), Math.max(...values)];
}

function midpoint(values: readonly number[], log: boolean): number {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return log && lo > 0 ? Math.sqrt(lo * hi) : (lo + hi) / 2;
}
