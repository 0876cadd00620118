/**
 * What every paper-figure script shares: command-line options, LeNet5 modes trained once into
 * runs/figures/ and reused by every figure, opened with the library's `openAnalysis` (dataset,
 * preprocessing and evaluation data from the checkpoints' metadata), progress on stderr,
 * numbers.json.
 *
 * Checkpoint layout: runs/figures/<arch>-<dataset>-e<epochs>/seed-S/epoch-E.safetensors (the
 * layout of `modeconn train --out`), so a run of `modeconn train` with the same options is reused.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  backendFromEnv,
  checkpointPath,
  disposeTensors,
  initBackend,
  loadCheckpoint,
  loadTrainingData,
  trainMode,
  getArchitecture,
  splitBatchSource,
  evaluatePath,
  type EvaluatePathOptions,
  type EvaluationData,
  type Model,
  type PathRow,
  type TrainModeOptions,
  type TrainingData,
} from '../../src/index.js';
import { openAnalysis, type Analysis, type OpenAnalysisOptions } from '../../src/analysis/open-analysis.js';
import { findCurve } from '../../src/paths/train-curve.js';
import { findLinearPath } from '../../src/paths/linear-path.js';
import { loadPath, savePath } from '../../src/paths/saved-path.js';
import type { ParameterPath } from '../../src/paths/path.js';
import type { Progress } from '../../src/progress.js';
import { createProgressBar } from '../../src/cli/progress.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';

export type { Progress };

/** Options every figure script takes. */
export const COMMON_OPTIONS = {
  dataset: { type: 'string', default: 'fashion-mnist-small' },
  'data-dir': { type: 'string' },
  epochs: { type: 'string' },
  seeds: { type: 'string', default: '1,2' },
  'train-examples': { type: 'string', default: '2000' },
  'test-examples': { type: 'string' },
  out: { type: 'string' },
  runs: { type: 'string', default: 'runs/figures' },
} as const satisfies ParseArgsConfig['options'];

/** Parses `process.argv` with the common options plus the script's own. */
export function parseOptions<O extends NonNullable<ParseArgsConfig['options']>>(own: O) {
  return parseArgs({ options: { ...COMMON_OPTIONS, ...own }, allowPositionals: false }).values;
}

/** A non-negative number from an option, with an error naming it. */
export function num(name: string, value: string | undefined, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: expected a non-negative number, found "${value}"`);
  return n;
}

/** A positive integer from an option. */
export function int(name: string, value: string | undefined, fallback?: number): number {
  const n = num(name, value, fallback);
  if (!Number.isInteger(n)) throw new Error(`--${name}: expected an integer, found "${value}"`);
  return n;
}

/** Output folder: figures/<name> for the default dataset, figures/<name>-<dataset> otherwise, or --out. */
export function outDir(name: string, values: { dataset?: string; out?: string }): string {
  if (values.out !== undefined) return values.out;
  return values.dataset === undefined || values.dataset === 'fashion-mnist-small' ? join('figures', name) : join('figures', `${name}-${values.dataset}`);
}

/** Runs `work` with a progress bar on a terminal, one line per step otherwise (always stderr). */
export async function step<T>(title: string, work: (progress: Progress) => Promise<T>): Promise<T> {
  const bar = createProgressBar(title);
  const started = performance.now();
  if (!process.stderr.isTTY) console.error(`… ${title}`);
  try {
    return await work(bar.progress);
  } finally {
    bar.done();
    if (!process.stderr.isTTY) console.error(`  ${title}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
}

/** Starts the compute backend (wasm unless MODECONN_BACKEND says otherwise) and reports it on stderr. */
export async function startBackend(): Promise<void> {
  const backend = await initBackend(backendFromEnv());
  console.error(`backend: ${backend.active} (${backend.package})`);
}

/** Default training epochs: 3 on the full Fashion-MNIST (≥ 88% test accuracy), 10 on the embedded subset. */
export function defaultEpochs(dataset: string): number {
  return dataset === 'fashion-mnist-small' ? 10 : 3;
}

/** The LeNet5 training recipe of every figure (the demo's): SGD momentum 0.9, wd 5e-4, lr 0.03, cosine, batch 64. */
export function lenet5Training(dataset: string, epochs: number, runs: string, dataDir?: string): TrainModeOptions {
  return {
    architecture: 'lenet5',
    dataset,
    ...(dataDir === undefined ? {} : { dataDir }),
    epochs,
    batchSize: 64,
    lr: 0.03,
    optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
    schedule: { kind: 'cosine' },
    outDir: join(runs, `lenet5-${dataset}-e${epochs}`),
  };
}

/**
 * The demo's training recipe (scripts/demo.ts): the shared LeNet5 recipe for 10 epochs on the
 * embedded data, seeds 1 and 2, checkpoints after epochs 1, 2, 5 and 10 in `runs`. The README's
 * `modeconn train` example is the same recipe (test/readme-recipe.test.ts checks it).
 */
export function demoTraining(runs: string): { readonly seeds: readonly number[]; readonly options: TrainModeOptions } {
  return { seeds: [1, 2], options: { ...lenet5Training('fashion-mnist-small', 10, runs), saveEpochs: [1, 2, 5, 10], outDir: runs } };
}

export interface Modes {
  readonly data: TrainingData;
  readonly options: TrainModeOptions;
  readonly seeds: readonly number[];
  /** The final checkpoints opened as one analysis (`analysis.dispose()` frees models and evaluation data). */
  readonly analysis: Analysis;
  /** Final checkpoints, one per seed (`analysis.models`). */
  readonly models: Model[];
  /** Test accuracy/loss of each final checkpoint, from its metadata. */
  readonly metrics: { seed: number; testAccuracy: number; testLoss: number }[];
}

/**
 * Trains (when absent) one mode per seed and opens the final checkpoints with `openAnalysis`
 * (`evaluation`: its options; the training data is passed on, so a subset stays that subset).
 */
export async function loadModes(options: TrainModeOptions, seeds: readonly number[], data?: TrainingData, evaluation: OpenAnalysisOptions = {}): Promise<Modes> {
  const loaded = data ?? (await loadTrainingData(options.dataset, options.dataDir === undefined ? {} : { dataDir: options.dataDir }));
  const files: string[] = [];
  for (const seed of seeds) {
    const final = checkpointPath(options.outDir, seed, options.epochs);
    if (!existsSync(final)) {
      const run = await step(`train ${options.architecture} seed ${seed} (${options.dataset}, ${options.epochs} epochs)`, (progress) => trainMode(loaded, seed, { ...options, progress }));
      disposeTensors(run.model);
      if (!run.completed) throw new Error(`training of seed ${seed} stopped early; run again to resume`);
    }
    files.push(final);
  }
  const analysis = await openAnalysis(files, { ...evaluation, data: loaded, ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }) });
  const metrics = analysis.checkpoints.map(({ metadata }, i) => {
    const m = { seed: seeds[i] as number, testAccuracy: metadata.metrics?.['testAccuracy'] ?? NaN, testLoss: metadata.metrics?.['testLoss'] ?? NaN };
    console.error(`mode seed ${m.seed}: test accuracy ${(100 * m.testAccuracy).toFixed(2)}%, test loss ${m.testLoss.toFixed(4)} (${files[i]})`);
    return m;
  });
  return { data: loaded, options, seeds, analysis, models: analysis.models, metrics };
}

/** Loads the saved checkpoints of one seed at the given epochs. */
export async function loadEpochs(options: TrainModeOptions, seed: number, epochs: readonly number[]): Promise<Model[]> {
  const models: Model[] = [];
  for (const epoch of epochs) models.push((await loadCheckpoint(checkpointPath(options.outDir, seed, epoch))).model);
  return models;
}

/**
 * The `openAnalysis` options of the common flags: a class-balanced training subset of
 * --train-examples (default 2000; 0 = test split only) and the test split (all of it unless
 * --test-examples). `bnBatches` (default none) for BatchNorm models.
 */
export function evaluationOptions(values: { 'train-examples'?: string; 'test-examples'?: string }, bnBatches = 0): OpenAnalysisOptions {
  const trainExamples = int('train-examples', values['train-examples'], 2000);
  const testExamples = values['test-examples'] === undefined ? undefined : int('test-examples', values['test-examples']);
  return {
    splits: trainExamples > 0 ? ['train', 'test'] : ['test'],
    ...(trainExamples > 0 ? { trainExamples } : {}),
    ...(testExamples === undefined ? {} : { testExamples }),
    ...(bnBatches > 0 ? { bnBatches } : { bnReset: false }),
  };
}

/** Writes `numbers` as figures/<name>/numbers.json (pretty, numbers as computed). */
export async function writeNumbers(dir: string, numbers: unknown): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'numbers.json'), `${JSON.stringify(numbers, null, 2)}\n`);
  console.error(`wrote ${join(dir, 'numbers.json')}`);
}

/** Seeds from "1,2". */
export function seedList(text: string | undefined): number[] {
  const seeds = (text ?? '1,2').split(',').map((s) => int('seeds', s.trim()));
  if (seeds.length < 2) throw new Error(`--seeds: expected at least two seeds, found "${text}"`);
  return seeds;
}

/** Loss and accuracy along the straight line from `a` to `b` (the path is freed afterwards, whatever happens). */
export async function evaluateLinear(a: Model, b: Model, data: EvaluationData, options: EvaluatePathOptions = {}): Promise<PathRow[]> {
  const { path } = await findLinearPath(getArchitecture(a.architecture), [a, b]);
  try {
    return await evaluatePath(path, data, options);
  } finally {
    path.dispose();
  }
}

/** Max of a list (−∞ for none). */
export function maxOf(values: readonly number[]): number {
  return values.reduce((m, v) => Math.max(m, v), -Infinity);
}

export interface BezierOptions {
  readonly epochs: number;
  /** Default 0.015 (Garipov et al.'s README for curves). */
  readonly lr?: number;
  /** Default 128. */
  readonly batchSize?: number;
}

/**
 * A Bezier curve with one trainable bend between modes A and B of `modes` (Garipov et al. 2018),
 * endpoints fixed, trained with their schedule (wd 5e-4) on the modes' preprocessing and saved
 * to `file` (`savePath`); loaded when `file` exists (a file of an earlier version, too). The
 * caller disposes the path.
 */
export async function bezierCurve(modes: Modes, file: string, options: BezierOptions): Promise<{ path: ParameterPath; losses: number[] }> {
  if (existsSync(file)) {
    console.error(`Bezier curve: reusing ${file}`);
    return { path: (await loadPath(file)).path, losses: [] };
  }
  const [a, b] = modes.models as [Model, Model];
  const train = splitBatchSource(modes.data.train, modes.analysis.preprocessing, { batchSize: options.batchSize ?? 128, seed: 0 });
  const found = await step(`train Bezier curve (${options.epochs} epochs)`, (progress) =>
    findCurve(getArchitecture(a.architecture), [a, b], train, { kind: 'bezier', bends: 3, epochs: options.epochs, lr: options.lr ?? 0.015, weightDecay: 5e-4, progress }),
  );
  await mkdir(join(file, '..'), { recursive: true });
  await savePath(file, found.path, { info: found.info });
  return { path: found.path, losses: found.info.rows.map((r) => r.loss) };
}
