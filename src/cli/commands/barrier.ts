import * as tf from '@tensorflow/tfjs-core';
import { cumulativeBarriers, layerwiseBarriers, layerwiseBarriersByEpoch } from '../../barriers/layerwise.js';
import { evaluatePath, linearPath } from '../../paths/linear-path.js';
import { barrierMetrics, type BarrierMetrics } from '../../barriers/metrics.js';
import { layerRobustness } from '../../barriers/robustness.js';
import { subspacePerturbations } from '../../barriers/subspace.js';
import { autoWorkerCount } from '../../evaluate/worker-pool.js';
import type { ParameterPath } from '../../paths/path.js';
import type { Model } from '../../models/types.js';
import type { PathRow } from '../../rows/rows.js';
import { loadSavedPath } from '../saved-paths.js';
import { assertRowCount, gridOption, numberOption, parseArgs, required } from '../args.js';
import { checkOutputPaths } from '../output-paths.js';
import { ENDPOINT_DEFAULTS, ENDPOINT_OPTIONS, ENDPOINT_OPTIONS_HELP, loadAnalysis } from '../endpoints.js';
import { ERROR_BARRIER_UNIT, formatBarrierMetrics, printRowsTable, toCsv, writeTextAtomic } from '../output.js';
import { createProgressBar, type ProgressBar } from '../progress.js';
import { CHART_OPTIONS, CHART_OPTIONS_HELP, chartRequest, writeAnalysisCharts } from '../chart-output.js';
import { attachNegativeValues, rangeOption } from '../landscape-options.js';
import { interpolationGrid, rowsWithinEndpoints } from '../../landscape/interpolation-grid.js';
import { interruptibleGrid } from '../interrupt.js';
import { listValue, parseRecordedArgs } from '../command-checkpoints.js';
import type { Command, CommandContext, SubcommandHelp } from './command.js';

const KINDS = ['linear', 'layerwise', 'cumulative', 'robustness', 'subspace'] as const;
type Kind = (typeof KINDS)[number];

/** The defaults the code below uses, shown in the help from here. */
const DEFAULTS = { points: 11, samples: 5, seed: 0, workers: 'auto' } as const;

const OPTION_HELP = {
  points: `  --points N           t grid size (default ${DEFAULTS.points}; 61 as in Garipov et al.; with --range one t every 0.1)`,
  range: `  --range LO:HI        t from LO to HI, beyond the endpoints (e.g. -0.5:1.5, Goodfellow et al. 2015);
                       the barrier metrics use the t in [0, 1] and need 0 and 1 on the grid`,
  layers: '  --layers L1,L2       layer groups (default all)',
  samples: `  --samples N          random directions (default ${DEFAULTS.samples})`,
  seed: `  --seed S             seed of the random orders and directions (default ${DEFAULTS.seed})`,
  workers: `  --workers N|auto     evaluate N points at once on worker threads (default ${DEFAULTS.workers}: one per
                       core on wasm/cpu; 1: this thread only; the rows are the same for any N)`,
} as const;

const SUBCOMMANDS: Readonly<Record<Kind, Omit<SubcommandHelp, 'help'> & { readonly options: readonly (keyof typeof OPTION_HELP)[]; readonly extra?: string }>> = {
  linear: {
    summary: 'loss/accuracy along (1−t)θ_A + tθ_B (or a saved path) and the barrier metrics',
    usage: 'A B [options] | --path FILE A [options]',
    options: ['points', 'range', 'workers'],
    extra: `  --path FILE          evaluate a saved path (curve or AutoNEB chain file, LLPF run folder) instead of
                       the line between A and B; A (a checkpoint of the run) supplies the dataset and
                       preprocessing`,
  },
  layerwise: {
    summary: 'interpolate one layer group at a time, the rest from A and from B',
    usage: 'A B [options] | A B --checkpoints-a A1,A2,… --checkpoints-b B1,B2,… [options]',
    options: ['points', 'layers', 'workers'],
    extra: `  --checkpoints-a LIST, --checkpoints-b LIST
                       per epoch: comma-separated checkpoints of runs A and B at the same epochs (rows
                       get an epoch column, taken from the checkpoints' metadata)`,
  },
  cumulative: {
    summary: 'add layer groups one at a time (input side, output side, random order)',
    usage: 'A B [options]',
    options: ['seed', 'workers'],
  },
  robustness: {
    summary: 'move one layer of A along random directions of norm ‖θ_A^l − θ_B^l‖',
    usage: 'A B [options]',
    options: ['points', 'layers', 'samples', 'seed', 'workers'],
  },
  subspace: {
    summary: 'interpolation vs training-subspace vs null-space directions',
    usage: 'A B --checkpoints C1,C2,… [options]',
    options: ['samples', 'seed', 'workers'],
    extra: '  --checkpoints LIST   comma-separated training checkpoints of both runs (required)',
  },
};

function subcommandHelp(kind: Kind): SubcommandHelp {
  const sub = SUBCOMMANDS[kind];
  const lines = [...sub.options.map((o) => OPTION_HELP[o]), ...(sub.extra === undefined ? [] : [sub.extra])];
  return { summary: sub.summary, usage: sub.usage, help: `options:\n${lines.join('\n')}\n${CHART_OPTIONS_HELP}\n${ENDPOINT_OPTIONS_HELP}\n\n${ERROR_BARRIER_UNIT}` };
}

const OPTIONS = {
  ...ENDPOINT_OPTIONS,
  points: { type: 'string' },
  layers: { type: 'string' },
  samples: { type: 'string' },
  seed: { type: 'string' },
  checkpoints: { type: 'string' },
  'checkpoints-a': { type: 'string' },
  'checkpoints-b': { type: 'string' },
  path: { type: 'string' },
  workers: { type: 'string' },
  range: { type: 'string' },
  ...CHART_OPTIONS,
} as const;

export const barrierCommand: Command = {
  summary: 'interpolation barriers: linear, layer-wise, cumulative, robustness, subspace',
  usage: `${KINDS.join('|')} A B [options]`,
  help: `${KINDS.map((k) => `modeconn barrier ${k.padEnd(11)} ${SUBCOMMANDS[k].summary}`).join('\n')}`,
  subcommands: Object.fromEntries(KINDS.map((k) => [k, subcommandHelp(k)])),
  defaults: Object.fromEntries(
    KINDS.map((k) => [k, { ...ENDPOINT_DEFAULTS, ...Object.fromEntries(SUBCOMMANDS[k].options.flatMap((o) => (o in DEFAULTS ? [[o, DEFAULTS[o as keyof typeof DEFAULTS]]] : []))) }]),
  ),
  // A, B (or the run's checkpoint after --path), then --checkpoints or --checkpoints-a and -b, as run() loads them.
  checkpointArguments(args) {
    const { positionals, values } = parseRecordedArgs(attachNegativeValues(args.slice(1), ['--range']), OPTIONS);
    return [...positionals, ...listValue(values['checkpoints']), ...listValue(values['checkpoints-a']), ...listValue(values['checkpoints-b'])];
  },
  async run(args, context) {
    const [kindArg, ...rest] = args;
    if (kindArg === undefined || !(KINDS as readonly string[]).includes(kindArg)) {
      throw new Error(`expected one of ${KINDS.join(', ')} after "barrier", found ${kindArg === undefined ? 'nothing' : `"${kindArg}"`}`);
    }
    const kind = kindArg as Kind;
    const { values, positionals } = parseArgs({ args: attachNegativeValues(rest, ['--range']), allowPositionals: true, strict: true, options: OPTIONS });
    const range = rangeOption(values.range, 'range');
    if (range !== undefined && kind !== 'linear') throw new Error('--range goes with "barrier linear"');
    if (range !== undefined && values.path !== undefined) throw new Error('--range goes with "barrier linear A B": a saved path is defined on t ∈ [0, 1] only');
    const points = gridOption(values.points, 'points', 2) ?? (range === undefined ? DEFAULTS.points : Math.max(2, Math.round((range[1] - range[0]) / 0.1) + 1));
    const samples = gridOption(values.samples, 'samples', 1) ?? DEFAULTS.samples;
    const seed = numberOption(values.seed, 'seed', { integer: true }) ?? DEFAULTS.seed;
    const layers = values.layers?.split(',').map((s) => s.trim());
    if (kind === 'robustness') assertRowCount((layers?.length ?? 1) * samples * points, `--samples ${samples} × --points ${points}${layers === undefined ? '' : ` × ${layers.length} layers`}`);
    if (values.csv !== undefined) await checkOutputPaths([{ path: values.csv, kind: 'file', option: '--csv' }]);
    const charts = await chartRequest(values);
    if (values.path !== undefined && kind !== 'linear') throw new Error('--path goes with "barrier linear"');
    let savedPath: ParameterPath | undefined;
    // Every check of the arguments comes before the backend starts.
    if (values.path !== undefined) {
      if (positionals.length < 1) throw new Error('--path needs a checkpoint of the run after it (for the dataset and preprocessing)');
    } else if (positionals.length !== 2) {
      throw new Error(`expected two checkpoints A B, found ${positionals.length}`);
    }
    const endpointPaths = positionals;
    const list = (text: string | undefined): string[] => (text === undefined ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== ''));
    const epochsA = list(values['checkpoints-a']);
    const epochsB = list(values['checkpoints-b']);
    if ((epochsA.length > 0 || epochsB.length > 0) && kind !== 'layerwise') throw new Error('--checkpoints-a/--checkpoints-b go with "barrier layerwise"');
    if (epochsA.length !== epochsB.length) throw new Error(`--checkpoints-a has ${epochsA.length} checkpoints, --checkpoints-b has ${epochsB.length}; give one per epoch for each run`);
    if (kind === 'subspace') required(values.checkpoints, 'checkpoints');
    checkWorkersOption(values.workers);
    await context.initBackend();
    const workers = parseWorkers(values.workers ?? DEFAULTS.workers);
    const extra = kind === 'subspace' ? list(required(values.checkpoints, 'checkpoints')) : [...epochsA, ...epochsB];
    // Ctrl-C stops the grid at its next point: exit 130, nothing written.
    return interruptibleGrid(`barrier ${kind}`, async (signal) => {
      const analysis = await loadAnalysis([...endpointPaths, ...extra], values);
      try {
        if (values.path !== undefined) savedPath = await loadSavedPath(values.path, analysis.models[0] as Model);
        const [a, b] = analysis.models;
        const progress = bar(context, `barrier ${kind}`);
        const common = { splits: analysis.splits, bnReset: analysis.bnReset, workers, progress: progress.progress, signal };
        let output: { rows: object[]; [key: string]: unknown };
        if (kind === 'linear') {
          const path = savedPath ?? linearPath(required(a, 'A'), required(b, 'B'));
          let rows: PathRow[];
          try {
            rows = await evaluatePath(path, analysis.data, { ...common, ...(range === undefined ? { points } : { ts: interpolationGrid({ from: range[0], to: range[1], points }) }) });
          } finally {
            path.dispose();
          }
          const inside = rowsWithinEndpoints(rows);
          const hasEndpoints = inside.some((r) => r.t === 0) && inside.some((r) => r.t === 1);
          if (!hasEndpoints) console.error(`barrier linear: no barrier metrics: t = 0 and t = 1 are not both on the grid of --range ${range?.join(':')} with --points ${points} (choose --points so that the step divides 1)`);
          output = { rows, barrier: hasEndpoints ? Object.fromEntries(barrierMetrics(inside).map((m) => [m.split, m])) : null };
        } else if (kind === 'layerwise' && epochsA.length > 0) {
          const runA = analysis.models.slice(2, 2 + epochsA.length);
          const runB = analysis.models.slice(2 + epochsA.length);
          const epochs = analysis.checkpoints.slice(2, 2 + epochsA.length).map((c, i) => c.metadata.epoch ?? i);
          const rows = await layerwiseBarriersByEpoch(runA, runB, analysis.data, { ...common, points, epochs, ...(layers === undefined ? {} : { layers }) });
          output = { rows };
        } else if (kind === 'layerwise') {
          const rows = await layerwiseBarriers(required(a, 'A'), required(b, 'B'), analysis.data, { ...common, points, ...(layers === undefined ? {} : { layers }) });
          output = { rows };
        } else if (kind === 'cumulative') {
          const rows = await cumulativeBarriers(required(a, 'A'), required(b, 'B'), analysis.data, { ...common, seed });
          output = { rows };
        } else if (kind === 'robustness') {
          const rows = await layerRobustness(required(a, 'A'), required(b, 'B'), analysis.data, { ...common, points, samples, seed, ...(layers === undefined ? {} : { layers }) });
          output = { rows };
        } else {
          const rows = await subspacePerturbations(required(a, 'A'), required(b, 'B'), analysis.models.slice(2), analysis.data, { ...common, samples, seed });
          output = { rows };
        }
        progress.done();
        if (values.csv !== undefined) await writeTextAtomic(values.csv, toCsv(output.rows));
        const chartFiles = charts === undefined ? [] : await writeAnalysisCharts(output, charts, { name: kind, commandLine: ['barrier', ...args], checkpoints: [...endpointPaths, ...extra] });
        if (values.json) console.log(JSON.stringify(output));
        else printSummary(kind, output);
        if (charts !== undefined && !values.json) console.log(`charts: wrote ${chartFiles.join(', ')} to ${charts.out}`);
        return 0;
      } finally {
        analysis.dispose();
      }
    });
  },
};

/** Checks `--workers` before the backend starts: `auto` or a positive integer (what the backend allows is checked by {@link parseWorkers}). */
export function checkWorkersOption(value: string | undefined): void {
  if (value !== undefined && value.trim() !== 'auto') numberOption(value, 'workers', { integer: true, min: 1 });
}

/**
 * `--workers`: a positive integer, or `auto` for one worker per core on the wasm and cpu backends
 * (1 on tfjs-node, which already uses every core). Absent: 1.
 */
export function parseWorkers(value: string | undefined, backend: string = tf.getBackend()): number {
  if (value === undefined) return 1;
  if (value.trim() === 'auto') return autoWorkerCount(backend);
  const workers = numberOption(value, 'workers', { integer: true, min: 1 }) as number;
  if (workers > 1 && backend !== 'wasm' && backend !== 'cpu') {
    throw new Error(`--workers: worker threads need the wasm or cpu backend, the active backend is ${backend}${backend === 'tensorflow' ? ' (which already computes on every core)' : ''}; use --workers 1 or auto`);
  }
  return workers;
}

function bar(context: CommandContext, title: string): ProgressBar {
  if (context.quiet) return { update: () => undefined, done: () => undefined, progress: () => undefined };
  return createProgressBar(title);
}

function printSummary(kind: Kind, output: { rows: object[]; [key: string]: unknown }): void {
  printRowsTable(output.rows as Record<string, unknown>[]);
  if (kind === 'linear' && output['barrier'] !== null) {
    for (const m of Object.values(output['barrier'] as Record<string, BarrierMetrics>)) console.log(`${m.split}: ${formatBarrierMetrics(m)}`);
  }
}
