/**
 * Rows → charts: recognise which analysis wrote a rows file and draw it with the matching builder.
 *
 * Pipeline (the `modeconn chart` command, and later every analysis command's `--chart DIR`, are
 * thin wrappers around it):
 *  1. `unwrapRows(json)` finds the rows in what a command wrote: a bare array (an LLPF run's
 *     `rows.json`), the `{ rows, … }` object of `--json`, or the simulator's `{ runs, ticks, layers }`;
 *  2. `detectRowsKind(json)` names the kind, from a `kind` field when present, else from the
 *     fields of the rows (each kind's required fields below), and checks every row has them;
 *  3. `chartRows(json, kind, options)` returns the named Vega-Lite specs (one per chart).
 *
 * Kinds and the fields that identify them:
 *   path        path, t, split, loss, accuracy                 → pathChart
 *   layerwise   layer, layerIndex, rest, t, loss, accuracy     → layerHeatmap
 *   cumulative  order, step, addedLayer, barrier               → cumulativeChart
 *   robustness  layer, direction, sample, t, loss              → robustnessChart
 *   subspace    direction, sample, magnitude, loss             → subspaceChart
 *   surface     u, v, split, loss, accuracy                    → surfaceChart (with `points` if given)
 *   directions  alpha, split, loss, accuracy (beta in 2-D)     → directionsChart
 *   compare     layer, layerIndex, distance, cosine            → compareLayersChart, disagreementChart
 *               (the `disagreement` cells of `modeconn compare --json`)
 *   llpf        tick, weightNorm, distanceToTarget, loss       → llpfChart
 *   simulator   { ticks: TickRow[], layers: LayerStatRow[] }   → accuracyBandChart, layerVarianceChart
 */

import type { TopLevelSpec } from 'vega-lite';
import type { DirectionRow, DisagreementRow, LayerComparisonRow } from '../landscape/rows.js';
import type { CumulativeRow, LayerRow, LayerStatRow, LlpfRow, PathRow, ProjectedPoint, RobustnessRow, SubspaceRow, SurfaceRow } from '../rows/rows.js';
import { accuracyBandRows, type TickRow } from '../simulate/metrics.js';
import { accuracyBandChart } from './accuracy-band-chart.js';
import { compareLayersChart, disagreementChart } from './compare-chart.js';
import { directionsChart } from './directions-chart.js';
import { cumulativeChart } from './cumulative-chart.js';
import { layerHeatmap } from './layer-heatmap.js';
import { layerVarianceChart } from './layer-variance-chart.js';
import { llpfChart } from './llpf-chart.js';
import { pathChart } from './path-chart.js';
import { robustnessChart } from './robustness-chart.js';
import { subspaceChart } from './subspace-chart.js';
import { surfaceChart } from './surface-chart.js';

export const ROWS_KINDS = ['path', 'layerwise', 'cumulative', 'robustness', 'subspace', 'surface', 'directions', 'compare', 'llpf', 'simulator'] as const;
export type RowsKind = (typeof ROWS_KINDS)[number];

/** Fields every row of a kind must have (simulator: those of its `ticks` rows). */
export const KIND_FIELDS: Readonly<Record<RowsKind, readonly string[]>> = {
  path: ['path', 't', 'split', 'loss', 'accuracy'],
  layerwise: ['layer', 'layerIndex', 'rest', 't', 'split', 'loss', 'accuracy'],
  cumulative: ['order', 'step', 'addedLayer', 'split', 'barrier'],
  robustness: ['layer', 'direction', 'sample', 't', 'split', 'loss', 'accuracy'],
  subspace: ['direction', 'sample', 'magnitude', 'split', 'loss', 'accuracy'],
  surface: ['u', 'v', 'split', 'loss', 'accuracy'],
  directions: ['alpha', 'split', 'loss', 'accuracy'],
  compare: ['layer', 'layerIndex', 'distance', 'cosine'],
  llpf: ['tick', 'split', 'loss', 'accuracy', 'weightNorm', 'distanceToTarget'],
  simulator: ['series', 'tick', 'accuracyMean', 'accuracyMin', 'accuracyMax'],
};

/** Kinds tried in this order: the more specific field sets first (robustness rows also have `layer`, `t`). */
const DETECTION_ORDER: readonly RowsKind[] = ['simulator', 'llpf', 'cumulative', 'robustness', 'subspace', 'compare', 'layerwise', 'directions', 'surface', 'path'];

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The rows of a rows file: the array itself, its `rows`, or (simulator) its `ticks`. */
export function unwrapRows(json: unknown): readonly unknown[] | undefined {
  if (Array.isArray(json)) return json as unknown[];
  if (!isObject(json)) return undefined;
  if (Array.isArray(json['ticks']) && Array.isArray(json['layers']) && !Array.isArray(json['rows'])) return json['ticks'] as unknown[];
  if (Array.isArray(json['rows'])) return json['rows'] as unknown[];
  return undefined;
}

function describeShape(json: unknown, rows: readonly unknown[] | undefined): string {
  if (rows === undefined) return isObject(json) ? `an object with fields ${Object.keys(json).join(', ') || '(none)'} and no rows array` : `a ${json === null ? 'null' : typeof json}`;
  if (rows.length === 0) return 'no rows';
  const first = rows[0];
  return isObject(first) ? `rows with fields ${Object.keys(first).join(', ')}` : `rows that are not objects (the first is ${JSON.stringify(first)?.slice(0, 40)})`;
}

function kindsHelp(): string {
  return ROWS_KINDS.map((k) => `${k} (${KIND_FIELDS[k].join(', ')})`).join('; ');
}

/** The first row (index) of `rows` that lacks one of `fields`, or -1. */
function firstRowLacking(rows: readonly unknown[], fields: readonly string[]): { index: number; field: string } | undefined {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const field = isObject(row) ? fields.find((f) => !(f in row)) : fields[0];
    if (field !== undefined) return { index: i, field };
  }
  return undefined;
}

/**
 * The kind of a rows file's content. `source` names the file in errors. A `kind` field (string,
 * one of {@link ROWS_KINDS}) wins over the fields; otherwise the first kind whose fields the first
 * row has. Throws, naming `source`, what it found and every kind with its fields, when none fits,
 * and when a later row lacks a field of the kind.
 */
export function detectRowsKind(json: unknown, source: string): RowsKind {
  const rows = unwrapRows(json);
  const declared = isObject(json) ? json['kind'] : undefined;
  if (typeof declared === 'string' && !(ROWS_KINDS as readonly string[]).includes(declared)) {
    throw new Error(`${source}: kind "${declared}" is not one the charts understand; expected one of ${ROWS_KINDS.join(', ')}`);
  }
  const first = rows?.[0];
  const kind =
    typeof declared === 'string'
      ? (declared as RowsKind)
      : isObject(first)
        ? DETECTION_ORDER.find((k) => KIND_FIELDS[k].every((f) => f in first))
        : undefined;
  if (rows === undefined || rows.length === 0 || kind === undefined) {
    throw new Error(`${source}: found ${describeShape(json, rows)}; expected rows of one of these kinds (with these fields): ${kindsHelp()}`);
  }
  const lacking = firstRowLacking(rows, KIND_FIELDS[kind]);
  if (lacking !== undefined) throw new Error(`${source}: row ${lacking.index} of ${kind} rows lacks the field "${lacking.field}" (expected ${KIND_FIELDS[kind].join(', ')})`);
  return kind;
}

export interface ChartRowsOptions {
  /** Chart title (each chart of a kind with several gets it too). Default: none. */
  readonly title?: string;
}

/** One chart drawn from a rows file: a file-name stem (e.g. `path`) and its spec. */
export interface NamedSpec {
  readonly name: string;
  readonly spec: TopLevelSpec;
}

const splitsOf = (rows: readonly { split: string }[]): ('train' | 'test')[] =>
  (['train', 'test'] as const).filter((s) => rows.some((r) => r.split === s));

/**
 * The charts of a rows file's content (`json` as read, see {@link unwrapRows}) of kind `kind`.
 * Builders show the test split when present (train otherwise); path and LLPF charts show every
 * split the rows have.
 */
export function chartRows(json: unknown, kind: RowsKind, options: ChartRowsOptions = {}): NamedSpec[] {
  const rows = unwrapRows(json) ?? [];
  const title = options.title === undefined ? {} : { title: options.title };
  const splits = splitsOf(rows as { split: string }[]);
  const split = splits.includes('test') ? 'test' : 'train';
  switch (kind) {
    case 'path':
      return [{ name: 'path', spec: pathChart(rows as PathRow[], { ...title, splits }) }];
    case 'layerwise': {
      const layerRows = rows as LayerRow[];
      const byEpoch = new Set(layerRows.map((r) => r.epoch)).size > 1;
      return [{ name: 'layerwise', spec: layerHeatmap(layerRows, { ...title, split, ...(byEpoch ? { x: 'epoch' as const } : {}) }) }];
    }
    case 'cumulative':
      return [{ name: 'cumulative', spec: cumulativeChart(rows as CumulativeRow[], { ...title, split }) }];
    case 'robustness':
      return [{ name: 'robustness', spec: robustnessChart(rows as RobustnessRow[], { ...title, split }) }];
    case 'subspace':
      return [{ name: 'subspace', spec: subspaceChart(rows as SubspaceRow[], { ...title, split }) }];
    case 'surface': {
      const points = isObject(json) && Array.isArray(json['points']) ? (json['points'] as ProjectedPoint[]) : [];
      return [{ name: 'surface', spec: surfaceChart(rows as SurfaceRow[], points, { ...title, split }) }];
    }
    case 'directions': {
      const directionRows = rows as DirectionRow[];
      return [{ name: 'directions', spec: directionsChart(directionRows, { ...title, splits, split }) }];
    }
    case 'compare': {
      const charts: NamedSpec[] = [{ name: 'layers', spec: compareLayersChart(rows as LayerComparisonRow[], title) }];
      const cells = isObject(json) && Array.isArray(json['disagreement']) ? (json['disagreement'] as DisagreementRow[]) : [];
      const cellSplits = splitsOf(cells);
      if (cellSplits.length > 0) charts.push({ name: 'disagreement', spec: disagreementChart(cells, { ...title, split: cellSplits.includes('test') ? 'test' : 'train' }) });
      return charts;
    }
    case 'llpf':
      return [{ name: 'llpf', spec: llpfChart(rows as LlpfRow[], { ...title, splits }) }];
    case 'simulator': {
      const bands = accuracyBandRows(rows as TickRow[]);
      const layers = isObject(json) && Array.isArray(json['layers']) ? (json['layers'] as LayerStatRow[]) : [];
      const charts: NamedSpec[] = [{ name: 'accuracy', spec: accuracyBandChart(bands, title) }];
      if (layers.length > 0) charts.push({ name: 'layer-variance', spec: layerVarianceChart(layers, title) });
      return charts;
    }
  }
}
