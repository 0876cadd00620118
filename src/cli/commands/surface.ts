/**
 * `modeconn surface`: loss and accuracy landscapes from the command line, on the library's
 * landscape functions (src/landscape/):
 *
 *   surface A B C               the plane through three models (evaluatePlane; Garipov et al. 2018)
 *   surface --path CURVE A      the plane through A, a curve's bend and B, the curve projected on it
 *                               (evaluateCurvePlane)
 *   surface A --random 1|2      filter-normalized random directions around A (evaluateRandomDirections;
 *                               Li et al. 2018)
 *
 * Rows out as JSON (`--json`), CSV (`--csv`) and charts (`--chart DIR`), like the other analyses.
 */
import { evaluateCurvePlane, evaluatePlane, type PlaneSurface } from '../../landscape/evaluate-plane.js';
import type { BiasBnHandling } from '../../landscape/filter-normalized-direction.js';
import { evaluateRandomDirections } from '../../landscape/random-directions.js';
import { getArchitecture } from '../../models/registry.js';
import { disposeTensors } from '../../models/tensor-map.js';
import type { Model, TensorMap } from '../../models/types.js';
import type { Curve, CurveKind } from '../../paths/curve.js';
import { assertRowCount, GRID_BOUNDS, gridOption, numberOption, parseArgs } from '../args.js';
import { CHART_OPTIONS, CHART_OPTIONS_HELP, chartRequest, writeAnalysisCharts } from '../chart-output.js';
import { ENDPOINT_DEFAULTS, ENDPOINT_OPTIONS, ENDPOINT_OPTIONS_HELP, loadAnalysis } from '../endpoints.js';
import { attachNegativeValues, gridSizeOption, rangeOption } from '../landscape-options.js';
import { checkOutputPaths } from '../output-paths.js';
import { toCsv, writeTextAtomic } from '../output.js';
import { createProgressBar, type ProgressBar } from '../progress.js';
import { loadSavedPath } from '../saved-paths.js';
import { parseWorkers } from './barrier.js';
import { interruptibleGrid } from '../interrupt.js';
import { parseRecordedArgs } from '../command-checkpoints.js';
import type { Command, CommandContext } from './command.js';

const DEFAULTS = { grid: 21, margin: 0.2, curvePoints: 61, points: 21, range: [-1, 1], seed: 0, biasBn: 'ignore', workers: 'auto' } as const;
const BIAS_BN = ['ignore', 'keep'] as const;

const OPTIONS = {
  ...ENDPOINT_OPTIONS,
  ...CHART_OPTIONS,
  grid: { type: 'string' },
  margin: { type: 'string' },
  path: { type: 'string' },
  bend: { type: 'string' },
  'curve-points': { type: 'string' },
  random: { type: 'string' },
  range: { type: 'string' },
  points: { type: 'string' },
  seed: { type: 'string' },
  'bias-bn': { type: 'string' },
  workers: { type: 'string' },
} as const;

/** Options that belong to one mode only: given in another, they would be silently ignored. */
const PLANE_ONLY = ['grid', 'margin'] as const;
const CURVE_ONLY = ['bend', 'curve-points'] as const;
const RANDOM_ONLY = ['range', 'points', 'seed', 'bias-bn'] as const;

export const surfaceCommand: Command = {
  summary: 'loss surface on the plane through three models or a curve, or along random directions',
  usage: 'A B C | --path CURVE A | A --random 1|2  [options]',
  help: `modeconn surface A B C          loss/accuracy on the plane through three models (Garipov et al. 2018):
                                θ(u, v) = θ_A + u·(θ_B − θ_A) + v·‖θ_B − θ_A‖·v̂, A at (0, 0), B at (1, 0)
modeconn surface --path CURVE A the plane through A, the curve's bend and B, with the curve projected on it
                                (CURVE: a 'modeconn path curve' file; A, a checkpoint of the run, supplies
                                the dataset and preprocessing)
modeconn surface A --random 2   f(α, β) = L(θ_A + α·d + β·e) along filter-normalized random directions d, e
modeconn surface A --random 1   f(α) = L(θ_A + α·d) (Li et al. 2018)
BatchNorm statistics are re-estimated at every point (--no-bn-reset keeps A's).

plane options (A B C, --path):
  --grid N|NxM         grid points along u (and v) (default ${DEFAULTS.grid}; 21 as Garipov et al.)
  --margin M           margin on each side, a fraction of the extent of A, B, C (and the bend and the
                       curve with --path) (default ${DEFAULTS.margin})
  --path FILE          a saved curve (Bezier or PolyChain): the plane through its endpoints and a bend
  --bend I             the interior bend spanning the plane with --path (default: the middle one)
  --curve-points N     points of the curve projected onto the plane (default ${DEFAULTS.curvePoints})
random-direction options (--random):
  --random 1|2         one or two filter-normalized random directions around A
  --range LO:HI        interval of α (and β) (default ${DEFAULTS.range.join(':')})
  --points N           grid points per axis (default ${DEFAULTS.points})
  --seed S             seed of the directions (default ${DEFAULTS.seed})
  --bias-bn ignore|keep
                       biases and BatchNorm/LayerNorm weights in the directions: zeroed (ignore, as
                       their --xignore biasbn; default) or copied from A (keep)
common options:
  --workers N|auto     evaluate N points at once on worker threads (default ${DEFAULTS.workers}: one per
                       core on wasm/cpu; 1: this thread only; the rows are the same for any N)
${CHART_OPTIONS_HELP}
${ENDPOINT_OPTIONS_HELP}`,
  defaults: {
    '': {
      ...ENDPOINT_DEFAULTS,
      grid: DEFAULTS.grid,
      margin: DEFAULTS.margin,
      'curve-points': DEFAULTS.curvePoints,
      range: DEFAULTS.range.join(':'),
      points: DEFAULTS.points,
      seed: DEFAULTS.seed,
      workers: DEFAULTS.workers,
    },
  },
  // A B C, or A after --path CURVE or with --random (the curve file is a path, not a checkpoint).
  checkpointArguments(args) {
    return parseRecordedArgs(attachNegativeValues(args, ['--range']), OPTIONS).positionals;
  },
  async run(args, context) {
    const { values, positionals } = parseArgs({ args: attachNegativeValues(args, ['--range']), allowPositionals: true, strict: true, options: OPTIONS });
    const mode = values.random !== undefined ? 'random' : values.path !== undefined ? 'curve' : 'plane';
    const given = (names: readonly string[]): string[] => names.filter((n) => (values as Record<string, unknown>)[n] !== undefined);
    const misplaced = [
      ...(mode === 'random' ? given([...PLANE_ONLY, ...CURVE_ONLY]) : given(RANDOM_ONLY)),
      ...(mode === 'plane' ? given(CURVE_ONLY) : []),
    ];
    if (mode === 'random' && values.path !== undefined) throw new Error('--random and --path are two kinds of surface; give one');
    if (misplaced.length > 0) {
      const belongs = (n: string): string => ((RANDOM_ONLY as readonly string[]).includes(n) ? '--random' : (CURVE_ONLY as readonly string[]).includes(n) ? '--path' : '"surface A B C" and --path');
      const modeName = mode === 'random' ? '--random' : mode === 'curve' ? '--path' : '"surface A B C"';
      throw new Error(`${misplaced.map((n) => `--${n} goes with ${belongs(n)}`).join('; ')}, not with ${modeName}`);
    }
    const expected = mode === 'plane' ? 3 : 1;
    if (positionals.length !== expected) {
      const what = mode === 'plane' ? 'three checkpoints A B C' : mode === 'curve' ? 'one checkpoint A after --path FILE (for the dataset and preprocessing)' : 'one checkpoint A with --random';
      throw new Error(`expected ${what}, found ${positionals.length}${positionals.length > 0 ? ` (${positionals.join(' ')})` : ''}`);
    }
    const splitCount = values.split === 'both' ? 2 : 1;
    const grid = gridSizeOption(values.grid, 'grid', splitCount) ?? [DEFAULTS.grid, DEFAULTS.grid];
    const margin = numberOption(values.margin, 'margin', { min: 0 }) ?? DEFAULTS.margin;
    const bend = numberOption(values.bend, 'bend', { integer: true, min: 1 });
    const curvePoints = numberOption(values['curve-points'], 'curve-points', { integer: true, min: 2, max: GRID_BOUNDS.points.max }) ?? DEFAULTS.curvePoints;
    const dimensions = values.random === undefined ? undefined : numberOption(values.random, 'random', { integer: true, min: 1, max: 2 });
    const range = rangeOption(values.range, 'range') ?? [...DEFAULTS.range];
    const points = gridOption(values.points, 'points', 2) ?? DEFAULTS.points;
    assertRowCount((dimensions === 2 ? points * points : points) * splitCount, `--points ${points}${dimensions === 2 ? ' per axis' : ''}`);
    const seed = numberOption(values.seed, 'seed', { integer: true }) ?? DEFAULTS.seed;
    const biasBn = values['bias-bn'] ?? DEFAULTS.biasBn;
    if (!(BIAS_BN as readonly string[]).includes(biasBn)) throw new Error(`--bias-bn: expected ${BIAS_BN.join(' or ')}, found "${biasBn}"`);
    if (values.csv !== undefined) await checkOutputPaths([{ path: values.csv, kind: 'file', option: '--csv' }]);
    const charts = await chartRequest(values);
    await context.initBackend();
    const workers = parseWorkers(values.workers ?? DEFAULTS.workers);
    // Ctrl-C stops the grid at its next point: exit 130, nothing written.
    return interruptibleGrid('surface', async (signal) => {
      const analysis = await loadAnalysis(positionals, values);
      try {
        const a = analysis.models[0] as Model;
        const architecture = getArchitecture(a.architecture);
        const progress = bar(context, mode === 'random' ? `surface --random ${dimensions}` : 'surface');
        const common = { splits: analysis.splits, bnReset: analysis.bnReset, workers, progress: progress.progress, signal };
        let output: { kind: 'surface' | 'directions'; rows: object[]; [key: string]: unknown };
        let summary: string[];
        if (mode === 'random') {
          const rows = await evaluateRandomDirections(architecture, a, analysis.data, { ...common, dimensions: dimensions as 1 | 2, range, points, seed, biasBn: biasBn as BiasBnHandling });
          output = { kind: 'directions', dimensions, range, seed, biasBn, rows };
          summary = directionsSummary(rows, dimensions as 1 | 2);
        } else {
          const planeOptions = { ...common, grid, margin };
          let surface: PlaneSurface;
          if (mode === 'curve') {
            surface = await withCurve(values.path as string, a, (curve) =>
              evaluateCurvePlane(architecture, curve, analysis.data, { ...planeOptions, points: curvePoints, ...(bend === undefined ? {} : { bend }) }),
            );
          } else {
            surface = await evaluatePlane(architecture, a.config, [a, analysis.models[1] as Model, analysis.models[2] as Model], analysis.data, planeOptions);
          }
          output = { kind: 'surface', ...surface };
          summary = planeSummary(surface);
        }
        progress.done();
        if (values.csv !== undefined) await writeTextAtomic(values.csv, toCsv(output.rows));
        const chartFiles = charts === undefined ? [] : await writeAnalysisCharts(output, charts, { name: output.kind, commandLine: ['surface', ...args], checkpoints: positionals });
        if (values.json) console.log(JSON.stringify(output));
        else for (const line of summary) console.log(line);
        if (charts !== undefined && !values.json) console.log(`charts: wrote ${chartFiles.join(', ')} to ${charts.out}`);
        return 0;
      } finally {
        analysis.dispose();
      }
    });
  },
};

/**
 * Runs `work` on the curve saved in `file` (checked against `template`), then frees it. The file
 * must hold a curve: the plane goes through its first, last and an interior bend.
 */
async function withCurve<T>(file: string, template: Model, work: (curve: Curve) => Promise<T>): Promise<T> {
  const path = await loadSavedPath(file, template);
  try {
    const content = path.content?.();
    if (content?.method !== 'curve') {
      if (content !== undefined) for (const state of content.states.values()) disposeTensors(new Map(state.params), new Map(state.buffers));
      throw new Error(`--path: ${file} holds a path of kind "${path.kind}"; surface --path takes a curve ('modeconn path curve' output), whose plane goes through its endpoints and a bend`);
    }
    const states = [...content.states.keys()].map((_, i) => content.states.get(`bend${i}`));
    try {
      const bends = states.map((s, i) => {
        if (s === undefined) throw new Error(`--path: ${file} lacks bend ${i}`);
        return s.params;
      });
      const first = states[0];
      const last = states.at(-1);
      const curve: Curve = {
        kind: content.fields['kind'] as CurveKind,
        architecture: path.architecture,
        config: path.config,
        bends,
        trainable: content.fields['trainable'] as boolean[],
        endpointBuffers: [(first?.buffers ?? new Map()) as TensorMap, (last?.buffers ?? new Map()) as TensorMap],
      };
      if (bends.length < 3) throw new Error(`--path: ${file} is a curve of ${bends.length} bends; a plane needs an interior bend (at least 3 bends)`);
      return await work(curve);
    } finally {
      for (const state of content.states.values()) disposeTensors(new Map(state.params), new Map(state.buffers));
    }
  } finally {
    path.dispose();
  }
}

function bar(context: CommandContext, title: string): ProgressBar {
  if (context.quiet) return { update: () => undefined, done: () => undefined, progress: () => undefined };
  return createProgressBar(title);
}

const fmt = (x: number): string => x.toFixed(4);

/** Lowest loss of each split and where. */
function lowest<R extends { split: string; loss: number; accuracy: number }>(rows: readonly R[], where: (r: R) => string): string[] {
  const splits = [...new Set(rows.map((r) => r.split))];
  return splits.map((split) => {
    const best = rows.filter((r) => r.split === split).reduce((m, r) => (r.loss < m.loss ? r : m));
    return `${split}: lowest loss ${fmt(best.loss)} (accuracy ${(100 * best.accuracy).toFixed(2)}%) at ${where(best)}`;
  });
}

function planeSummary(surface: PlaneSurface): string[] {
  const modes = surface.points.filter((p) => p.series === 'mode').map((p) => `${p.label} (${fmt(p.u)}, ${fmt(p.v)})`);
  const [u0, u1, v0, v1] = [surface.u[0], surface.u.at(-1), surface.v[0], surface.v.at(-1)] as number[];
  return [
    `plane: ${surface.u.length}×${surface.v.length} grid, u ∈ [${fmt(u0 as number)}, ${fmt(u1 as number)}], v ∈ [${fmt(v0 as number)}, ${fmt(v1 as number)}] in units of ‖θ_B − θ_A‖ = ${fmt(surface.scale)}`,
    `models: ${modes.join(', ')}`,
    ...lowest(surface.rows, (r) => `(u, v) = (${fmt(r.u)}, ${fmt(r.v)})`),
  ];
}

function directionsSummary(rows: readonly { alpha: number; beta?: number; split: string; loss: number; accuracy: number }[], dimensions: 1 | 2): string[] {
  const atOrigin = rows.filter((r) => r.alpha === 0 && (r.beta ?? 0) === 0).map((r) => `${r.split} loss ${fmt(r.loss)}`);
  return [
    `${dimensions}-D filter-normalized random directions: ${rows.length} rows`,
    ...(atOrigin.length > 0 ? [`at the model (α = 0${dimensions === 2 ? ', β = 0' : ''}): ${atOrigin.join(', ')}`] : []),
    ...lowest(rows, (r) => (dimensions === 1 ? `α = ${fmt(r.alpha)}` : `(α, β) = (${fmt(r.alpha)}, ${fmt(r.beta ?? 0)})`)),
  ];
}
