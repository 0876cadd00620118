/**
 * Training of independent modes: one network per seed, the seed driving both the initialization
 * and the data order, with checkpoints at chosen epochs (later analyses need the trajectory) and
 * a metrics file. A run interrupted between epochs resumes from its last completed epoch and
 * continues exactly as an uninterrupted run would (batch orders are derived from seed and epoch).
 *
 * Files in `outDir/seed-<seed>/`: `epoch-<e>.safetensors` (checkpoints), `metrics.json` (one row
 * per epoch), `train-state.safetensors` (parameters, buffers and optimizer slots after the last
 * completed epoch; removed when the run completes).
 *
 * Resume trusts nothing it cannot check: the train state and every checkpoint record the run's
 * recipe (`trainRecipe`: architecture and config, dataset and number of training images,
 * preprocessing, epochs, batch size, lr, optimizer, schedule, init, seed), and continuing under
 * another recipe is an error naming the differing fields. That includes more epochs than recorded:
 * the schedule (cosine, garipov, step) depends on the epoch count, so a longer run is another run,
 * not a continuation. A seed whose metrics and final checkpoint say it finished under the same
 * recipe is not trained again: its metrics and final model are returned as they are on disk.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createEvaluator } from '../evaluate/evaluate.js';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint.js';
import type { JsonValue } from '../checkpoint/metadata.js';
import { batchIndices, disposeBatches, loadBatches } from '../data/batches.js';
import { loadDataset } from '../data/datasets.js';
import { DEFAULT_PREPROCESSING, type Preprocessing } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
import { createModel, getArchitecture } from '../models/registry.js';
import { assertSameLayout, disposeTensors } from '../models/tensor-map.js';
import type { InitScheme, Model, ModelState } from '../models/types.js';
import { removeStaleTempFiles, writeFileAtomic } from '../util/atomic-write.js';
import { recipeDifferences, resumeError, type Recipe } from '../util/resume-check.js';
import { createOptimizer, type OptimizerConfig } from './optimizer.js';
import { learningRateAt, type Schedule } from './schedule.js';
import { createGradientPool, resolveWorkers, type GradientPool, type WorkerCount } from './gradient-pool.js';
import { applyGradients } from './step.js';
import { loadTrainState, saveTrainState } from './train-state.js';
import type { Progress } from '../progress.js';

export interface TrainModeOptions {
  readonly architecture: string;
  /** Architecture config (defaults filled in by the architecture). */
  readonly config?: unknown;
  readonly dataset: string;
  readonly dataDir?: string;
  /** Default: pixels scaled to [0, 1]. */
  readonly preprocessing?: Preprocessing;
  readonly epochs: number;
  /** Default 128. */
  readonly batchSize?: number;
  /** Base learning rate (default 0.05). */
  readonly lr?: number;
  /** Default SGD, momentum 0.9, weight decay 5e-4. */
  readonly optimizer?: OptimizerConfig;
  /** Default cosine. */
  readonly schedule?: Schedule;
  /** Epochs after which a checkpoint is written (default every epoch); the last epoch always is. */
  readonly saveEpochs?: readonly number[];
  readonly outDir: string;
  /** Weight initialization (default `pytorch`). */
  readonly init?: InitScheme;
  /** Resume from `train-state.safetensors` when present (default true). */
  readonly resume?: boolean;
  /** Evaluate on the test split after every epoch (default true). */
  readonly evaluateTest?: boolean;
  /**
   * Called after every step: task `train`, step and total over all epochs, metrics `seed`, `epoch`,
   * `epochStep` (1-based within the epoch) and `loss` (mean training loss of the epoch so far).
   */
  readonly progress?: Progress;
  /** Called after every epoch with its metrics (the row metrics.json gets), e.g. for a log line per epoch. */
  readonly onEpoch?: (metrics: EpochMetrics) => void;
  /**
   * Checked before every step: once aborted, the run stops, keeping the state of its last
   * completed epoch on disk, and returns with `completed: false`; run again to resume.
   */
  readonly signal?: AbortSignal;
  /**
   * Worker threads computing each step data-parallel (gradient-pool.ts; default 1: this thread,
   * no workers). `auto`: one per core on wasm and cpu. Deterministic for a given count; models
   * with BatchNorm normalize with per-shard batch statistics when it is above 1.
   */
  readonly workers?: WorkerCount;
}

export interface EpochMetrics {
  readonly seed: number;
  readonly epoch: number;
  readonly lr: number;
  /** Mean loss over the epoch's batches, each measured before its own update (as PyTorch logs it). */
  readonly trainLoss: number;
  /** Accuracy over the epoch's batches in training mode, before each update. */
  readonly trainAccuracy: number;
  readonly testLoss?: number;
  readonly testAccuracy?: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
}

export interface TrainModeResult {
  readonly seed: number;
  /** Checkpoint files by epoch. */
  readonly checkpoints: ReadonlyMap<number, string>;
  readonly metrics: readonly EpochMetrics[];
  /** The final model, or the last one when interrupted (caller disposes). */
  readonly model: Model;
  /** False when stopped by `signal` before the last epoch. */
  readonly completed: boolean;
  /** True when the seed had already finished under the same recipe and was not trained again. */
  readonly alreadyFinished?: boolean;
}

/** Data for training: the training split, optionally the test split. Load once, train many seeds. */
export interface TrainingData {
  readonly train: ImageSplit;
  readonly test?: ImageSplit;
}

/** Loads the splits a training run needs. */
export async function loadTrainingData(dataset: string, options: { dataDir?: string; test?: boolean } = {}): Promise<TrainingData> {
  const loadOptions = options.dataDir === undefined ? {} : { dataDir: options.dataDir };
  const train = await loadDataset(dataset, 'train', loadOptions);
  if (options.test === false) return { train };
  return { train, test: await loadDataset(dataset, 'test', loadOptions) };
}

/** Checks options before any long computation; errors name the option in backticks (`batchSize`), as library errors do. */
export function validateTrainOptions(options: TrainModeOptions): void {
  getArchitecture(options.architecture);
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`\`epochs\`: expected a positive integer, found ${options.epochs}`);
  const batchSize = options.batchSize ?? 128;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`\`batchSize\`: expected a positive integer, found ${batchSize}`);
  const lr = options.lr ?? 0.05;
  if (!(lr > 0)) throw new Error(`\`lr\`: expected a positive number, found ${lr}`);
  for (const e of options.saveEpochs ?? []) {
    if (!Number.isInteger(e) || e < 1 || e > options.epochs) throw new Error(`\`saveEpochs\`: ${e} is not an epoch in 1..${options.epochs}`);
  }
  resolveWorkers(options.workers, 'trainMode workers');
}

const DEFAULT_OPTIMIZER: OptimizerConfig = { kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 };

/** Path of the checkpoint of `seed` after `epoch` in `outDir`. */
export function checkpointPath(outDir: string, seed: number, epoch: number): string {
  return join(outDir, `seed-${seed}`, `epoch-${epoch}.safetensors`);
}

/** The files `trainMode` writes in a seed folder (checkpoints, train state, metrics). */
function isTrainFile(name: string): boolean {
  return /^epoch-\d+\.safetensors$/.test(name) || name === 'train-state.safetensors' || name === 'metrics.json';
}

/**
 * Trains one mode.
 *
 * @example
 * const data = await loadTrainingData('fashion-mnist-small');
 * const run = await trainMode(data, 1, { architecture: 'lenet5', dataset: 'fashion-mnist-small', epochs: 5, outDir: 'runs/demo' });
 */
export async function trainMode(data: TrainingData, seed: number, options: TrainModeOptions): Promise<TrainModeResult> {
  validateTrainOptions(options);
  const arch = getArchitecture(options.architecture);
  const preprocessing = options.preprocessing ?? DEFAULT_PREPROCESSING;
  const batchSize = options.batchSize ?? 128;
  const lr = options.lr ?? 0.05;
  const schedule = options.schedule ?? { kind: 'cosine' };
  const optimizerConfig = options.optimizer ?? DEFAULT_OPTIMIZER;
  const dir = join(options.outDir, `seed-${seed}`);
  await mkdir(dir, { recursive: true });
  const statePath = join(dir, 'train-state.safetensors');
  const metricsPath = join(dir, 'metrics.json');
  const saveEpochs = new Set(options.saveEpochs ?? Array.from({ length: options.epochs }, (_, i) => i + 1));
  saveEpochs.add(options.epochs);

  let model: Model = createModel(options.architecture, options.config ?? {}, seed, options.init === undefined ? {} : { scheme: options.init });
  const config = model.config;
  const recipe: Recipe = {
    architecture: arch.name,
    config,
    dataset: options.dataset,
    trainExamples: data.train.count,
    preprocessing: { ...preprocessing },
    epochs: options.epochs,
    batchSize,
    lr,
    optimizer: optimizerConfig,
    schedule,
    init: options.init ?? 'pytorch',
    seed,
  };
  let startEpoch = 1;
  let metrics: EpochMetrics[] = [];
  const checkpoints = new Map<number, string>();
  const resume = options.resume ?? true;
  const startOver = 'pass resume: false';
  const refuse = (file: string, recorded: Recipe): void => {
    const differences = recipeDifferences(recorded, recipe);
    if (differences.length > 0) throw resumeError({ file, folder: dir, reason: 'was written by a run with another recipe', differences }, startOver);
  };
  const savedCheckpoints = (last: number): void => {
    for (let e = 1; e <= last; e++) if (existsSync(checkpointPath(options.outDir, seed, e))) checkpoints.set(e, checkpointPath(options.outDir, seed, e));
  };

  // Temporary files of writes that a kill interrupted (epoch checkpoints, state, metrics): the
  // seed folder is this run's, whether it resumes or starts over.
  await removeStaleTempFiles(dir, isTrainFile);
  let savedSlots: { slots: Map<string, tf.Tensor>; steps: number } | undefined;
  if (resume && existsSync(statePath)) {
    let saved: Awaited<ReturnType<typeof loadTrainState>>;
    try {
      saved = await loadTrainState(statePath);
    } catch (error) {
      disposeTensors(model);
      throw resumeError({ file: statePath, folder: dir, reason: `cannot be read (${(error as Error).message})`, differences: [] }, startOver);
    }
    try {
      if (saved.recipe !== undefined) refuse(statePath, saved.recipe);
      assertSameLayout(model.params, saved.state.params, `${statePath} (parameters)`);
      assertSameLayout(model.buffers, saved.state.buffers, `${statePath} (buffers)`);
      metrics = existsSync(metricsPath) ? (await readMetrics(metricsPath, dir, startOver)).filter((m) => m.epoch <= saved.epoch) : [];
    } catch (error) {
      disposeTensors(model, saved.state);
      disposeTensors(saved.slots);
      throw error;
    }
    disposeTensors(model);
    model = { ...model, params: saved.state.params, buffers: saved.state.buffers };
    savedSlots = { slots: saved.slots, steps: saved.optimizerSteps };
    startEpoch = saved.epoch + 1;
    savedCheckpoints(saved.epoch);
  } else if (resume && existsSync(metricsPath)) {
    // No state: either a finished seed (metrics up to the last epoch and its checkpoint) or nothing to continue.
    const finished = await finishedRun(metricsPath, dir, startOver, (epoch) => checkpointPath(options.outDir, seed, epoch)).catch((error: unknown) => {
      disposeTensors(model);
      throw error;
    });
    if (finished !== undefined) {
      if (finished.recipe !== undefined) {
        try {
          refuse(finished.file, finished.recipe);
        } catch (error) {
          disposeTensors(model, finished.model);
          throw error;
        }
      }
      if (finished.recipe !== undefined && finished.epoch === options.epochs) {
        disposeTensors(model);
        savedCheckpoints(finished.epoch);
        return { seed, checkpoints, metrics: finished.metrics, model: finished.model, completed: true, alreadyFinished: true };
      }
      disposeTensors(finished.model);
    }
  }
  const optimizer = createOptimizer(optimizerConfig);
  if (savedSlots !== undefined) {
    optimizer.loadSlots(savedSlots.slots, savedSlots.steps);
    disposeTensors(savedSlots.slots);
  }

  const testBatches =
    options.evaluateTest !== false && data.test !== undefined
      ? loadBatches(data.test, batchIndices(data.test.count, { batchSize: 1000, shuffle: false }), preprocessing)
      : undefined;
  const evaluator = testBatches === undefined ? undefined : createEvaluator(arch, config, { test: testBatches, bnBatches: [] }, { bnReset: false });

  let completed = true;
  let pool: GradientPool | undefined;
  try {
    pool = await createGradientPool(arch, config, { train: data.train, preprocessing }, { workers: resolveWorkers(options.workers, 'trainMode workers') });
    epochs: for (let epoch = startEpoch; epoch <= options.epochs; epoch++) {
      const started = performance.now();
      const order = batchIndices(data.train.count, { batchSize, seed, epoch, shuffle: true });
      const epochLr = learningRateAt(schedule, lr, epoch - 1, options.epochs);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let step = 0; step < order.length; step++) {
        if (options.signal !== undefined) {
          // A step is synchronous tensor work: without a turn of the event loop between steps a
          // Ctrl-C handler (which aborts the signal) would only run at the end of the epoch.
          await new Promise((resolve) => setImmediate(resolve));
          if (options.signal.aborted) {
            completed = false;
            break epochs;
          }
        }
        const indices = order[step] as Int32Array;
        const stepLr = learningRateAt(schedule, lr, epoch - 1 + step / order.length, options.epochs);
        const result = applyGradients(model, await pool.lossAndGradients(model, indices), optimizer, stepLr);
        // Asynchronous reads: the webgpu backend cannot read a GPU tensor synchronously in Node.
        const [lossValue, correctValue] = await Promise.all([result.loss.data(), result.correct.data()]);
        lossSum += (lossValue[0] as number) * indices.length;
        correct += correctValue[0] as number;
        seen += indices.length;
        tf.dispose([result.loss, result.correct]);
        disposeTensors(model);
        model = { ...model, params: result.state.params, buffers: result.state.buffers };
        const loss = lossSum / seen;
        options.progress?.({
          task: 'train',
          step: (epoch - 1) * order.length + step + 1,
          total: options.epochs * order.length,
          message: `epoch ${epoch}/${options.epochs} loss ${loss.toFixed(4)}`,
          metrics: { seed, epoch, epochStep: step + 1, loss },
        });
      }
      const seconds = (performance.now() - started) / 1000;
      const test = evaluator === undefined ? undefined : (await evaluator.evaluate(model)).test;
      const row: EpochMetrics = {
        seed,
        epoch,
        lr: epochLr,
        trainLoss: lossSum / seen,
        trainAccuracy: correct / seen,
        ...(test === undefined ? {} : { testLoss: test.loss, testAccuracy: test.accuracy }),
        seconds,
        imagesPerSecond: seen / seconds,
      };
      metrics.push(row);
      options.onEpoch?.(row);
      const metadata = {
        dataset: options.dataset,
        preprocessing: { ...preprocessing },
        seed,
        epoch,
        metrics: { trainLoss: row.trainLoss, ...(test === undefined ? {} : { testLoss: test.loss, testAccuracy: test.accuracy }) },
        extra: { trainRecipe: recipe as JsonValue },
      };
      if (saveEpochs.has(epoch)) {
        const path = checkpointPath(options.outDir, seed, epoch);
        await saveCheckpoint(path, model, metadata);
        checkpoints.set(epoch, path);
      }
      await writeFileAtomic(metricsPath, `${JSON.stringify(metrics, null, 2)}\n`);
      if (epoch < options.epochs) {
        const slots = optimizer.slots();
        await saveTrainState(statePath, model, slots, epoch, optimizer.stepCount, recipe);
        disposeTensors(slots);
      }
    }
    if (completed) await rm(statePath, { force: true });
  } finally {
    await pool?.close();
    evaluator?.dispose();
    if (testBatches !== undefined) disposeBatches(testBatches);
    optimizer.dispose();
  }
  return { seed, checkpoints, metrics, model, completed };
}

/** The rows of `metrics.json`; errors name the file and say how to start over. */
async function readMetrics(path: string, folder: string, startOver: string): Promise<EpochMetrics[]> {
  const fail = (reason: string): Error => resumeError({ file: path, folder, reason, differences: [] }, startOver);
  let rows: unknown;
  try {
    rows = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw fail(`is not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(rows) || rows.some((r) => r === null || typeof r !== 'object' || !Number.isInteger((r as { epoch?: unknown }).epoch))) {
    throw fail('is not a list of epoch rows (objects with an integer "epoch")');
  }
  return rows as EpochMetrics[];
}

/**
 * What a seed folder without a train state holds: the metrics, and the checkpoint of their last
 * epoch with the recipe it recorded (undefined when there is no such checkpoint).
 */
async function finishedRun(
  metricsPath: string,
  folder: string,
  startOver: string,
  checkpointOf: (epoch: number) => string,
): Promise<{ metrics: EpochMetrics[]; epoch: number; file: string; model: Model; recipe: Recipe | undefined } | undefined> {
  const metrics = await readMetrics(metricsPath, folder, startOver);
  const epoch = metrics.at(-1)?.epoch;
  if (epoch === undefined || !existsSync(checkpointOf(epoch))) return undefined;
  const file = checkpointOf(epoch);
  let loaded: Awaited<ReturnType<typeof loadCheckpoint>>;
  try {
    loaded = await loadCheckpoint(file);
  } catch (error) {
    throw resumeError({ file, folder, reason: `cannot be read (${(error as Error).message})`, differences: [] }, startOver);
  }
  const extra = loaded.metadata.extra;
  const recorded = extra !== null && typeof extra === 'object' && !Array.isArray(extra) ? (extra as Record<string, unknown>)['trainRecipe'] : undefined;
  const recipe = recorded !== null && typeof recorded === 'object' && !Array.isArray(recorded) ? (recorded as Recipe) : undefined;
  return { metrics, epoch, file, model: loaded.model, recipe };
}

export type { ModelState };
