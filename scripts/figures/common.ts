/**
 * What every paper-figure script shares: command-line options, LeNet5 modes trained once into
 * runs/figures/ and reused by every figure, evaluation data, progress on stderr, numbers.json.
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
  createEvaluationData,
  disposeTensors,
  initBackend,
  loadCheckpoint,
  loadTrainingData,
  trainMode,
  createCurve,
  disposeCurve,
  getArchitecture,
  loadCurve,
  saveCurve,
  splitBatchSource,
  trainCurve,
  DEFAULT_PREPROCESSING,
  type Curve,
  type EvaluationData,
  type Model,
  type Preprocessing,
  type TrainModeOptions,
  type TrainingData,
} from '../../src/index.js';
import { createProgressBar } from '../../src/cli/progress.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';

export type Progress = (done: number, total: number, label?: string) => void;

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
    return await work((d, t, l) => bar.update(d, t, l));
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

export interface Modes {
  readonly data: TrainingData;
  readonly options: TrainModeOptions;
  readonly seeds: readonly number[];
  /** Final checkpoints, one per seed. */
  readonly models: Model[];
  /** Test accuracy/loss of each final checkpoint, from its metadata. */
  readonly metrics: { seed: number; testAccuracy: number; testLoss: number }[];
}

/** Trains (when absent) and loads one mode per seed. */
export async function loadModes(options: TrainModeOptions, seeds: readonly number[], data?: TrainingData): Promise<Modes> {
  const loaded = data ?? (await loadTrainingData(options.dataset, options.dataDir === undefined ? {} : { dataDir: options.dataDir }));
  const models: Model[] = [];
  const metrics: Modes['metrics'] = [];
  for (const seed of seeds) {
    const final = checkpointPath(options.outDir, seed, options.epochs);
    if (!existsSync(final)) {
      const run = await step(`train ${options.architecture} seed ${seed} (${options.dataset}, ${options.epochs} epochs)`, (progress) =>
        trainMode(loaded, seed, {
          ...options,
          progress: (p) => progress((p.epoch - 1) * p.stepsPerEpoch + p.step, p.epochs * p.stepsPerEpoch, `epoch ${p.epoch} loss ${p.loss.toFixed(3)}`),
        }),
      );
      disposeTensors(run.model);
      if (!run.completed) throw new Error(`training of seed ${seed} stopped early; run again to resume`);
    }
    const { model, metadata } = await loadCheckpoint(final);
    models.push(model);
    const m = { seed, testAccuracy: metadata.metrics?.['testAccuracy'] ?? NaN, testLoss: metadata.metrics?.['testLoss'] ?? NaN };
    metrics.push(m);
    console.error(`mode seed ${seed}: test accuracy ${(100 * m.testAccuracy).toFixed(2)}%, test loss ${m.testLoss.toFixed(4)} (${final})`);
  }
  return { data: loaded, options, seeds, models, metrics };
}

/** Loads the saved checkpoints of one seed at the given epochs. */
export async function loadEpochs(options: TrainModeOptions, seed: number, epochs: readonly number[]): Promise<Model[]> {
  const models: Model[] = [];
  for (const epoch of epochs) models.push((await loadCheckpoint(checkpointPath(options.outDir, seed, epoch))).model);
  return models;
}

/** Evaluation data: a class-balanced training subset and the test split (all of it unless --test-examples). */
export function evaluationData(
  data: TrainingData,
  values: { 'train-examples'?: string; 'test-examples'?: string },
  preprocessing: Preprocessing = DEFAULT_PREPROCESSING,
  bnBatches = 0,
): EvaluationData {
  const trainExamples = int('train-examples', values['train-examples'], 2000);
  const testExamples = values['test-examples'] === undefined ? undefined : int('test-examples', values['test-examples']);
  return createEvaluationData(
    { train: data.train, ...(data.test === undefined ? {} : { test: data.test }), evaluateTrain: trainExamples > 0 },
    preprocessing,
    { ...(trainExamples > 0 ? { trainExamples } : {}), ...(testExamples === undefined ? {} : { testExamples }), bnBatches },
  );
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
 * A Bezier curve with one trainable bend between modes A and B (Garipov et al. 2018), endpoints
 * fixed, trained with their schedule (wd 5e-4) and saved to `file`; loaded when `file` exists.
 */
export async function bezierCurve(a: Model, b: Model, data: TrainingData, file: string, options: BezierOptions): Promise<{ curve: Curve; losses: number[] }> {
  if (existsSync(file)) {
    console.error(`Bezier curve: reusing ${file}`);
    return { curve: (await loadCurve(file)).curve, losses: [] };
  }
  const arch = getArchitecture(a.architecture);
  const initial = createCurve(a, b, { kind: 'bezier', bends: 3 });
  const train = splitBatchSource(data.train, DEFAULT_PREPROCESSING, { batchSize: options.batchSize ?? 128, seed: 0 });
  const trained = await step(`train Bezier curve (${options.epochs} epochs)`, (progress) =>
    trainCurve(arch, initial, train, {
      epochs: options.epochs,
      lr: options.lr ?? 0.015,
      weightDecay: 5e-4,
      progress: (p) => progress(p.step, p.totalSteps, `loss ${p.loss.toFixed(3)}`),
    }),
  );
  for (const slot of trained.state.slots.values()) slot.dispose();
  disposeCurve(initial);
  await mkdir(join(file, '..'), { recursive: true });
  await saveCurve(file, trained.curve);
  return { curve: trained.curve, losses: trained.rows.map((r) => r.loss) };
}
