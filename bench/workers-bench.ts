/**
 * Throughput of data-parallel training on worker threads (src/train/gradient-pool.ts) and of the
 * simulator's node-parallel training, with 1 worker (this thread) and more, plus the inputs and
 * predictions of the scaling model (src/train/scaling-model.ts) for 8, 16 and 64 workers.
 *
 * Training: `trainMode`'s step (index batches into a shared split of random bytes, pool gradient,
 * SGD momentum update in the parent). Simulator: 20 LeNet5 nodes that all train every tick.
 * The speed-up needs idle cores: beside the training and simulator figures, the cores other
 * processes used while they were measured (targets.ts: the load average would count our own
 * workers) and the load average; figures with others above 0.25 core are marked LOADED. The
 * scaling model's rows carry the load average only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { loadDataset } from '../src/data/datasets.js';
import { createModel, getArchitecture } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { ModelState } from '../src/models/types.js';
import { createSimulation } from '../src/simulate/simulator.js';
import { createGradientPool } from '../src/train/gradient-pool.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { predictStepTime, type ExchangeCostMeasurement, type StepCostMeasurement } from '../src/train/scaling-model.js';
import { weightedSum } from '../src/train/shards.js';
import { applyGradients } from '../src/train/step.js';
import { openLoadWindow, randomSplit } from './ours.js';
import { LOADED_OTHER_CORES } from './targets.js';

export interface WorkersBenchRow {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly note: string;
}

interface TrainModel {
  readonly id: string;
  readonly architecture: string;
  readonly config: unknown;
  readonly batch: number;
}

const TRAIN_MODELS: readonly TrainModel[] = [
  { id: 'lenet5', architecture: 'lenet5', config: {}, batch: 128 },
  { id: 'resnet18-k0.25', architecture: 'resnet18', config: { width: 0.25 }, batch: 64 },
  { id: 'cct_2_3x2_32', architecture: 'cct', config: { preset: 'cct_2_3x2_32' }, batch: 64 },
];

/** Models the scaling model predicts for (ResNet18 k=1 only measured at one worker). */
const MODEL_MODELS: readonly TrainModel[] = [
  { id: 'lenet5', architecture: 'lenet5', config: {}, batch: 128 },
  { id: 'resnet18-k1', architecture: 'resnet18', config: { width: 1 }, batch: 32 },
  { id: 'cct_2_3x2_32', architecture: 'cct', config: { preset: 'cct_2_3x2_32' }, batch: 64 },
];

const loadNote = (window?: { readonly otherCores: number; readonly loadAverage: number }): string => {
  if (window === undefined) return `load average ${(loadavg()[0] ?? Number.NaN).toFixed(1)}`;
  const loaded = window.otherCores > LOADED_OTHER_CORES;
  return `other processes ${window.otherCores.toFixed(2)} cores, load average ${window.loadAverage.toFixed(1)}${loaded ? ' (LOADED: not a valid measurement)' : ''}`;
};

/**
 * Repeats `step` for `seconds` (≥ `min` times after `warmUp` calls); returns seconds per call. A
 * fresh pool's worker threads run unoptimized JS and baseline wasm for their first steps (on
 * LeNet5 the first three steps took 1.3–3× a later step's CPU, most of it on V8's compiler
 * threads), so pools are warmed up for several steps before timing.
 */
async function secondsPerCall(step: () => Promise<void>, seconds: number, min = 3, warmUp = 1): Promise<number> {
  for (let i = 0; i < warmUp; i++) await step();
  const start = performance.now();
  let count = 0;
  while (count < min || (performance.now() - start) / 1000 < seconds) {
    await step();
    count += 1;
  }
  return (performance.now() - start) / 1000 / count;
}

/** Images/s of trainMode's step with `workers` workers. */
async function trainThroughput(m: TrainModel, workers: number, seconds: number): Promise<{ imagesPerSecond: number; startup: number; cpuMsPerImage: number; window: { otherCores: number; loadAverage: number } }> {
  const arch = getArchitecture(m.architecture);
  const model = createModel(m.architecture, m.config, 1);
  const split = randomSplit(arch.spec(model.config).inputShape, 4 * m.batch);
  const opening = performance.now();
  const pool = await createGradientPool(arch, model.config, { train: split }, { workers });
  const startup = (performance.now() - opening) / 1000;
  const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
  let state: ModelState = model;
  let k = 0;
  try {
    const cpuStart = process.cpuUsage();
    const close = openLoadWindow();
    let images = 0;
    const perStep = await secondsPerCall(async () => {
      images += m.batch;
      const indices = Int32Array.from({ length: m.batch }, (_, i) => ((k * m.batch + i) % split.count));
      k += 1;
      const result = applyGradients(state, await pool.lossAndGradients(state, indices), optimizer, 0.01);
      result.loss.dataSync();
      tf.dispose([result.loss, result.correct]);
      disposeTensors(state);
      state = result.state;
    }, seconds, 3, 8);
    // CPU time of every thread of the process per image: equal at 1 and N workers means the pool
    // adds no work, and N idle cores would give N times the images/s.
    const cpu = process.cpuUsage(cpuStart);
    return { imagesPerSecond: m.batch / perStep, startup, cpuMsPerImage: (cpu.user + cpu.system) / 1000 / images, window: close() };
  } finally {
    await pool.close();
    optimizer.dispose();
    disposeTensors(state);
  }
}

/** Node-steps/s of a 20-node gossip simulation where every node trains every tick. */
async function simulatorThroughput(workers: number, ticks: number): Promise<{ value: number; window: { otherCores: number; loadAverage: number } }> {
  const train = await loadDataset('fashion-mnist-small', 'train');
  const test = await loadDataset('fashion-mnist-small', 'test');
  const sim = createSimulation(
    { mode: 'gossip', nodes: 20, topology: 'regular:4', trainInterval: [1, 1], batchSize: 64, ticks: ticks + 2, recordEvery: 1_000_000, testSubset: 20, seed: 1 },
    { train, test },
    { workers },
  );
  try {
    await sim.run(2); // warm-up: tick 0 record, pool start-up
    const close = openLoadWindow();
    const started = performance.now();
    await sim.run(ticks + 1);
    return { value: (20 * (ticks - 1)) / ((performance.now() - started) / 1000), window: close() };
  } finally {
    sim.dispose();
  }
}

/** The scaling model's machine inputs: message round trip, copy bandwidth, weighted-sum rate. */
async function measureExchange(): Promise<ExchangeCostMeasurement> {
  const echo = new Worker("require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));", { eval: true });
  const roundTrip = (): Promise<void> =>
    new Promise((resolve) => {
      echo.once('message', () => resolve());
      echo.postMessage({ id: 1, stateSlot: 0 });
    });
  for (let i = 0; i < 50; i++) await roundTrip();
  const trips = 500;
  let start = performance.now();
  for (let i = 0; i < trips; i++) await roundTrip();
  const latencySeconds = (performance.now() - start) / 1000 / trips;
  await echo.terminate();
  const n = 4_000_000;
  const a = new Float32Array(new SharedArrayBuffer(4 * n));
  const b = new Float32Array(n).fill(1);
  start = performance.now();
  for (let i = 0; i < 10; i++) a.set(b);
  const copyBytesPerSecond = (10 * 4 * n) / ((performance.now() - start) / 1000);
  const parts = [a.subarray(0, n / 2), a.subarray(n / 2)];
  const out = new Float32Array(n / 2);
  start = performance.now();
  for (let i = 0; i < 5; i++) weightedSum(parts, [0.5, 0.5], out);
  const sumElementsPerSecond = (5 * n) / ((performance.now() - start) / 1000);
  return { latencySeconds, copyBytesPerSecond, sumElementsPerSecond };
}

/** CPU seconds of this thread and of every thread of the process (Linux: /proc; elsewhere undefined). */
function threadCpu(): { own: number; all: number } | undefined {
  try {
    const seconds = (path: string) => Number(readFileSync(path, 'utf8').split(' ')[0]) / 1e9;
    const all = readdirSync('/proc/self/task').reduce((sum, tid) => {
      try {
        return sum + seconds(`/proc/self/task/${tid}/schedstat`);
      } catch {
        return sum; // a thread that ended meanwhile
      }
    }, 0);
    return { own: seconds('/proc/thread-self/schedstat'), all };
  } catch {
    return undefined;
  }
}

/**
 * In-thread gradient time at batch B and B/8 (fit a + b·n), the optimizer's time, and the CPU
 * per step of the helper threads (V8's compiler and GC threads: all threads minus this one).
 */
async function measureStep(m: TrainModel, seconds: number): Promise<StepCostMeasurement> {
  const arch = getArchitecture(m.architecture);
  const model = createModel(m.architecture, m.config, 1);
  const split = randomSplit(arch.spec(model.config).inputShape, m.batch);
  const pool = await createGradientPool(arch, model.config, { train: split }, { workers: 1 });
  const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
  let calls = 0;
  const gradTime = async (n: number): Promise<number> =>
    secondsPerCall(async () => {
      calls += 1;
      const r = await pool.lossAndGradients(model, Int32Array.from({ length: n }, (_, i) => i));
      r.loss.dataSync();
      tf.dispose([r.loss, r.correct, ...r.grads.values(), ...r.batchStats.values()]);
    }, seconds / 3, 2);
  try {
    const small = Math.max(1, Math.round(m.batch / 8));
    const cpuStart = threadCpu();
    calls = 0;
    const tBig = await gradTime(m.batch);
    const cpuEnd = threadCpu();
    const helperSeconds = cpuStart === undefined || cpuEnd === undefined ? 0 : Math.max(0, (cpuEnd.all - cpuStart.all - (cpuEnd.own - cpuStart.own)) / calls);
    const tSmall = await gradTime(small);
    const perExampleSeconds = Math.max(0, (tBig - tSmall) / (m.batch - small));
    const perCallSeconds = Math.max(0, tBig - perExampleSeconds * m.batch);
    const r = await pool.lossAndGradients(model, Int32Array.from({ length: m.batch }, (_, i) => i));
    let state: ModelState = { params: new Map([...model.params].map(([k, v]) => [k, v.clone()])), buffers: new Map([...model.buffers].map(([k, v]) => [k, v.clone()])) };
    const optimizerSeconds = await secondsPerCall(async () => {
      const grads = { ...r, grads: new Map([...r.grads].map(([k, v]) => [k, v.clone()])), batchStats: new Map([...r.batchStats].map(([k, v]) => [k, v.clone()])) };
      const out = applyGradients(state, { ...grads, loss: r.loss.clone(), correct: r.correct.clone() }, optimizer, 0.01);
      out.loss.dataSync();
      [...out.state.params.values()].at(-1)?.dataSync();
      tf.dispose([out.loss, out.correct]);
      disposeTensors(state);
      state = out.state;
      return Promise.resolve();
    }, seconds / 3, 2);
    tf.dispose([r.loss, r.correct, ...r.grads.values(), ...r.batchStats.values()]);
    disposeTensors(state);
    const spec = arch.spec(model.config);
    const size = (list: readonly { shape: readonly number[] }[]) => list.reduce((s, t) => s + t.shape.reduce((x, y) => x * y, 1), 0);
    return { batch: m.batch, perCallSeconds, perExampleSeconds, optimizerSeconds, parameters: size(spec.params), buffers: size(spec.buffers), helperSeconds };
  } finally {
    await pool.close();
    optimizer.dispose();
    disposeTensors(model);
  }
}

/**
 * The rows: training images/s at 1 and 2 workers (and one per core when more) for LeNet5,
 * ResNet18 k=1/4 and CCT-2; simulator node-steps/s at 1 and 2 workers; the scaling model's
 * measured inputs and its predicted speed-ups at 8, 16 and 64 workers.
 */
export async function benchWorkers(seconds: number, log: (line: string) => void = () => undefined): Promise<WorkersBenchRow[]> {
  const rows: WorkersBenchRow[] = [];
  const counts = [...new Set([1, 2, availableParallelism()])];
  for (const m of TRAIN_MODELS) {
    let base: number | undefined;
    for (const workers of counts) {
      const { imagesPerSecond, startup, cpuMsPerImage, window } = await trainThroughput(m, workers, seconds);
      base ??= imagesPerSecond;
      const note = `${(imagesPerSecond / base).toFixed(2)}× of 1 worker; ${cpuMsPerImage.toFixed(2)} CPU-ms/image (all threads); pool start-up ${startup.toFixed(1)} s; ${availableParallelism()} cores, ${loadNote(window)}`;
      rows.push({ name: `train step, ${m.id}, batch ${m.batch}, ${workers} worker${workers > 1 ? 's' : ''}`, unit: 'images/s', value: imagesPerSecond, note });
      log(`  train ${m.id} ${workers} worker(s): ${imagesPerSecond.toFixed(0)} images/s (${note})`);
    }
  }
  {
    const ticks = Math.max(4, Math.round(seconds * 2));
    let base: number | undefined;
    for (const workers of [1, 2]) {
      const { value, window } = await simulatorThroughput(workers, ticks);
      base ??= value;
      const note = `${(value / base).toFixed(2)}× of 1 worker; ${loadNote(window)}`;
      rows.push({ name: `simulator, 20 LeNet5 nodes training every tick, batch 64, ${workers} worker${workers > 1 ? 's' : ''}`, unit: 'node-steps/s', value, note });
      log(`  simulator ${workers} worker(s): ${value.toFixed(1)} node-steps/s (${note})`);
    }
  }
  const exchange = await measureExchange();
  log(`  exchange: round trip ${(exchange.latencySeconds * 1e6).toFixed(0)} µs, copy ${(exchange.copyBytesPerSecond / 1e9).toFixed(2)} GB/s, sum ${(exchange.sumElementsPerSecond / 1e6).toFixed(0)} M elements/s`);
  rows.push({ name: 'scaling model: message round trip', unit: 'µs', value: exchange.latencySeconds * 1e6, note: loadNote() });
  rows.push({ name: 'scaling model: copy bandwidth, one thread', unit: 'GB/s', value: exchange.copyBytesPerSecond / 1e9, note: loadNote() });
  rows.push({ name: 'scaling model: parent weighted sum', unit: 'M elements/s', value: exchange.sumElementsPerSecond / 1e6, note: loadNote() });
  for (const m of MODEL_MODELS) {
    const step = await measureStep(m, seconds);
    const predictions = [2, 8, 16, 64].map((w) => predictStepTime(step, exchange, w));
    const note =
      `measured at 1 worker: a ${(step.perCallSeconds * 1e3).toFixed(1)} ms + b ${(step.perExampleSeconds * 1e3).toFixed(2)} ms/image, optimizer ${(step.optimizerSeconds * 1e3).toFixed(1)} ms, helper threads h ${((step.helperSeconds ?? 0) * 1e3).toFixed(1)} ms CPU/step, ${step.parameters} parameters; ` +
      predictions.map((p) => `W=${p.workers}: ${p.speedup.toFixed(2)}× (exchange ${(p.exchangeSeconds * 1e3).toFixed(1)} ms, ${p.cpuBoundSeconds > p.pathSeconds ? 'CPU-bound' : 'path-bound'})`).join(', ') +
      `; ${loadNote()}`;
    for (const p of predictions.slice(1)) {
      rows.push({ name: `scaling model: predicted speed-up, ${m.id}, batch ${m.batch}, ${p.workers} workers`, unit: '× of 1 worker', value: p.speedup, note });
    }
    log(`  model ${m.id}: ${note}`);
  }
  return rows;
}
