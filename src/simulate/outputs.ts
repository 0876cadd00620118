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
import { saveChart, writeAtomically } from '../charts/render.js';
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, SCHEMA_URL, paperConfig, requireRows, titleProp } from '../charts/theme.js';
import { accuracyBandRows, plateauDelay, toCsv, type PlateauDelay, type SimulationRows } from './metrics.js';
import type { SimulationConfig } from './simulator.js';

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
    await writeAtomically(path, content);
    written.push(path);
  };
  await write('rows.json', `${JSON.stringify(summary, null, 1)}\n`);
  await write('ticks.csv', toCsv(ticks));
  await write('layers.csv', toCsv(layers));
  await write('nodes.csv', toCsv(nodes));
  if (ticks.length > 0) written.push(...(await saveChart(accuracyBandChart(accuracyBandRows(ticks), titleProp(options.title)), join(dir, 'accuracy'))));
  if (layers.length > 0) written.push(...(await saveChart(layerVarianceChart(layers), join(dir, 'layer-variance'))));
  return written;
}

/** One point of a sweep: the plateau delay of a run at a value of the swept quantity. */
export interface DelayRow {
  /** Line label, e.g. `plain`, `corrected`. */
  readonly series: string;
  /** The swept quantity (degree, number of nodes). */
  readonly x: number;
  /** Ticks until mean accuracy reached `level`; null when it never did within the run. */
  readonly delay: number | null;
  readonly level: number;
}

/** Delay rows from runs' plateau delays (level 0.5 or 0.8). */
export function delayRows(points: readonly { readonly series: string; readonly x: number; readonly delay: PlateauDelay }[], level: 0.5 | 0.8): DelayRow[] {
  return points.map((p) => ({ series: p.series, x: p.x, delay: level === 0.5 ? p.delay.tick50 : p.delay.tick80, level }));
}

/** Plateau delay vs the swept quantity, one line per series; runs that never reached the level are left out. */
export function delayChart(rows: readonly DelayRow[], options: { readonly xTitle?: string; readonly title?: string } = {}): TopLevelSpec {
  requireRows('delayChart', rows);
  const level = rows[0]?.level ?? 0.5;
  return {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    width: DEFAULT_WIDTH,
    height: DEFAULT_HEIGHT,
    data: { values: rows.filter((r) => r.delay !== null).map((r) => ({ ...r })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: options.xTitle ?? 'degree' },
      y: { field: 'delay', type: 'quantitative', title: `ticks to ${Math.round(level * 100)}% mean test accuracy` },
      color: { field: 'series', type: 'nominal', title: 'averaging', legend: { symbolType: 'stroke', symbolStrokeWidth: 2 } },
    },
  };
}
