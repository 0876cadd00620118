/**
 * Files a set of simulation runs leaves in its output folder, shared by `modeconn simulate` and the
 * figure script:
 *
 *   rows.json                 { runs: [{ config, delay }], ticks, layers, nodes } (all runs)
 *   ticks.csv, layers.csv, nodes.csv
 *   accuracy.{vl.json,svg,png}        accuracy vs tick, one line + min–max band per run
 *   layer-variance.{vl.json,svg,png}  per-layer weight variance vs tick (log), one panel per run
 *
 * `delayChart` draws plateau delay against a swept quantity (degree, N), one line per rule.
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { accuracyBandChart } from '../charts/accuracy-band-chart.js';
import { layerVarianceChart } from '../charts/layer-variance-chart.js';
import { LEGEND } from '../charts/messages.js';
import { saveChart } from '../charts/render.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, SCHEMA_URL, paperConfig, requireRows, titleProp } from '../charts/theme.js';
import { accuracyBandRows, plateauDelay, ticksToAccuracy, toCsv, type SimulationRows, type TickRow } from './metrics.js';
import type { SimulationConfig } from './simulator.js';
import type { LayerStatRow } from '../rows/rows.js';

export interface SimulationRun {
  readonly config: SimulationConfig;
  readonly rows: SimulationRows;
}

/** Writes rows (JSON, CSV) and charts of `runs` into `dir`; returns the paths written. */
export async function writeSimulationOutputs(dir: string, runs: readonly SimulationRun[], options: { readonly title?: string } = {}): Promise<string[]> {
  const ticks = runs.flatMap((r) => r.rows.ticks);
  const layers = runs.flatMap((r) => r.rows.layers);
  const nodes = runs.flatMap((r) => r.rows.nodes);
  const summary = { runs: runs.map((r) => ({ config: r.config, delay: plateauDelay(r.rows.ticks) })), ticks, layers, nodes };
  const written: string[] = [];
  const write = async (name: string, content: string) => {
    const path = join(dir, name);
    await writeFileAtomic(path, content);
    written.push(path);
  };
  await write('rows.json', `${JSON.stringify(summary, null, 1)}\n`);
  await write('ticks.csv', toCsv(ticks));
  await write('layers.csv', toCsv(layers));
  await write('nodes.csv', toCsv(nodes));
  for (const [name, spec] of simulationCharts(ticks, layers, options)) written.push(...(await saveChart(spec, join(dir, name))));
  return written;
}

/** The charts of a simulation's rows, by file name: `accuracy` (mean and min–max band over nodes) and `layer-variance`; none for empty rows. */
export function simulationCharts(ticks: readonly TickRow[], layers: readonly LayerStatRow[], options: { readonly title?: string } = {}): [string, TopLevelSpec][] {
  const charts: [string, TopLevelSpec][] = [];
  if (ticks.length > 0) charts.push(['accuracy', accuracyBandChart(accuracyBandRows(ticks), { ...titleProp(options.title), bandTitle: LEGEND.bandNodes })]);
  if (layers.length > 0) charts.push(['layer-variance', layerVarianceChart(layers)]);
  return charts;
}

/** One point of a sweep: ticks until a run's mean accuracy reached `level`, at a value of the swept quantity. */
export interface DelayRow {
  /** Line label, e.g. `plain`, `corrected`. */
  readonly series: string;
  /** The swept quantity (degree, number of nodes). */
  readonly x: number;
  /** Ticks until the mean accuracy reached `level`, or the run length when it never did (`reached` false). */
  readonly delay: number;
  readonly reached: boolean;
  readonly level: number;
  /** The run's seed, when a sweep repeats each setting with several seeds. */
  readonly seed?: number;
}

/** The delay row of one run: first tick at `level`, censored at the last recorded tick. */
export function delayRow(series: string, x: number, ticks: readonly TickRow[], level: number, seed?: number): DelayRow {
  const reached = ticksToAccuracy(ticks, level);
  return { series, x, delay: reached ?? Math.max(0, ...ticks.map((r) => r.tick)), reached: reached !== null, level, ...(seed === undefined ? {} : { seed }) };
}

/**
 * Plateau delay vs the swept quantity, one line per series through the mean over the rows at each x
 * (several seeds give several rows); one point per row: filled points reached the level, open points
 * did not within the run (plotted at the run length: the delay is at least that; the caller's title
 * or caption should say so).
 */
export function delayChart(rows: readonly DelayRow[], options: { readonly xTitle?: string; readonly title?: string; readonly subtitle?: string } = {}): TopLevelSpec {
  requireRows('delayChart', rows);
  const level = rows[0]?.level ?? 0.5;
  const color = { field: 'series', type: 'nominal', title: 'averaging', legend: { symbolType: 'stroke', symbolStrokeWidth: 2 } };
  // The x values are the swept settings themselves (K = 2, 4, …): a domain ending at them would put
  // the first and last points on the axes, half cut off; 5% of the span (at least ½) on each side.
  const xs = rows.map((r) => r.x);
  const [xLo, xHi] = [Math.min(...xs), Math.max(...xs)];
  const xPad = Math.max(0.5, 0.05 * (xHi - xLo));
  const x = {
    field: 'x',
    type: 'quantitative',
    title: options.xTitle ?? 'degree',
    scale: { domain: [xLo - xPad, xHi + xPad], nice: false, zero: false },
    // Labelled at the swept settings: round ticks alone left N = 5 of 5, 10, 20 unlabelled.
    axis: { values: [...new Set(xs)].sort((a, b) => a - b), format: 'd' },
  };
  const y = { field: 'delay', type: 'quantitative', title: `ticks to ${Math.round(level * 100)}% mean test accuracy` };
  return {
    $schema: SCHEMA_URL,
    ...(options.subtitle === undefined ? titleProp(options.title) : { title: { text: options.title ?? '', subtitle: options.subtitle } }),
    config: paperConfig(),
    width: DEFAULT_WIDTH,
    height: DEFAULT_HEIGHT,
    data: { values: rows.map((r) => ({ ...r })) },
    layer: [
      { mark: { type: 'line' }, encoding: { x, y: { ...y, aggregate: 'mean' }, color } },
      { transform: [{ filter: 'datum.reached' }], mark: { type: 'point', size: 70, filled: true }, encoding: { x, y, color } },
      { transform: [{ filter: '!datum.reached' }], mark: { type: 'point', size: 70, strokeWidth: 2, filled: false }, encoding: { x, y, color } },
    ],
  } as TopLevelSpec;
}
