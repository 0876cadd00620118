import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { loadDataset } from '../data/datasets.js';
import { DEFAULT_PREPROCESSING } from '../data/preprocess.js';
import { createModel, getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { parseWorkers } from '../cli/commands/barrier.js';
import type { EvaluationData } from './evaluate.js';
import { createEvaluationData, disposeEvaluationData } from './evaluation-data.js';
import { layerwiseBarriers } from '../barriers/layerwise.js';
import { evaluatePath, linearPath } from '../paths/linear-path.js';
import { layerRobustness } from '../barriers/robustness.js';
import type { PathRow } from '../rows/rows.js';
import { createEvaluatorPool, workerLaunch } from './worker-pool.js';

beforeAll(async () => {
  await useTestBackend();
});

/** Rows equal field by field, losses and accuracies to 1e-6 relative (float32 rounding). */
function expectSameRows(pooled: readonly PathRow[], inThread: readonly PathRow[]): void {
  expect(pooled.map((r) => [r.path, r.t, r.split])).toEqual(inThread.map((r) => [r.path, r.t, r.split]));
  pooled.forEach((r, i) => {
    const s = inThread[i] as PathRow;
    expect(Math.abs(r.loss - s.loss) / Math.abs(s.loss)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(r.accuracy - s.accuracy)).toBeLessThanOrEqual(1e-6 * Math.max(s.accuracy, 1e-6));
  });
}

describe('evaluatePath with worker threads (embedded Fashion-MNIST, LeNet5)', () => {
  let data: EvaluationData;
  let a: Model;
  let b: Model;
  beforeAll(async () => {
    const train = await loadDataset('fashion-mnist-small', 'train');
    const test = await loadDataset('fashion-mnist-small', 'test');
    data = createEvaluationData({ train, test }, DEFAULT_PREPROCESSING, { trainExamples: 200, testExamples: 300, batchSize: 100, bnBatches: 0 });
    a = createModel('lenet5', {}, 1);
    b = createModel('lenet5', {}, 2);
  });
  afterAll(() => {
    disposeEvaluationData(data);
    disposeTensors(a, b);
  });

  it('gives the in-thread rows, in grid order, on 11 points with 2 workers, and leaves no tensor behind', async () => {
    const path = linearPath(a, b);
    const inThread = await evaluatePath(path, data);
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const pooled = await evaluatePath(path, data, { workers: 2, progress: (event) => progress.push(event.step) });
    expect(tf.memory().numTensors).toBe(before);
    expect(pooled).toHaveLength(22);
    expectSameRows(pooled, inThread);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    path.dispose();
  });

  it('gives the in-thread single-layer barriers (layer-wise analysis shares the pool)', async () => {
    const options = { layers: ['conv1', 'fc3'], rests: ['A'] as const, ts: [0, 0.5, 1], splits: ['test'] as const };
    const inThread = await layerwiseBarriers(a, b, data, options);
    const pooled = await layerwiseBarriers(a, b, data, { ...options, workers: 2 });
    expect(pooled.map((r) => [r.layer, r.t])).toEqual(inThread.map((r) => [r.layer, r.t]));
    pooled.forEach((r, i) => expect(Math.abs(r.loss - inThread[i]!.loss)).toBeLessThanOrEqual(1e-6 * inThread[i]!.loss));
  });

  it('gives the in-thread robustness rows (θ_A evaluated once, random directions seeded in the parent)', async () => {
    const options = { layers: ['fc3'], samples: 2, ts: [0, 0.5, 1], splits: ['test'] as const };
    const inThread = await layerRobustness(a, b, data, options);
    const pooled = await layerRobustness(a, b, data, { ...options, workers: 2 });
    expect(pooled.map((r) => [r.direction, r.sample, r.t])).toEqual(inThread.map((r) => [r.direction, r.sample, r.t]));
    pooled.forEach((r, i) => expect(Math.abs(r.loss - inThread[i]!.loss)).toBeLessThanOrEqual(1e-6 * inThread[i]!.loss));
  });

  it('rejects a bad worker count before starting anything', async () => {
    const path = linearPath(a, b);
    await expect(evaluatePath(path, data, { workers: 0 })).rejects.toThrow('workers: expected an integer ≥ 1, found 0');
    await expect(evaluatePath(path, data, { workers: 1.5 })).rejects.toThrow('workers: expected an integer ≥ 1, found 1.5');
    path.dispose();
  });

  it('turns an error inside a worker into a rejected promise and stops the pool', async () => {
    const lenet5 = getArchitecture('lenet5');
    const pool = await createEvaluatorPool(lenet5, a.config, data, { workers: 2 });
    const before = tf.memory().numTensors;
    // conv1.weight with the wrong number of output channels: the worker's forward pass throws.
    const broken: Model = { ...a, params: new Map([...a.params].map(([n, t]) => [n, n === 'conv1.weight' ? tf.zeros([5, 5, 1, 7]) : t.clone()])) };
    const good: Model = { ...a, params: new Map([...a.params].map(([n, t]) => [n, t.clone()])) };
    const results = await Promise.allSettled([pool.evaluate(broken), pool.evaluate(good), pool.evaluate(good)]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/^evaluation worker \d of 2: .*7/) as unknown } });
    // The others were in flight or queued when the pool stopped: rejected too, never dropped.
    for (const r of results.slice(1)) if (r.status === 'rejected') expect((r.reason as Error).message).toMatch(/evaluation pool stopped|evaluation worker/);
    await expect(pool.evaluate(good)).rejects.toThrow(/evaluation worker \d of 2/);
    await pool.close();
    disposeTensors(broken.params, good.params);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects an evaluatePath whose point cannot be evaluated, closing the workers', async () => {
    const path = linearPath(a, b);
    const bad = { ...path, pointAt: (t: number) => (t < 0.5 ? path.pointAt(t) : { params: new Map([['conv1.weight', tf.zeros([1])]]), buffers: new Map() }) };
    const before = tf.memory().numTensors;
    await expect(evaluatePath(bad, data, { workers: 2, splits: ['test'] })).rejects.toThrow(/evaluation worker|evaluation pool stopped/);
    expect(tf.memory().numTensors).toBe(before);
    path.dispose();
  });
});

describe('evaluatePath with worker threads and BatchNorm re-estimation (ResNet18, k = 1/16, 16×16 inputs)', () => {
  it('re-estimates the BN statistics in the workers exactly as in the thread', async () => {
    const a = createModel('resnet18', { width: 0.0625, inputSize: 16 }, 1);
    const b = createModel('resnet18', { width: 0.0625, inputSize: 16 }, 2);
    // Seeded synthetic images: the point is equality of the two evaluations, not accuracy.
    const batch = (n: number, seed: number) => ({
      x: tf.randomUniform<tf.Rank.R4>([n, 16, 16, 3], 0, 1, 'float32', seed),
      y: tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 10), 'int32'),
    });
    const data: EvaluationData = { test: [batch(48, 1), batch(16, 2)], bnBatches: [batch(32, 3), batch(32, 4)] };
    const path = linearPath(a, b);
    const ts = [0, 0.25, 0.5, 0.75, 1];
    const inThread = await evaluatePath(path, data, { ts });
    const pooled = await evaluatePath(path, data, { ts, workers: 2 });
    expectSameRows(pooled, inThread);
    // BN reset changes the numbers (else this test would not test it).
    const stored = await evaluatePath(path, data, { ts: [0.5], bnReset: false });
    expect(Math.abs(stored[0]!.loss - inThread[2]!.loss)).toBeGreaterThan(1e-3);
    path.dispose();
    disposeTensors(a, b);
    disposeEvaluationData(data);
  });
});

describe('workerLaunch', () => {
  const resolve = (s: string) => `file:///node_modules/${s}.mjs`;
  it('starts the compiled .js entry beside compiled code', () => {
    expect(workerLaunch('w', 'file:///pkg/dist/barriers/pool.js', [], resolve)).toEqual({ entry: new URL('file:///pkg/dist/barriers/w.js'), eval: false });
  });
  it('starts the .ts entry directly under ts-node, whose --loader also runs in workers', () => {
    expect(workerLaunch('w', 'file:///pkg/src/pool.ts', ['--loader', 'ts-node/esm'], resolve)).toEqual({ entry: new URL('file:///pkg/src/w.ts'), eval: false });
  });
  it('otherwise registers tsx inside the worker before importing the .ts entry', () => {
    const launch = workerLaunch('w', 'file:///pkg/src/pool.ts', ['--import', 'file:///x/tsx/dist/loader.mjs'], resolve);
    expect(launch.eval).toBe(true);
    expect(launch.entry).toBe('import("file:///node_modules/tsx/esm/api.mjs").then(({ register }) => { register(); return import("file:///pkg/src/w.ts"); });');
  });
});

describe('modeconn barrier --workers', () => {
  it('takes a positive integer or auto (one per core on wasm/cpu, 1 on tfjs-node) and names --workers in errors', () => {
    expect(parseWorkers(undefined, 'wasm')).toBe(1);
    expect(parseWorkers('3', 'wasm')).toBe(3);
    expect(parseWorkers('auto', 'tensorflow')).toBe(1);
    expect(parseWorkers('auto', 'cpu')).toBeGreaterThanOrEqual(1);
    expect(() => parseWorkers('0', 'wasm')).toThrow('--workers: expected at least 1, found 0');
    expect(() => parseWorkers('two', 'wasm')).toThrow('--workers: expected a number, found "two"');
    expect(() => parseWorkers('2', 'tensorflow')).toThrow(/^--workers: worker threads need the wasm or cpu backend/);
  });
});
