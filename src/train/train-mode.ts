/**
 * Training of independent modes: one network per seed, the seed driving both the initialization
 * and the data order, with checkpoints at chosen epochs (later analyses need the trajectory) and
 * a metrics file. A run interrupted between epochs resumes from its last completed epoch and
 * continues exactly as an uninterrupted run would (batch orders are derived from seed and epoch).
 *
 * Files in `outDir/seed-<seed>/`: `epoch-<e>.safetensors` (checkpoints), `metrics.json` (one row
 * per epoch), `train-state.safetensors` (parameters, buffers and optimizer slots after the last
 * completed epoch; removed when the run completes).
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createEvaluator } from '../barriers/evaluate.js';
import { saveCheckpoint } from '../checkpoint/checkpoint.js';
import { batchIndices, disposeBatches, loadBatches, toTensors } from '../data/batches.js';
import { loadDataset } from '../data/datasets.js';
import { DEFAULT_PREPROCESSING, type Preprocessing } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
import { createModel, getArchitecture } from '../models/registry.js';
import { assertSameLayout, disposeTensors } from '../models/tensor-map.js';
import type { InitScheme, Model, ModelState } from '../models/types.js';
import { removeStaleTempFiles, writeFileAtomic } from '../util/atomic-write.js';
import { createOptimizer, type OptimizerConfig } from './optimizer.js';
import { learningRateAt, type Schedule } from './schedule.js';
import { trainStep } from './step.js';
import { loadTrainState, saveTrainState } from './train-state.js';

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
  readonly progress?: (event: TrainProgress) => void;
  /**
   * Checked before every step: once aborted, the run stops, keeping the state of its last
   * completed epoch on disk, and returns with `completed: false`; run again to resume.
   */
  readonly signal?: AbortSignal;
}

export interface TrainProgress {
  readonly seed: number;
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly stepsPerEpoch: number;
  /** Mean training loss of the epoch so far (running, on the batches as they were trained). */
  readonly loss: number;
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

/** Checks options before any long computation; errors name the option. */
export function validateTrainOptions(options: TrainModeOptions): void {
  getArchitecture(options.architecture);
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`--epochs: expected a positive integer, found ${options.epochs}`);
  const batchSize = options.batchSize ?? 128;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`--batch-size: expected a positive integer, found ${batchSize}`);
  const lr = options.lr ?? 0.05;
  if (!(lr > 0)) throw new Error(`--lr: expected a positive number, found ${lr}`);
  for (const e of options.saveEpochs ?? []) {
    if (!Number.isInteger(e) || e < 1 || e > options.epochs) throw new Error(`--save-epochs: ${e} is not an epoch in 1..${options.epochs}`);
  }
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
  const optimizer = createOptimizer(optimizerConfig);
  let startEpoch = 1;
  let metrics: EpochMetrics[] = [];
  const checkpoints = new Map<number, string>();

  // Temporary files of writes that a kill interrupted (epoch checkpoints, state, metrics): the
  // seed folder is this run's, whether it resumes or starts over.
  await removeStaleTempFiles(dir, isTrainFile);
  if ((options.resume ?? true) && existsSync(statePath)) {
    const saved = await loadTrainState(statePath);
    assertSameLayout(model.params, saved.state.params, `${statePath} (parameters)`);
    assertSameLayout(model.buffers, saved.state.buffers, `${statePath} (buffers)`);
    disposeTensors(model);
    model = { ...model, params: saved.state.params, buffers: saved.state.buffers };
    optimizer.loadSlots(saved.slots, saved.optimizerSteps);
    disposeTensors(saved.slots);
    const epoch = saved.epoch;
    startEpoch = epoch + 1;
    if (existsSync(metricsPath)) metrics = (JSON.parse(await readFile(metricsPath, 'utf8')) as EpochMetrics[]).filter((m) => m.epoch <= epoch);
    for (let e = 1; e <= epoch; e++) if (existsSync(checkpointPath(options.outDir, seed, e))) checkpoints.set(e, checkpointPath(options.outDir, seed, e));
  }

  const testBatches =
    options.evaluateTest !== false && data.test !== undefined
      ? loadBatches(data.test, batchIndices(data.test.count, { batchSize: 1000, shuffle: false }), preprocessing)
      : undefined;
  const evaluator = testBatches === undefined ? undefined : createEvaluator(arch, config, { test: testBatches, bnBatches: [] }, { bnReset: false });

  let completed = true;
  try {
    epochs: for (let epoch = startEpoch; epoch <= options.epochs; epoch++) {
      const started = performance.now();
      const order = batchIndices(data.train.count, { batchSize, seed, epoch, shuffle: true });
      const epochLr = learningRateAt(schedule, lr, epoch - 1, options.epochs);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let step = 0; step < order.length; step++) {
        if (options.signal?.aborted === true) {
          completed = false;
          break epochs;
        }
        const indices = order[step] as Int32Array;
        const stepLr = learningRateAt(schedule, lr, epoch - 1 + step / order.length, options.epochs);
        const batch = toTensors(data.train, indices, preprocessing);
        const result = trainStep(arch, config, model, batch, optimizer, stepLr);
        lossSum += (result.loss.dataSync()[0] as number) * indices.length;
        correct += result.correct.dataSync()[0] as number;
        seen += indices.length;
        tf.dispose([result.loss, result.correct]);
        tf.dispose([batch.x, batch.y]);
        disposeTensors(model);
        model = { ...model, params: result.state.params, buffers: result.state.buffers };
        options.progress?.({ seed, epoch, epochs: options.epochs, step: step + 1, stepsPerEpoch: order.length, loss: lossSum / seen });
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
      const metadata = {
        dataset: options.dataset,
        preprocessing: { ...preprocessing },
        seed,
        epoch,
        metrics: { trainLoss: row.trainLoss, ...(test === undefined ? {} : { testLoss: test.loss, testAccuracy: test.accuracy }) },
      };
      if (saveEpochs.has(epoch)) {
        const path = checkpointPath(options.outDir, seed, epoch);
        await saveCheckpoint(path, model, metadata);
        checkpoints.set(epoch, path);
      }
      await writeFileAtomic(metricsPath, `${JSON.stringify(metrics, null, 2)}\n`);
      if (epoch < options.epochs) {
        const slots = optimizer.slots();
        await saveTrainState(statePath, model, slots, epoch, optimizer.stepCount);
        disposeTensors(slots);
      }
    }
    if (completed) await rm(statePath, { force: true });
  } finally {
    evaluator?.dispose();
    if (testBatches !== undefined) disposeBatches(testBatches);
    optimizer.dispose();
  }
  return { seed, checkpoints, metrics, model, completed };
}

export type { ModelState };
