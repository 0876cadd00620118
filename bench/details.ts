/**
 * `npm run bench -- --details`: the detailed tables beside the §4 targets table (bench.ts):
 * images/second of evaluation (forward, eval mode) and training steps (forward, backward, SGD
 * momentum update) for every model on this thread with forward FLOPs per image and PyTorch's
 * faster of 1 and 2 threads; the analyses' throughput (barrier grids, curve steps, simulator);
 * the worker-thread rows of workers-bench.ts (training images/s at 1, 2 and N workers, simulator
 * node-steps/s, scaling-model inputs and predictions at 8/16/64 workers).
 *
 * Writes bench/results/bench-<backend>.json.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { createModel, getArchitecture } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { ModelState } from '../src/models/types.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { trainStep } from '../src/train/step.js';
import { createEvaluationData, disposeEvaluationData } from '../src/evaluate/evaluation-data.js';
import { evaluatePoints, openEvaluator } from '../src/evaluate/evaluate-points.js';
import { evaluatePath, linearPath, uniformGrid } from '../src/paths/linear-path.js';
import { autoWorkerCount } from '../src/evaluate/worker-pool.js';
import { loadDataset } from '../src/data/datasets.js';
import { DEFAULT_PREPROCESSING } from '../src/data/preprocess.js';
import { tensorBatchSource } from '../src/paths/batch-source.js';
import { createCurve, disposeCurve } from '../src/paths/curve.js';
import { trainCurve } from '../src/paths/train-curve.js';
import { benchSimulator } from './simulator-bench.js';
import { forwardFlopsPerImage } from './flops.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { benchWorkers } from './workers-bench.js';

interface BenchModel {
  readonly id: string;
  readonly architecture: string;
  readonly config: unknown;
  readonly batch: number;
}

const MODELS: readonly BenchModel[] = [
  { id: 'lenet5', architecture: 'lenet5', config: {}, batch: 128 },
  { id: 'resnet18-k0.25', architecture: 'resnet18', config: { width: 0.25 }, batch: 64 },
  { id: 'resnet18-k1', architecture: 'resnet18', config: { width: 1 }, batch: 32 },
  { id: 'cct_2_3x2_32', architecture: 'cct', config: { preset: 'cct_2_3x2_32' }, batch: 64 },
];

export interface BenchRow {
  readonly model: string;
  readonly mode: 'eval' | 'train';
  readonly batch: number;
  readonly flopsPerImage: number;
  readonly imagesPerSecond: number;
  readonly torchImagesPerSecond?: number;
  /** ours / PyTorch. */
  readonly ratio?: number;
}

/** Images/s of `fn` (which reads its result back, asynchronously: webgpu has no synchronous read in Node). */
async function measure(fn: () => Promise<unknown>, seconds: number, batch: number): Promise<number> {
  await fn();
  await fn();
  const start = performance.now();
  let count = 0;
  for (;;) {
    await fn();
    count += 1;
    const elapsed = (performance.now() - start) / 1000;
    if (elapsed >= seconds && count >= 3) return (count * batch) / elapsed;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function torchAvailable(): boolean {
  if (!existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

function runTorch(models: readonly BenchModel[], seconds: number): Map<string, number> {
  const out = new Map<string, number>();
  const arg = models.map((m) => `${m.id}:${m.batch}`).join(',');
  const result = spawnSync('/usr/bin/python3', ['bench/torch_bench.py', String(seconds), arg], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (result.status !== 0) console.error(`PyTorch benchmark failed: ${result.stderr}`);
  for (const line of result.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as { model?: string; mode?: string; imagesPerSecond?: number; error?: string };
    if (row.error !== undefined) console.error(`PyTorch ${row.model}: ${row.error}`);
    else if (row.model !== undefined && row.mode !== undefined && row.imagesPerSecond !== undefined) {
      // The faster of 1 and 2 threads: the PyTorch a researcher would run.
      const key = `${row.model}/${row.mode}`;
      out.set(key, Math.max(out.get(key) ?? 0, row.imagesPerSecond));
    }
  }
  return out;
}

function formatNumber(n: number | undefined, digits = 0): string {
  return n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits);
}

interface AnalysisRow {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly reference: string;
}

/**
 * Throughput of the analyses built on the models: barrier grid points per second (linear path,
 * 2,000 evaluation images per point; ResNet18 with BN re-estimation on 10 batches of 128),
 * Bezier-curve training steps per second (batch 128) and simulator node-steps per second.
 */
async function benchAnalyses(seconds: number, torch: ReadonlyMap<string, number>): Promise<AnalysisRow[]> {
  const rows: AnalysisRow[] = [];
  const images = (n: number, [h, w, c]: readonly number[]) => ({
    x: tf.randomUniform<tf.Rank.R4>([n, h ?? 28, w ?? 28, c ?? 1]),
    y: tf.tensor1d(Array.from({ length: n }, (_, i) => i % 10), 'int32'),
  });
  for (const [architecture, config, bn] of [
    ['lenet5', {}, 0],
    ['resnet18', { width: 0.25 }, 10],
  ] as const) {
    const arch = getArchitecture(architecture);
    const a = createModel(architecture, config, 1);
    const b = createModel(architecture, config, 2);
    const shape = arch.spec(a.config).inputShape;
    const test = Array.from({ length: 4 }, () => images(500, shape));
    const bnBatches = Array.from({ length: bn }, () => images(128, shape));
    const data = { test, bnBatches };
    const path = linearPath(a, b);
    const started = performance.now();
    let points = 0;
    while ((performance.now() - started) / 1000 < seconds || points < 2) {
      await evaluatePath(path, data, { ts: [0.5], splits: ['test'], bnReset: bn > 0 });
      points += 1;
    }
    const value = points / ((performance.now() - started) / 1000);
    rows.push({ name: `barrier grid, ${architecture}${bn > 0 ? ' k=1/4, BN reset' : ''}`, unit: 'points/s (2,000 images each)', value, reference: 'see eval images/s above' });
    console.error(`  barrier ${architecture}: ${value.toFixed(2)} points/s`);
    path.dispose();
    disposeTensors(a, b);
    for (const batch of [...test, ...bnBatches]) tf.dispose([batch.x, batch.y]);
  }
  rows.push(...(await benchPooledGrid(seconds)));
  {
    const arch = getArchitecture('lenet5');
    const a = createModel('lenet5', {}, 1);
    const b = createModel('lenet5', {}, 2);
    const data = images(128 * 8, [28, 28, 1]);
    const source = tensorBatchSource(data.x, data.y, { batchSize: 128 });
    const curve = createCurve(a, b, { kind: 'bezier', bends: 3 });
    let steps = 0;
    const started = performance.now();
    const trained = await trainCurve(arch, curve, source, { epochs: 100, maxSteps: Math.max(4, Math.round(seconds * 3)), progress: () => void (steps += 1) });
    const value = steps / ((performance.now() - started) / 1000);
    const torchCurve = torch.get('lenet5/curve');
    const reference = torchCurve === undefined ? 'PyTorch not run' : `PyTorch ${(torchCurve / 128).toFixed(2)} steps/s (same step, functional_call), ratio ${((128 * value) / torchCurve).toFixed(2)}`;
    rows.push({ name: 'Bezier curve training, lenet5, batch 128', unit: 'steps/s', value, reference });
    console.error(`  curve training: ${value.toFixed(2)} steps/s`);
    for (const slot of trained.state.slots.values()) slot.dispose();
    disposeCurve(trained.curve);
    disposeCurve(curve);
    disposeTensors(a, b);
    tf.dispose([data.x, data.y]);
  }
  {
    const sim = await benchSimulator({ nodes: 5, batchSize: 64, seconds });
    rows.push({ name: 'gossip simulator, 5 LeNet5 nodes per tick, batch 64 (one by one)', unit: 'node-steps/s', value: sim.separateNodeStepsPerSecond, reference: 'PyTorch train images/s ÷ 64' });
    rows.push({ name: 'gossip simulator, same, stacked (batched) engine', unit: 'node-steps/s', value: sim.batchedNodeStepsPerSecond, reference: '' });
  }
  return rows;
}

/**
 * The same grid on worker threads: 11-point LeNet5 linear paths on the embedded Fashion-MNIST test
 * set (2,000 images) with 1 worker (this thread) and one worker per core. Points/s are measured
 * on an open evaluator; the pool's start-up (paid once per `evaluatePath` call) is reported
 * apart. The speed-up needs idle cores, so the load average is reported beside it.
 */
async function benchPooledGrid(seconds: number): Promise<AnalysisRow[]> {
  const rows: AnalysisRow[] = [];
  const train = await loadDataset('fashion-mnist-small', 'train');
  const test = await loadDataset('fashion-mnist-small', 'test');
  const data = createEvaluationData({ train, test, evaluateTrain: false }, DEFAULT_PREPROCESSING, { bnBatches: 0 });
  const a = createModel('lenet5', {}, 1);
  const b = createModel('lenet5', {}, 2);
  const path = linearPath(a, b);
  const ts = uniformGrid(11);
  for (const workers of [1, autoWorkerCount()]) {
    const opening = performance.now();
    const evaluator = await openEvaluator(getArchitecture('lenet5'), a.config, data, { workers });
    const startup = (performance.now() - opening) / 1000;
    await evaluatePoints(evaluator, ts.slice(0, workers), (t) => path.pointAt(t));
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    let points = 0;
    while ((performance.now() - started) / 1000 < seconds || points === 0) {
      points += (await evaluatePoints(evaluator, ts, (t) => path.pointAt(t))).length;
    }
    const value = points / ((performance.now() - started) / 1000);
    // CPU time of the whole process (all threads) per point: equal for 1 and N workers means
    // the pool adds no work, and N idle cores would give N times the points/s.
    const cpu = process.cpuUsage(cpuStart);
    const cpuMsPerPoint = (cpu.user + cpu.system) / 1000 / points;
    await evaluator.close();
    const load = loadavg()[0] ?? Number.NaN;
    rows.push({
      name: `barrier grid, lenet5, 11-point paths, ${workers === 1 ? '1 worker (this thread)' : `${workers} worker threads`}`,
      unit: 'points/s (2,000 images each)',
      value,
      reference: `${cpuMsPerPoint.toFixed(0)} CPU-ms/point; ${availableParallelism()} cores, load average ${load.toFixed(1)}${workers > 1 ? `; pool start-up ${startup.toFixed(1)} s per evaluatePath call` : ''}`,
    });
    console.error(`  barrier grid, ${workers} worker(s): ${value.toFixed(2)} points/s, ${cpuMsPerPoint.toFixed(0)} CPU-ms/point (load ${load.toFixed(1)}${workers > 1 ? `, start-up ${startup.toFixed(1)} s` : ''})`);
  }
  path.dispose();
  disposeTensors(a, b);
  disposeEvaluationData(data);
  return rows;
}

export interface DetailsOptions {
  readonly backend: string;
  readonly seconds: number;
  /** Model ids (default all). */
  readonly models?: readonly string[];
  readonly torch: boolean;
  readonly analyses: boolean;
  readonly workers: boolean;
}

/** Runs the detailed tables on the active backend and prints them (stdout), progress on stderr. */
export async function runDetails(options: DetailsOptions): Promise<void> {
  const { seconds } = options;
  const choice = { active: options.backend };
  const values = { models: options.models?.join(','), 'no-torch': !options.torch, 'no-analyses': !options.analyses, 'no-workers': !options.workers };
  const selected = values.models === undefined ? MODELS : MODELS.filter((m) => values.models?.split(',').includes(m.id));
  console.error(`backend ${choice.active}; ${seconds} s per measurement`);

  const rows: BenchRow[] = [];
  for (const m of selected) {
    const arch = getArchitecture(m.architecture);
    const model = createModel(m.architecture, m.config, 1);
    const [h, w, c] = arch.spec(model.config).inputShape;
    const x = tf.randomUniform<tf.Rank.R4>([m.batch, h, w, c]);
    const y = tf.tensor1d(Array.from({ length: m.batch }, (_, i) => i % 10), 'int32');
    const flops = await forwardFlopsPerImage(arch, model.config, model);
    const evalIps = await measure(
      async () => {
        const logits = tf.tidy(() => arch.apply(model.config, model, x, { training: false }).logits);
        await logits.data();
        logits.dispose();
      },
      seconds,
      m.batch,
    );
    rows.push({ model: m.id, mode: 'eval', batch: m.batch, flopsPerImage: flops, imagesPerSecond: evalIps });
    console.error(`  ${m.id} eval ${evalIps.toFixed(0)} images/s`);
    const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
    let state: ModelState = model;
    const trainIps = await measure(
      async () => {
        const result = trainStep(arch, model.config, state, { x, y }, optimizer, 0.01);
        await result.loss.data();
        tf.dispose([result.loss, result.correct]);
        disposeTensors(state);
        state = result.state;
      },
      seconds,
      m.batch,
    );
    rows.push({ model: m.id, mode: 'train', batch: m.batch, flopsPerImage: 3 * flops, imagesPerSecond: trainIps });
    console.error(`  ${m.id} train ${trainIps.toFixed(0)} images/s`);
    disposeTensors(state);
    optimizer.dispose();
    tf.dispose([x, y]);
  }

  const torch = !values['no-torch'] && torchAvailable() ? runTorch(selected, seconds) : new Map<string, number>();
  const final = rows.map((r) => {
    const t = torch.get(`${r.model}/${r.mode}`);
    return t === undefined ? r : { ...r, torchImagesPerSecond: t, ratio: r.imagesPerSecond / t };
  });

  console.log(`\nbackend: ${choice.active}   PyTorch: ${torch.size > 0 ? 'faster of 1 and 2 threads, same machine, same run' : 'not available'}\n`);
  console.log('| model | mode | batch | GFLOPs/image | images/s | PyTorch images/s | ratio |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of final) {
    console.log(
      `| ${r.model} | ${r.mode} | ${r.batch} | ${(r.flopsPerImage / 1e9).toFixed(4)} | ${formatNumber(r.imagesPerSecond)} | ${formatNumber(r.torchImagesPerSecond)} | ${formatNumber(r.ratio, 2)} |`,
    );
  }
  const analyses = values['no-analyses'] ? [] : await benchAnalyses(seconds, torch);
  if (analyses.length > 0) {
    console.log('\n| analysis | unit | ours | PyTorch reference |');
    console.log('|---|---|---:|---|');
    for (const a of analyses) console.log(`| ${a.name} | ${a.unit} | ${a.value.toFixed(2)} | ${a.reference} |`);
  }
  // Data-parallel training and node-parallel simulation on worker threads, and the scaling model.
  const workers = values['no-workers'] || (choice.active !== 'wasm' && choice.active !== 'cpu') ? [] : await benchWorkers(seconds, (line) => console.error(line));
  if (workers.length > 0) {
    console.log('\n| worker threads | unit | value | note |');
    console.log('|---|---|---:|---|');
    for (const r of workers) console.log(`| ${r.name} | ${r.unit} | ${r.value.toFixed(2)} | ${r.note} |`);
  }
  await mkdir('bench/results', { recursive: true });
  const file = `bench/results/bench-${choice.active}.json`;
  await writeFileAtomic(file, `${JSON.stringify({ backend: choice.active, date: new Date().toISOString(), seconds, rows: final, analyses, workers }, null, 2)}\n`);
  console.log(`\n${file}`);
}
