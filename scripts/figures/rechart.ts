/**
 * Re-renders the committed charts of figures/ with the current chart builders, from the rows each
 * figure folder already holds, without recomputing anything: numbers.json (layer-wise, robustness,
 * subspace, surface, LLPF-origin rows and LLPF ticks), rows.json (simulations), the sweeps'
 * delay-*.json, and — for path rows, which numbers.json does not keep — the data of the committed
 * spec (`*.vl.json`: the builders embed their input rows unchanged as `data.values`). Titles the
 * figure scripts computed from run settings are taken from the committed spec as well.
 *
 *   npx tsx scripts/figures/rechart.ts                    every folder below
 *   npx tsx scripts/figures/rechart.ts paths-lenet5 alignment
 *
 * The builder options follow the calls in each figure script (keep them in step).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { CumulativeRow, LayerRow, LlpfRow, PathRow, ProjectedPoint, RobustnessRow, SubspaceRow, SurfaceRow } from '../../src/rows/rows.js';
import { cumulativeChart, layerHeatmap, llpfChart, pathChart, robustnessChart, subspaceChart, surfaceChart } from '../../src/entry/charts.js';
import { saveChart } from '../../src/charts/render.js';
import { delayChart, simulationCharts, type DelayRow } from '../../src/simulate/outputs.js';
import type { SimulationRows } from '../../src/simulate/metrics.js';
import { lossVersusNorm } from './loss-vs-norm-chart.js';

type Json = Record<string, unknown>;
const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8')) as Json;

/** The input rows a committed spec embeds (`data.values` at its top level). */
function specRows<R>(file: string): R[] {
  const values = (readJson(file)['data'] as { values?: unknown } | undefined)?.values;
  if (!Array.isArray(values)) throw new Error(`${file}: expected a spec with top-level data.values (the chart's rows), found none`);
  return values as R[];
}

/** The committed spec's title text and subtitle, when it has them. */
function specTitle(file: string): { title?: string; subtitle?: string } {
  const title = readJson(file)['title'];
  if (typeof title === 'string') return { title };
  if (typeof title === 'object' && title !== null) {
    const { text, subtitle } = title as { text?: unknown; subtitle?: unknown };
    return { ...(typeof text === 'string' ? { title: text } : {}), ...(typeof subtitle === 'string' ? { subtitle } : {}) };
  }
  return {};
}

/** Charts of one folder by file name (without extension). */
type Charts = (dir: string) => [string, TopLevelSpec][];

function pathsFigure(dir: string): [string, TopLevelSpec][] {
  const rows = specRows<PathRow>(join(dir, 'paths-train-test.vl.json'));
  const numbers = readJson(join(dir, 'numbers.json')) as { llpf: { ticks: LlpfRow[] } };
  const splits = (['train', 'test'] as const).filter((s) => rows.some((r) => r.split === s));
  return [
    ['paths-test', pathChart(rows, { splits: ['test'], metrics: ['loss', 'accuracy'] })],
    ['paths-train-test', pathChart(rows, { splits: [...splits], metrics: ['loss'], logLoss: true })],
    ['llpf-run', llpfChart(numbers.llpf.ticks, { panels: ['loss', 'accuracy', 'distanceToTarget'] })],
  ];
}

function simulationFigure(dir: string): [string, TopLevelSpec][] {
  const rows = readJson(join(dir, 'rows.json')) as unknown as SimulationRows;
  return simulationCharts(rows.ticks, rows.layers, specTitle(join(dir, 'accuracy.vl.json')));
}

function delayFigure(dir: string, name: string): [string, TopLevelSpec][] {
  const file = join(dir, `${name}.json`);
  if (!existsSync(file)) return [];
  const { points } = readJson(file) as { points: DelayRow[] };
  const xTitle = name === 'delay-vs-degree' ? 'degree K of the random regular graph' : 'number of nodes N';
  return [[name, delayChart(points, { xTitle, ...specTitle(join(dir, `${name}.vl.json`)) })]];
}

const FIGURES: Readonly<Record<string, Charts>> = {
  'paths-lenet5': pathsFigure,
  'paths-lenet5-fashion-mnist': pathsFigure,
  'layerwise-lenet5': (dir) => {
    const n = readJson(join(dir, 'numbers.json')) as { layerRows: LayerRow[]; epochRows: LayerRow[]; cumulative: Omit<CumulativeRow, 'split'>[] };
    // numbers.json keeps the cumulative rows of the test split without their split field.
    const cumulative: CumulativeRow[] = n.cumulative.map((r) => ({ ...r, split: 'test' }));
    return [
      ['layer-heatmap', layerHeatmap(n.layerRows, { split: 'test', value: 'loss' })],
      ['cumulative', cumulativeChart(cumulative, { split: 'test' })],
      ['layer-epoch-heatmap', layerHeatmap(n.epochRows, { split: 'test', value: 'barrier', x: 'epoch' })],
    ];
  },
  'robustness-subspace-lenet5': (dir) => {
    const n = readJson(join(dir, 'numbers.json')) as { robustness: RobustnessRow[]; subspace: SubspaceRow[] };
    return [
      ['robustness', robustnessChart(n.robustness, { split: 'test' })],
      ['subspace', subspaceChart(n.subspace, { split: 'test', log: true })],
    ];
  },
  'surface-lenet5': (dir) => {
    const n = readJson(join(dir, 'numbers.json')) as { surface: SurfaceRow[]; projected: ProjectedPoint[] };
    return [
      ['surface-test-loss', surfaceChart(n.surface, n.projected, { split: 'test' })],
      ['surface-test-error', surfaceChart(n.surface, n.projected, { split: 'test', metric: 'error', color: 'linear' })],
    ];
  },
  'llpf-origin-lenet5': (dir) => {
    const n = readJson(join(dir, 'numbers.json')) as { rows: LlpfRow[]; weightDecayReference: { weightDecay: number; weightNorm: number; testLoss: number }[] };
    return [
      ['llpf-origin-ticks', llpfChart(n.rows, { panels: ['loss', 'accuracy', 'weightNorm'] })],
      ['loss-vs-norm', lossVersusNorm(n.rows, n.weightDecayReference)],
    ];
  },
  alignment: (dir) =>
    ['lenet5', 'resnet18-k0.25'].map((name) => [name, pathChart(specRows<PathRow>(join(dir, `${name}.vl.json`)), { splits: ['test'], metrics: ['loss', 'error'] })]),
  architectures: (dir) =>
    ['resnet18', 'cct'].map((name) => {
      const file = join(dir, name, 'paths.vl.json');
      const { title } = specTitle(file);
      return [join(name, 'paths'), pathChart(specRows<PathRow>(file), { splits: ['test'], metrics: ['loss', 'accuracy'], ...(title === undefined ? {} : { title }) })];
    }),
  'vanishing-variance': simulationFigure,
  'vanishing-variance-fmnist': simulationFigure,
  'vanishing-variance-sweep-n10': (dir) => [...delayFigure(dir, 'delay-vs-degree'), ...delayFigure(dir, 'delay-vs-nodes')],
};

const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(FIGURES);
for (const name of names) {
  const charts = FIGURES[name];
  if (charts === undefined) throw new Error(`rechart: unknown figure "${name}"; expected one of ${Object.keys(FIGURES).join(', ')}`);
  const dir = join('figures', name);
  for (const [chart, spec] of charts(dir)) {
    const started = performance.now();
    await saveChart(spec, join(dir, chart));
    console.error(`${join(dir, chart)}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}
