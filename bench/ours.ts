/**
 * Our side of the §4 targets table (bench.ts), each workload run through the library the way the
 * CLI runs it, with the machine's other load measured over exactly the timed part (targets.ts).
 *
 * - train step: trainMode's step, i.e. `createGradientPool` (index batches into a shared split)
 *   + SGD momentum in this thread, at `workers` workers;
 * - eval: `openEvaluator` (the evaluator pool at workers > 1) over a grid of `workers` points per
 *   call, each evaluated on 2 batches of the model's batch size: images/s = points × images / s;
 * - LeNet5 epoch / ResNet18 k=1/4 epoch: `trainMode` (one epoch, checkpoint written, no test pass);
 * - LeNet5 curve: `findCurve` (Bezier, 3 bends, 4 epochs, `path curve`'s defaults) then
 *   `evaluatePath` at 61 points on the 10,000 test images;
 * - simulator: 20 LeNet5 gossip nodes that all train every tick.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageSplit } from '../src/data/types.js';
import { DEFAULT_PREPROCESSING, type Preprocessing } from '../src/data/preprocess.js';
import { createEvaluationData, disposeEvaluationData } from '../src/evaluate/evaluation-data.js';
import { evaluatePoints, openEvaluator } from '../src/evaluate/evaluate-points.js';
import type { EvaluationData } from '../src/evaluate/evaluate.js';
import { createModel, getArchitecture } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { ModelState } from '../src/models/types.js';
import { splitBatchSource } from '../src/paths/batch-source.js';
import { evaluatePath } from '../src/paths/linear-path.js';
import { findCurve } from '../src/paths/train-curve.js';
import { createSimulation } from '../src/simulate/simulator.js';
import { createGradientPool } from '../src/train/gradient-pool.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { applyGradients } from '../src/train/step.js';
import { trainMode } from '../src/train/train-mode.js';
import { createRandom } from '../src/util/random.js';
import { busyJiffies, otherCores, type Sample, type StepModel } from './targets.js';

const CLOCK_TICKS = ((): number => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(out.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** Starts a load window; the returned function ends it: other processes' cores and the load average. */
export function openLoadWindow(): () => { otherCores: number; loadAverage: number } {
  const busy = busyJiffies(readFileSync('/proc/stat', 'utf8'));
  const cpu = process.cpuUsage();
  const start = performance.now();
  return () => {
    const used = process.cpuUsage(cpu);
    return {
      otherCores: otherCores({
        busyJiffies: busyJiffies(readFileSync('/proc/stat', 'utf8')) - busy,
        clockTicks: CLOCK_TICKS,
        // Every thread of this process (worker threads included); we start no child processes.
        ownCpuSeconds: (used.user + used.system) / 1e6,
        wallSeconds: (performance.now() - start) / 1000,
      }),
      loadAverage: loadavg()[0] ?? Number.NaN,
    };
  };
}

/**
 * Runs `step` twice to warm up (as torch_bench.py's `measure` does: a fresh pool's first calls grow
 * the wasm heaps), then ≥ `min` times and for ≥ `seconds`; `perCall` units per call → units/s.
 */
async function rate(step: () => Promise<void>, perCall: number, seconds: number, min = 2): Promise<Sample> {
  await step();
  await step();
  const close = openLoadWindow();
  const start = performance.now();
  let count = 0;
  while (count < min || (performance.now() - start) / 1000 < seconds) {
    await step();
    count += 1;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { value: (count * perCall) / elapsed, ...close() };
}

/** Seconds of one run of `work`. */
async function duration(work: () => Promise<void>): Promise<Sample> {
  const close = openLoadWindow();
  const start = performance.now();
  await work();
  const value = (performance.now() - start) / 1000;
  return { value, ...close() };
}

/** A split of seeded random bytes shaped like the model's input (H×W×C), `count` images. */
export function randomSplit(shape: readonly number[], count: number): ImageSplit {
  const [h, w, c] = shape as [number, number, number];
  const r = createRandom(0);
  return {
    dataset: 'random',
    split: 'train',
    images: Uint8Array.from({ length: count * h * w * c }, () => r.int(256)),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    count,
    height: h,
    width: w,
    channels: c,
    classes: 10,
  };
}

/** Training images/s of trainMode's step on `workers` workers. */
export async function trainStepRate(m: StepModel, workers: number, seconds: number): Promise<Sample> {
  const arch = getArchitecture(m.architecture);
  const model = createModel(m.architecture, m.config, 1);
  const split = randomSplit(arch.spec(model.config).inputShape, 4 * m.batch);
  const pool = await createGradientPool(arch, model.config, { train: split }, { workers });
  const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
  let state: ModelState = model;
  let k = 0;
  try {
    return await rate(
      async () => {
        const indices = Int32Array.from({ length: m.batch }, (_, i) => (k * m.batch + i) % split.count);
        k += 1;
        const result = applyGradients(state, await pool.lossAndGradients(state, indices), optimizer, 0.01);
        await result.loss.data();
        tf.dispose([result.loss, result.correct]);
        disposeTensors(state);
        state = result.state;
      },
      m.batch,
      seconds,
    );
  } finally {
    await pool.close();
    optimizer.dispose();
    disposeTensors(state);
  }
}

/** Evaluation images/s through `openEvaluator` (pool at workers > 1), one grid of `workers` points per call. */
export async function evalRate(m: StepModel, workers: number, seconds: number): Promise<Sample> {
  const arch = getArchitecture(m.architecture);
  const model = createModel(m.architecture, m.config, 1);
  const [h, w, c] = arch.spec(model.config).inputShape as [number, number, number];
  const batches = 2;
  const data: EvaluationData = {
    test: Array.from({ length: batches }, (_, i) => ({
      x: tf.randomUniform<tf.Rank.R4>([m.batch, h, w, c], 0, 1, 'float32', i + 1),
      y: tf.tensor1d(Array.from({ length: m.batch }, (_, j) => (i + j) % 10), 'int32'),
    })),
    bnBatches: [],
  };
  const evaluator = await openEvaluator(arch, model.config, data, { workers, splits: ['test'], bnReset: false });
  const points = Array.from({ length: workers }, (_, i) => i);
  const copy = (): ModelState => ({ params: new Map([...model.params].map(([n, t]) => [n, t.clone()])), buffers: new Map([...model.buffers].map(([n, t]) => [n, t.clone()])) });
  try {
    return await rate(
      async () => {
        await evaluatePoints(evaluator, points, copy);
      },
      points.length * batches * m.batch,
      seconds,
    );
  } finally {
    await evaluator.close();
    disposeEvaluationData(data);
    disposeTensors(model);
  }
}

/** The first `count` images of `split` (a view, no copy). */
export function firstImages(split: ImageSplit, count: number): ImageSplit {
  const n = Math.min(count, split.count);
  const size = split.height * split.width * split.channels;
  return { ...split, images: split.images.subarray(0, n * size), labels: split.labels.subarray(0, n), count: n };
}

/** Seconds of one `trainMode` epoch (checkpoint written, no test pass), as `modeconn train` runs it. */
export async function trainEpochSeconds(
  train: ImageSplit,
  options: { readonly architecture: string; readonly config: unknown; readonly batchSize: number; readonly lr: number; readonly preprocessing: Preprocessing; readonly workers: number },
): Promise<Sample> {
  const outDir = await mkdtemp(join(tmpdir(), 'modeconn-bench-'));
  try {
    return await duration(async () => {
      const run = await trainMode({ train }, 1, {
        architecture: options.architecture,
        config: options.config,
        dataset: train.dataset,
        epochs: 1,
        batchSize: options.batchSize,
        lr: options.lr,
        preprocessing: options.preprocessing,
        outDir,
        resume: false,
        evaluateTest: false,
        workers: options.workers,
      });
      disposeTensors(run.model);
    });
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/**
 * Seconds of `modeconn path curve A B --epochs 4` (Bezier, 3 bends, batch 128, lr 0.015, momentum
 * 0.9, wd 5e-4, Garipov schedule) followed by its 61-point evaluation on the test split.
 */
export async function curveEndToEndSeconds(train: ImageSplit, test: ImageSplit, workers: number, epochs = 4, points = 61): Promise<Sample> {
  const arch = getArchitecture('lenet5');
  const a = createModel('lenet5', {}, 1);
  const b = createModel('lenet5', {}, 2);
  const data = createEvaluationData({ test }, DEFAULT_PREPROCESSING, { bnBatches: 0 });
  try {
    return await duration(async () => {
      const source = splitBatchSource(train, DEFAULT_PREPROCESSING, { batchSize: 128, seed: 0 });
      const found = await findCurve(arch, [a, b], source, { kind: 'bezier', bends: 3, epochs, lr: 0.015, momentum: 0.9, weightDecay: 5e-4, seed: 0, workers });
      try {
        await evaluatePath(found.path, data, { points, splits: ['test'], workers });
      } finally {
        found.path.dispose();
      }
    });
  } finally {
    disposeEvaluationData(data);
    disposeTensors(a, b);
  }
}

/** Node-steps/s of a 20-node gossip simulation where every node trains every tick (batch 64). */
export async function simulatorRate(train: ImageSplit, test: ImageSplit, workers: number, ticks: number): Promise<Sample> {
  const nodes = 20;
  const sim = createSimulation(
    { mode: 'gossip', nodes, topology: 'regular:4', trainInterval: [1, 1], batchSize: 64, ticks: ticks + 2, recordEvery: 1_000_000, testSubset: 20, seed: 1 },
    { train, test },
    { workers },
  );
  try {
    await sim.run(2); // tick 0's record and the pool's start-up
    const close = openLoadWindow();
    const started = performance.now();
    await sim.run(ticks + 1);
    const value = (nodes * (ticks - 1)) / ((performance.now() - started) / 1000);
    return { value, ...close() };
  } finally {
    sim.dispose();
  }
}
