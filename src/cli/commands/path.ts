import { join } from 'node:path';
import { createEvaluator } from '../../evaluate/evaluate.js';
import { DEFAULT_BN_BATCHES } from '../../evaluate/evaluation-data.js';
import { evaluatePath, linearPath } from '../../paths/linear-path.js';
import { barrierMetrics } from '../../barriers/metrics.js';
import type { PathRow } from '../../rows/rows.js';
import { CHART_OPTIONS, CHART_OPTIONS_HELP, chartRequest, writeAnalysisCharts } from '../chart-output.js';
import { saveCheckpoint } from '../../checkpoint/checkpoint.js';
import { averageModelList } from '../../averaging/average-models.js';
import { VARIANCE_CORRECTIONS, type VarianceCorrection } from '../../averaging/variance-correction.js';
import { applyPermutation, permutationSpecFor } from '../../align/permutation-spec.js';
import { weightMatching } from '../../align/weight-matching.js';
import { batchIndices, disposeBatches, loadBatches } from '../../data/batches.js';
import { getArchitecture } from '../../models/registry.js';
import { disposeTensors } from '../../models/tensor-map.js';
import type { Model } from '../../models/types.js';
import { findAutoNebPath, parseNebCycles } from '../../paths/autoneb.js';
import { splitBatchSource } from '../../paths/batch-source.js';
import { parseCurveKind } from '../../paths/curve.js';
import { findLlpfPath, type LlpfTarget } from '../../paths/llpf.js';
import type { ParameterPath } from '../../paths/path.js';
import { LLPF_PATH_FILE, savePath } from '../../paths/saved-path.js';
import { findCurve } from '../../paths/train-curve.js';
import { parseSchedule } from '../../train/schedule.js';
import { gridOption, numberOption, parseArgs, required } from '../args.js';
import { checkOutputPaths } from '../output-paths.js';
import { withResumeFlags } from '../resume-message.js';
import { ENDPOINT_DEFAULTS, ENDPOINT_OPTIONS, ENDPOINT_OPTIONS_HELP, loadAnalysis, type LoadedAnalysis } from '../endpoints.js';
import { ERROR_BARRIER_UNIT, formatBarrierMetrics, toCsv, writeTextAtomic } from '../output.js';
import { createProgressBar, type ProgressBar } from '../progress.js';
import { INTERRUPTED, withInterrupt } from '../interrupt.js';
import { parseRecordedArgs } from '../command-checkpoints.js';
import { checkWorkersOption, parseWorkers } from './barrier.js';
import type { Command, CommandContext, SubcommandHelp } from './command.js';

const KINDS = ['curve', 'neb', 'llpf', 'align', 'average'] as const;
type Kind = (typeof KINDS)[number];

/** The defaults the runners below use, by subcommand, shown in the help from here. */
const DEFAULTS = {
  common: { points: 11, seed: 0, workers: 'auto' },
  curve: { curve: 'bezier', bends: 3, lr: 0.015, 'weight-decay': 5e-4, momentum: 0.9, schedule: 'garipov', 'batch-size': 128 },
  neb: { cycles: '2x200@0.1,2x200@0.01', 'train-examples': 1024, 'batch-size': 128 },
  llpf: {
    'step-fixed': 0,
    'step-adaptive': 0.001,
    lr: 0.001,
    'batch-size': 64,
    'record-every': 10,
    'segment-points': 3,
    'loss-threshold': 0.02,
    'min-iterations': 5,
    'max-iterations': 100,
    'lr-scaling': 'auto',
  },
  align: {},
  average: { correction: 'follow-others' },
} as const;

const OPTIONS = {
  ...ENDPOINT_OPTIONS,
  ...CHART_OPTIONS,
  out: { type: 'string' },
  points: { type: 'string' },
  seed: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  workers: { type: 'string' },
  // curve
  curve: { type: 'string', default: DEFAULTS.curve.curve },
  bends: { type: 'string' },
  epochs: { type: 'string' },
  'weight-decay': { type: 'string' },
  momentum: { type: 'string' },
  schedule: { type: 'string', default: DEFAULTS.curve.schedule },
  'train-start': { type: 'boolean', default: false },
  'train-end': { type: 'boolean', default: false },
  // neb
  cycles: { type: 'string' },
  // llpf
  to: { type: 'string' },
  ticks: { type: 'string' },
  'step-fixed': { type: 'string' },
  'step-adaptive': { type: 'string' },
  'record-every': { type: 'string' },
  'segment-points': { type: 'string' },
  'loss-threshold': { type: 'string' },
  'min-iterations': { type: 'string' },
  'max-iterations': { type: 'string' },
  'stage-ticks': { type: 'string' },
  'lr-scaling': { type: 'string', default: DEFAULTS.llpf['lr-scaling'] },
  'no-train': { type: 'boolean', default: false },
  'no-resume': { type: 'boolean', default: false },
  // average
  correction: { type: 'string', default: DEFAULTS.average.correction },
  'self-index': { type: 'string' },
  'self-weight': { type: 'string' },
} as const;

const COMMON_HELP = `  --out PATH           output file (a folder for llpf; required)
  --points N           t grid of the evaluation (default ${DEFAULTS.common.points}, at most 10000; 61 as in Garipov et al.)
  --seed S             seed of data order and random choices (default ${DEFAULTS.common.seed})
  --workers N|auto     worker threads for the training steps and the path evaluation (curve, neb, llpf;
                       default ${DEFAULTS.common.workers}: one per core on wasm/cpu; 1: this thread only)`;

const SUBCOMMANDS: Readonly<Record<Kind, SubcommandHelp>> = {
  curve: {
    summary: 'train a Bezier or PolyChain curve between A and B (Garipov et al. 2018)',
    usage: 'A B --epochs N --out curve.safetensors [options]',
    help: `options:
  --epochs N           training epochs of the curve (required)
  --curve C            bezier | polychain (default ${DEFAULTS.curve.curve})
  --bends N            control points, endpoints included (default ${DEFAULTS.curve.bends})
  --lr LR              base learning rate (default ${DEFAULTS.curve.lr})
  --weight-decay WD    (default ${DEFAULTS.curve['weight-decay']})
  --momentum M         (default ${DEFAULTS.curve.momentum})
  --schedule S         garipov | cosine | constant | step:SIZE:GAMMA (default ${DEFAULTS.curve.schedule})
  --batch-size B       (default ${DEFAULTS.curve['batch-size']})
  --train-start, --train-end   train the endpoints too (fixed by default)`,
  },
  neb: {
    summary: 'AutoNEB: a chain of pivots between A and B relaxed by nudged elastic band (Draxler et al. 2018)',
    usage: 'A B --out chain.safetensors [options]',
    help: `options:
  --cycles LIST        cycles as COUNTxSTEPS@LR (default ${DEFAULTS.neb.cycles})
  --train-examples N   training images the search evaluates the chain on (default ${DEFAULTS.neb['train-examples']}; also
                       the subset of the final evaluation with --split train|both)
  --batch-size B       (default ${DEFAULTS.neb['batch-size']})

--json also gives the row per cycle, which the chain file keeps too.`,
  },
  llpf: {
    summary: 'layer-wise path finding from A toward a target (Tian et al.)',
    usage: 'A --to model:B|point:P|origin|infinity[:F]|sphere:B|mean:C1,C2 --ticks N --out DIR [options]',
    help: `options:
  --to TARGET          model:B | point:P | origin | infinity[:F] | sphere:B | mean:C1,C2 (required)
  --ticks N            ticks (required)
  --step-fixed S       fixed step per tick (default ${DEFAULTS.llpf['step-fixed']})
  --step-adaptive S    step as a fraction of the remaining distance (default ${DEFAULTS.llpf['step-adaptive']})
  --lr LR              retraining learning rate (default ${DEFAULTS.llpf.lr})
  --batch-size B       (default ${DEFAULTS.llpf['batch-size']})
  --record-every N     ticks between recorded points (default ${DEFAULTS.llpf['record-every']})
  --segment-points N   points evaluated between recorded points (default ${DEFAULTS.llpf['segment-points']})
  --loss-threshold L   retrain until the loss is below L (default ${DEFAULTS.llpf['loss-threshold']})
  --min-iterations N   (default ${DEFAULTS.llpf['min-iterations']})
  --max-iterations N   (default ${DEFAULTS.llpf['max-iterations']})
  --stage-ticks T      ticks per layer stage (default: all layers at once)
  --lr-scaling M       auto | on | off (default ${DEFAULTS.llpf['lr-scaling']}): each weight's lr × Var(P_l)/Var(A_l);
                       auto: on toward origin/infinity/mean of networks with normalization layers
  --no-train           move and project only
  --no-resume          start over instead of continuing the run in DIR

A rerun of the same command continues the run in DIR (Ctrl-C stops after the current tick, keeps
the run and exits 130). DIR records the start, target and options: a rerun with others is an
error naming them (--ticks may change: more ticks continue the same run); --no-resume starts over.`,
  },
  align: {
    summary: 'weight matching (Git Re-Basin): B permuted to match A, with the linear barrier before and after',
    usage: 'A B --out B-aligned.safetensors [options]',
    help: 'options: the common options below.',
  },
  average: {
    summary: 'average models with variance correction (Tian et al. 2024), evaluated next to its inputs',
    usage: 'M1 M2 … --out avg.safetensors [options]',
    help: `options:
  --correction C       none | follow-others | conservative | self (default ${DEFAULTS.average.correction})
  --self-index I       the model that is "self" (correction self)
  --self-weight C      its weight (correction self)`,
  },
};

/** `--chart` and `--format`, for every method that yields a path (average has none to draw). */
function chartHelp(kind: Kind): string {
  if (kind === 'average') return '';
  const ticks = kind === 'llpf' ? "\n                       (llpf also draws the run's ticks, llpf-ticks-llpf.*)" : '';
  return `${CHART_OPTIONS_HELP}${ticks}\n`;
}

function subcommandHelp(kind: Kind): SubcommandHelp {
  const sub = SUBCOMMANDS[kind];
  return {
    ...sub,
    help: `${sub.help}

common options:
${COMMON_HELP}
${chartHelp(kind)}${ENDPOINT_OPTIONS_HELP}

Every path is evaluated on the t grid with the barrier metrics (average: the averaged model next
to its inputs); the rows go out through --json / --csv. Curve and neb files evaluate again with
"modeconn barrier linear --path FILE A". ${ERROR_BARRIER_UNIT}`,
  };
}

export const pathCommand: Command = {
  summary: 'low-loss paths and model operations: curve, neb, llpf, align, average',
  usage: `${KINDS.join('|')} … [options]`,
  help: `${KINDS.map((k) => `modeconn path ${k.padEnd(8)} ${SUBCOMMANDS[k].summary}`).join('\n')}`,
  subcommands: Object.fromEntries(KINDS.map((k) => [k, subcommandHelp(k)])),
  defaults: Object.fromEntries(KINDS.map((k) => [k, { ...ENDPOINT_DEFAULTS, ...DEFAULTS.common, ...DEFAULTS[k] }])),
  // The endpoints (or LLPF's start), then LLPF's target checkpoints (--to model:B, mean:C1,C2, …), as run() loads them.
  checkpointArguments(args) {
    const { positionals, values } = parseRecordedArgs(args.slice(1), OPTIONS);
    let targets: string[] = [];
    try {
      targets = args[0] === 'llpf' && values['to'] !== undefined ? llpfTargetCheckpoints(values['to']) : [];
    } catch {
      // A recorded --to this version cannot read names no checkpoint.
    }
    return [...positionals, ...targets];
  },
  async run(args, context) {
    const [kindArg, ...rest] = args;
    if (kindArg === undefined || !(KINDS as readonly string[]).includes(kindArg)) {
      throw new Error(`expected one of ${KINDS.join(', ')} after "path", found ${kindArg === undefined ? 'nothing' : `"${kindArg}"`}`);
    }
    const kind = kindArg as Kind;
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: OPTIONS });
    const points = gridOption(values.points, 'points', 2) ?? DEFAULTS.common.points;
    const seed = numberOption(values.seed, 'seed', { integer: true }) ?? DEFAULTS.common.seed;
    const out = required(values.out, 'out');
    const extraCheckpoints = kind === 'llpf' ? llpfTargetCheckpoints(values.to) : [];
    const expected = kind === 'llpf' ? 1 : kind === 'average' ? -1 : 2;
    if (expected > 0 && positionals.length !== expected) throw new Error(`path ${kind} expects ${expected} checkpoint${expected > 1 ? 's' : ''}, found ${positionals.length}`);
    if (kind === 'average' && positionals.length < 2) throw new Error(`path average expects at least two checkpoints, found ${positionals.length}`);
    validateKindOptions(kind, values);
    if (kind === 'average' && values.chart !== undefined) throw new Error('--chart: path average gives one row per model, no path to draw; drop --chart');
    await checkOutputPaths([
      { path: out, kind: kind === 'llpf' ? 'folder' : 'file', option: '--out' },
      ...(values.csv === undefined ? [] : [{ path: values.csv, kind: 'file' as const, option: '--csv' }]),
    ]);
    checkWorkersOption(values.workers);
    const charts = await chartRequest(values);
    await context.initBackend();
    const workers = parseWorkers(values.workers ?? DEFAULTS.common.workers);
    const analysis = await loadAnalysis([...positionals, ...extraCheckpoints], values);
    try {
      const { summary, interrupted, ...result } = await RUNNERS[kind](analysis, values, { points, seed, out, context, positionals, workers });
      if (values.csv !== undefined) await writeTextAtomic(values.csv, toCsv(result.rows));
      const chartFiles: string[] = [];
      if (charts !== undefined && interrupted !== true) {
        const common = { commandLine: ['path', ...args], checkpoints: [...positionals, ...extraCheckpoints] };
        chartFiles.push(...(await writeAnalysisCharts(result, charts, { ...common, name: kind, kind: 'path' })));
        const ticks = (result as { ticks?: unknown }).ticks;
        if (kind === 'llpf' && Array.isArray(ticks) && ticks.length > 0) chartFiles.push(...(await writeAnalysisCharts(ticks, charts, { ...common, name: `${kind}-ticks`, kind: 'llpf' })));
      }
      if (values.json) console.log(JSON.stringify(result));
      if (charts !== undefined && !values.json && interrupted !== true) console.log(`charts: wrote ${chartFiles.join(', ')} to ${charts.out}`);
      if (interrupted === true) {
        console.error(`path ${kind}: interrupted; the run so far is in ${out}: run the same command again to continue it`);
        return INTERRUPTED;
      }
      if (values.json) return 0;
      if (summary !== undefined) for (const line of summary) console.log(line);
      else {
        for (const m of barrierMetrics(result.rows as PathRow[])) console.log(`${m.path} ${m.split}: ${formatBarrierMetrics(m)}`);
        console.log(`→ ${out}`);
      }
      return 0;
    } finally {
      analysis.dispose();
    }
  },
};

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];
interface RunContext {
  readonly points: number;
  readonly seed: number;
  readonly out: string;
  readonly context: CommandContext;
  readonly positionals: readonly string[];
  /** Worker threads for training and evaluation (--workers). */
  readonly workers: number;
}
interface PathResult {
  readonly rows: object[];
  /** Lines printed without --json instead of the barrier metrics (results that are not a path from t = 0 to 1). */
  readonly summary?: readonly string[];
  /** Stopped by Ctrl-C before the end (exit 130). */
  readonly interrupted?: boolean;
  readonly [key: string]: unknown;
}

/** The flags behind each field of an LLPF run's recipe (src/paths/llpf.ts and the fields added here), for resume errors. */
const LLPF_RECIPE_FLAGS: Readonly<Record<string, string>> = {
  architecture: 'the start checkpoint’s architecture',
  config: 'the start checkpoint’s config',
  start: 'the start checkpoint',
  target: '--to',
  stepFixed: '--step-fixed',
  stepAdaptive: '--step-adaptive',
  schedule: '--stage-ticks',
  project: 'the projection (set by --to)',
  recordEvery: '--record-every',
  segmentPoints: '--segment-points',
  training: '--lr/--loss-threshold/--min-iterations/--max-iterations/--lr-scaling/--no-train',
  trainBatchesPerEpoch: '--batch-size',
  dataset: '--dataset',
  preprocessing: '--normalize/--pad-to/--channels',
  batchSize: '--batch-size',
  seed: '--seed',
  evaluation: '--split/--train-examples/--test-examples/--bn-batches/--no-bn-reset',
};

/** The number options of each subcommand and their checks, applied before the backend starts (the runners read them again). */
const NUMBER_CHECKS: Readonly<Record<Kind, Readonly<Record<string, { integer?: boolean; min?: number; max?: number }>>>> = {
  curve: { 'batch-size': { integer: true, min: 1 }, lr: { min: 0 }, momentum: { min: 0 }, 'weight-decay': { min: 0 } },
  neb: { 'batch-size': { integer: true, min: 1 }, 'train-examples': { integer: true, min: 1 } },
  llpf: {
    'batch-size': { integer: true, min: 1 },
    lr: { min: 0 },
    'stage-ticks': { integer: true, min: 1 },
    'step-fixed': { min: 0 },
    'step-adaptive': { min: 0 },
    'record-every': { integer: true, min: 1 },
    'segment-points': { integer: true, min: 0 },
    'loss-threshold': { min: 0 },
    'min-iterations': { integer: true, min: 1 },
    'max-iterations': { integer: true, min: 1 },
  },
  align: {},
  average: { 'self-index': { integer: true, min: 0 }, 'self-weight': { min: 0, max: 1 } },
};

function validateKindOptions(kind: Kind, values: Values): void {
  const given = values as Readonly<Record<string, string | boolean | undefined>>;
  for (const [flag, check] of Object.entries(NUMBER_CHECKS[kind])) {
    const value = given[flag];
    if (typeof value === 'string') numberOption(value, flag, check);
  }
  if (kind === 'curve') {
    parseCurveKind(values.curve);
    gridOption(values.bends, 'bends', 2);
    required(numberOption(values.epochs, 'epochs', { integer: true, min: 1 }), 'epochs');
    parseSchedule(values.schedule);
  }
  if (kind === 'neb' && values.cycles !== undefined) parseNebCycles(values.cycles);
  if (kind === 'llpf') required(numberOption(values.ticks, 'ticks', { integer: true, min: 1 }), 'ticks');
  if (kind === 'llpf') lrScalingOption(values['lr-scaling']);
  if (kind === 'average' && !(VARIANCE_CORRECTIONS as readonly string[]).includes(values.correction)) {
    throw new Error(`--correction: expected ${VARIANCE_CORRECTIONS.join(', ')}, found "${values.correction}"`);
  }
}

/** `--lr-scaling`: auto (the library's default), on or off. */
function lrScalingOption(value: string | undefined): 'auto' | 'on' | 'off' {
  if (value === undefined || value === 'auto' || value === 'on' || value === 'off') return value ?? 'auto';
  throw new Error(`--lr-scaling: expected auto, on or off, found "${value}"`);
}

/** Checkpoints named by `--to` (model:B, sphere:B, point:P, mean:C1,C2). */
function llpfTargetCheckpoints(to: string | undefined): string[] {
  const target = required(to, 'to');
  const [kind, rest] = [target.split(':')[0] ?? '', target.slice(target.indexOf(':') + 1)];
  if (['model', 'sphere', 'point'].includes(kind)) return [required(target.includes(':') ? rest : undefined, `to ${kind}:CHECKPOINT`)];
  if (kind === 'mean') return rest.split(',').map((s) => s.trim());
  if (kind === 'origin' || kind === 'infinity') return [];
  throw new Error(`--to: expected model:B, point:P, sphere:B, mean:C1,C2, origin or infinity[:factor], found "${target}"`);
}

function llpfTarget(to: string, models: readonly Model[]): LlpfTarget {
  const kind = to.split(':')[0];
  const others = models.slice(1);
  if (kind === 'model') return { kind: 'model', state: others[0] as Model };
  if (kind === 'point') return { kind: 'point', state: others[0] as Model };
  if (kind === 'sphere') return { kind: 'variance-sphere', state: others[0] as Model };
  if (kind === 'mean') return { kind: 'mean', states: others };
  if (kind === 'origin') return { kind: 'origin' };
  const factor = numberOption(to.includes(':') ? to.slice(to.indexOf(':') + 1) : undefined, 'to infinity:FACTOR', { min: 1 });
  return factor === undefined ? { kind: 'infinity' } : { kind: 'infinity', factor };
}

function bar(context: CommandContext, title: string): ProgressBar {
  if (context.quiet) return { update: () => undefined, done: () => undefined, progress: () => undefined };
  return createProgressBar(title);
}

async function evaluate(path: ParameterPath, analysis: LoadedAnalysis, run: RunContext, label: string): Promise<PathRow[]> {
  const progress = bar(run.context, `evaluate ${label}`);
  const rows = await evaluatePath(path, analysis.data, { points: run.points, splits: analysis.splits, bnReset: analysis.bnReset, label, progress: progress.progress, workers: run.workers });
  progress.done();
  return rows;
}

const RUNNERS: Record<Kind, (analysis: LoadedAnalysis, values: Values, run: RunContext) => Promise<PathResult>> = {
  async curve(analysis, values, run) {
    const [a, b] = analysis.models as [Model, Model];
    const arch = getArchitecture(a.architecture);
    const train = splitBatchSource(analysis.train, analysis.preprocessing, { batchSize: numberOption(values['batch-size'], 'batch-size', { integer: true, min: 1 }) ?? DEFAULTS.curve['batch-size'], seed: run.seed });
    const epochs = numberOption(values.epochs, 'epochs', { integer: true, min: 1 }) as number;
    const progress = bar(run.context, 'train curve');
    const found = await findCurve(arch, [a, b], train, {
      kind: parseCurveKind(values.curve),
      bends: gridOption(values.bends, 'bends', 2) ?? DEFAULTS.curve.bends,
      trainStart: values['train-start'],
      trainEnd: values['train-end'],
      epochs,
      lr: numberOption(values.lr, 'lr', { min: 0 }) ?? DEFAULTS.curve.lr,
      momentum: numberOption(values.momentum, 'momentum', { min: 0 }) ?? DEFAULTS.curve.momentum,
      weightDecay: numberOption(values['weight-decay'], 'weight-decay', { min: 0 }) ?? DEFAULTS.curve['weight-decay'],
      schedule: parseSchedule(values.schedule),
      seed: run.seed,
      workers: run.workers,
      progress: progress.progress,
    });
    progress.done();
    const path = found.path;
    let rows: PathRow[];
    try {
      await savePath(run.out, path, { info: found.info });
      rows = await evaluate(path, analysis, run, values.curve);
    } finally {
      path.dispose();
    }
    return { rows, training: found.info.rows, barrier: barrierMetrics(rows) };
  },

  async neb(analysis, values, run) {
    const [a, b] = analysis.models as [Model, Model];
    const arch = getArchitecture(a.architecture);
    const train = splitBatchSource(analysis.train, analysis.preprocessing, { batchSize: numberOption(values['batch-size'], 'batch-size', { integer: true, min: 1 }) ?? DEFAULTS.neb['batch-size'], seed: run.seed });
    const evalCount = Math.min(analysis.train.count, numberOption(values['train-examples'], 'train-examples', { integer: true, min: 1 }) ?? DEFAULTS.neb['train-examples']);
    const evaluation = loadBatches(analysis.train, batchIndices(evalCount, { batchSize: 256, shuffle: false }), analysis.preprocessing);
    const progress = bar(run.context, 'AutoNEB');
    const result = await findAutoNebPath(arch, [a, b], { train, evaluation }, {
      cycles: parseNebCycles(values.cycles ?? DEFAULTS.neb.cycles),
      workers: run.workers,
      progress: progress.progress,
    }).finally(() => disposeBatches(evaluation));
    progress.done();
    const path = result.path;
    let rows: PathRow[];
    try {
      await savePath(run.out, path, { info: { cycles: result.info.cycles } });
      rows = await evaluate(path, analysis, run, 'autoneb');
    } finally {
      path.dispose();
    }
    return { rows, cycles: result.info.cycles, barrier: barrierMetrics(rows) };
  },

  async llpf(analysis, values, run) {
    const [start] = analysis.models as [Model];
    const arch = getArchitecture(start.architecture);
    const ticks = numberOption(values.ticks, 'ticks', { integer: true, min: 1 }) as number;
    const target = llpfTarget(values.to as string, analysis.models);
    const train = values['no-train'] ? undefined : splitBatchSource(analysis.train, analysis.preprocessing, { batchSize: numberOption(values['batch-size'], 'batch-size', { integer: true, min: 1 }) ?? DEFAULTS.llpf['batch-size'], seed: run.seed });
    const stageTicks = numberOption(values['stage-ticks'], 'stage-ticks', { integer: true, min: 1 });
    const lrScaling = lrScalingOption(values['lr-scaling']);
    const batchSize = numberOption(values['batch-size'], 'batch-size', { integer: true, min: 1 }) ?? DEFAULTS.llpf['batch-size'];
    const progress = bar(run.context, 'LLPF');
    const recipe = {
      dataset: analysis.dataset,
      preprocessing: { ...analysis.preprocessing },
      batchSize: values['no-train'] ? null : batchSize,
      seed: values['no-train'] ? null : run.seed,
      evaluation: {
        splits: analysis.splits,
        trainExamples: values['train-examples'] ?? null,
        testExamples: values['test-examples'] ?? null,
        bnBatches: analysis.bnReset ? (values['bn-batches'] ?? String(DEFAULT_BN_BATCHES)) : null,
      },
    };
    // Ctrl-C stops at the next tick; the run folder keeps the resumable state.
    const result = await withInterrupt((signal) => withResumeFlags(
      () => findLlpfPath(
      arch,
      { start, target },
      { ...(train === undefined ? {} : { train }), evaluation: analysis.data },
      {
        ticks,
        stepFixed: numberOption(values['step-fixed'], 'step-fixed', { min: 0 }) ?? DEFAULTS.llpf['step-fixed'],
        stepAdaptive: numberOption(values['step-adaptive'], 'step-adaptive', { min: 0 }) ?? DEFAULTS.llpf['step-adaptive'],
        recordEvery: numberOption(values['record-every'], 'record-every', { integer: true, min: 1 }) ?? DEFAULTS.llpf['record-every'],
        segmentPoints: numberOption(values['segment-points'], 'segment-points', { integer: true, min: 0 }) ?? DEFAULTS.llpf['segment-points'],
        ...(stageTicks === undefined ? {} : { stageTicks }),
        training: values['no-train']
          ? false
          : {
              lr: numberOption(values.lr, 'lr', { min: 0 }) ?? DEFAULTS.llpf.lr,
              lossThreshold: numberOption(values['loss-threshold'], 'loss-threshold', { min: 0 }) ?? DEFAULTS.llpf['loss-threshold'],
              minIterations: numberOption(values['min-iterations'], 'min-iterations', { integer: true, min: 1 }) ?? DEFAULTS.llpf['min-iterations'],
              maxIterations: numberOption(values['max-iterations'], 'max-iterations', { integer: true, min: 1 }) ?? DEFAULTS.llpf['max-iterations'],
              ...(lrScaling === 'auto' ? {} : { lrVarianceScaling: lrScaling === 'on' }),
            },
        evaluator: { splits: analysis.splits, bnReset: analysis.bnReset },
        checkpoint: { directory: run.out, every: 10 },
        resume: !values['no-resume'],
        signal,
        workers: run.workers,
        progress: progress.progress,
        recipe,
      },
      ),
      LLPF_RECIPE_FLAGS,
      'use --no-resume',
    ));
    progress.done();
    const rows = result.info.rows;
    const path = result.path;
    if (!result.completed) {
      // Interrupted: the run folder holds the resumable state; the partial path is not evaluated.
      path.dispose();
      await writeTextAtomic(join(run.out, 'rows.json'), `${JSON.stringify(rows, null, 1)}\n`);
      return { rows, completed: false, iterations: result.info.iterations, interrupted: true };
    }
    let pathRows: PathRow[];
    try {
      await writeTextAtomic(join(run.out, 'rows.json'), `${JSON.stringify(rows, null, 1)}\n`);
      await savePath(join(run.out, LLPF_PATH_FILE), path, { info: result.info, completed: result.completed });
      pathRows = await evaluate(path, analysis, run, 'llpf');
    } finally {
      path.dispose();
    }
    return { rows: pathRows, ticks: rows, completed: result.completed, iterations: result.info.iterations };
  },

  async align(analysis, _values, run) {
    const [a, b] = analysis.models as [Model, Model];
    const spec = permutationSpecFor(a.architecture, getArchitecture(a.architecture).spec(a.config));
    const before = linearPath(a, b);
    const rowsBefore = await evaluate(before, analysis, run, 'linear');
    before.dispose();
    const progress = bar(run.context, 'weight matching');
    const matching = weightMatching(a, b, spec, { seed: run.seed, progress: progress.progress });
    progress.done();
    const permuted = applyPermutation(b, spec, matching.perms);
    const aligned: Model = { ...b, params: permuted.params, buffers: permuted.buffers };
    const after = linearPath(a, aligned);
    const rowsAfter = await evaluate(after, analysis, run, 'linear-aligned');
    after.dispose();
    const metadata = analysis.checkpoints[1]?.metadata;
    await saveCheckpoint(run.out, aligned, { ...(metadata ?? {}), extra: { alignedTo: run.positionals[0] ?? '', method: 'weight-matching', sweeps: matching.iterations } });
    disposeTensors(aligned);
    return { rows: [...rowsBefore, ...rowsAfter], barrier: barrierMetrics([...rowsBefore, ...rowsAfter]), sweeps: matching.iterations };
  },

  async average(analysis, values, run) {
    const selfIndex = numberOption(values['self-index'], 'self-index', { integer: true, min: 0, max: analysis.models.length - 1 });
    const selfWeight = numberOption(values['self-weight'], 'self-weight', { min: 0, max: 1 });
    const { model, factors } = averageModelList(analysis.models, {
      correction: values.correction as VarianceCorrection,
      ...(selfIndex === undefined ? {} : { selfIndex }),
      ...(selfWeight === undefined ? {} : { selfWeight }),
    });
    try {
      const metadata = analysis.checkpoints[0]?.metadata;
      await saveCheckpoint(run.out, model, {
        ...(metadata?.dataset === undefined ? {} : { dataset: metadata.dataset }),
        preprocessing: { ...analysis.preprocessing },
        extra: { averageOf: [...run.positionals], correction: values.correction },
      });
      // An average is one model, not a path: it is reported next to the models it averages.
      const evaluator = createEvaluator(getArchitecture(model.architecture), model.config, analysis.data, { splits: analysis.splits, bnReset: analysis.bnReset });
      const rows: { model: string; role: 'input' | 'average'; split: string; loss: number; accuracy: number }[] = [];
      try {
        const evaluated: [string, 'input' | 'average', Model][] = [...run.positionals.map((p, i) => [p, 'input', analysis.models[i] as Model] as [string, 'input', Model]), [run.out, 'average', model]];
        for (const [name, role, m] of evaluated) {
          const metrics = await evaluator.evaluate(m);
          for (const split of analysis.splits) rows.push({ model: name, role, split, loss: metrics[split]?.loss ?? Number.NaN, accuracy: metrics[split]?.accuracy ?? Number.NaN });
        }
      } finally {
        evaluator.dispose();
      }
      const factorValues = [...factors.values()];
      const summary = [`average of ${run.positionals.length} models (correction ${values.correction}) → ${run.out}`];
      for (const split of analysis.splits) {
        const of = rows.filter((r) => r.split === split);
        const inputs = of.filter((r) => r.role === 'input');
        const average = of.find((r) => r.role === 'average');
        const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
        summary.push(
          `${split}: average loss ${average?.loss.toFixed(4)} accuracy ${((average?.accuracy ?? NaN) * 100).toFixed(2)}%; ` +
            `inputs loss ${inputs.map((r) => r.loss.toFixed(4)).join(', ')} (mean ${mean(inputs.map((r) => r.loss)).toFixed(4)}), ` +
            `accuracy ${inputs.map((r) => `${(r.accuracy * 100).toFixed(2)}%`).join(', ')}`,
        );
      }
      if (factorValues.length > 0) {
        summary.push(`variance correction: ${factorValues.length} tensors rescaled by ×${Math.min(...factorValues).toFixed(4)} to ×${Math.max(...factorValues).toFixed(4)}`);
      }
      return { rows, factors: Object.fromEntries(factors), summary };
    } finally {
      disposeTensors(model);
    }
  },
};
