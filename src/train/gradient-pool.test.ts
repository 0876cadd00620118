import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxRelativeError, useTestBackend } from '../../test/helpers.js';
import { toTensors } from '../data/batches.js';
import { loadDataset } from '../data/datasets.js';
import { DEFAULT_PREPROCESSING } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
import { lenet5 } from '../models/lenet5/index.js';
import { resnet18 } from '../models/resnet18/index.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { createRandom, permutation } from '../util/random.js';
import { createGradientPool, resolveWorkers, type GradientPool } from './gradient-pool.js';
import { lossAndGradients, type LossAndGradients } from './step.js';

beforeAll(async () => {
  await useTestBackend();
});

function disposeResult(r: LossAndGradients): void {
  tf.dispose([r.loss, r.correct, ...r.grads.values(), ...r.batchStats.values()]);
}

/** Values of a result as plain arrays, then disposed. */
function read(r: LossAndGradients): { loss: number; correct: number; grads: Map<string, Float32Array>; stats: Map<string, Float32Array> } {
  const out = {
    loss: r.loss.dataSync()[0] as number,
    correct: r.correct.dataSync()[0] as number,
    grads: new Map([...r.grads].map(([k, v]) => [k, v.dataSync() as Float32Array])),
    stats: new Map([...r.batchStats].map(([k, v]) => [k, v.dataSync() as Float32Array])),
  };
  disposeResult(r);
  return out;
}

/** The batch's result in this thread, computed by step.ts directly (the reference). */
function reference(state: ModelState, split: ImageSplit, indices: Int32Array): ReturnType<typeof read> {
  const batch = toTensors(split, indices, DEFAULT_PREPROCESSING);
  const r = lossAndGradients(lenet5, lenet5.parseConfig({}), state, batch);
  tf.dispose([batch.x, batch.y]);
  return read(r);
}

describe('createGradientPool (LeNet5, embedded Fashion-MNIST, 300 images)', () => {
  const config = lenet5.parseConfig({});
  let train: ImageSplit;
  let state: ModelState;
  let pool: GradientPool;
  const batches: Int32Array[] = [];
  beforeAll(async () => {
    const full = await loadDataset('fashion-mnist-small', 'train');
    train = { ...full, count: 300, images: full.images.slice(0, 300 * 28 * 28), labels: full.labels.slice(0, 300) };
    state = lenet5.init(config, 4);
    const order = permutation(300, createRandom(1));
    for (let b = 0; b < 3; b++) batches.push(order.slice(b * 100, b * 100 + 100 - b)); // 100, 99, 98: uneven shards
    pool = await createGradientPool(lenet5, config, { train }, { workers: 2 });
  });
  afterAll(async () => {
    await pool.close();
    disposeTensors(state);
  });

  it('workers: 1 is step.ts lossAndGradients in this thread, bit for bit', async () => {
    const one = await createGradientPool(lenet5, config, { train }, { workers: 1 });
    expect(one.workers).toBe(1);
    const got = read(await one.lossAndGradients(state, batches[0] as Int32Array));
    const want = reference(state, train, batches[0] as Int32Array);
    expect(got.loss).toBe(want.loss);
    for (const [name, g] of want.grads) expect([...(got.grads.get(name) as Float32Array)], name).toEqual([...g]);
    await one.close();
  });

  it('workers: 2 equals the full-batch gradient within 1e-5 (a mean over shards is the batch mean), on uneven shards', async () => {
    for (const indices of batches) {
      const got = read(await pool.lossAndGradients(state, indices));
      const want = reference(state, train, indices);
      expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-5 * Math.abs(want.loss));
      expect(got.correct).toBe(want.correct);
      expect([...got.grads.keys()].sort()).toEqual([...want.grads.keys()].sort());
      for (const [name, g] of want.grads) expect(maxRelativeError(got.grads.get(name) as Float32Array, g), name).toBeLessThan(1e-5);
    }
  });

  it('is deterministic: the same call twice gives the same bits; a tensor batch gives what its indices give', async () => {
    const indices = batches[1] as Int32Array;
    const a = read(await pool.lossAndGradients(state, indices));
    const b = read(await pool.lossAndGradients(state, indices));
    const batch = toTensors(train, indices, DEFAULT_PREPROCESSING);
    const c = read(await pool.lossAndGradients(state, batch));
    tf.dispose([batch.x, batch.y]);
    for (const [name, g] of a.grads) {
      expect([...(b.grads.get(name) as Float32Array)], name).toEqual([...g]);
      expect([...(c.grads.get(name) as Float32Array)], name).toEqual([...g]);
    }
    expect(b.loss).toBe(a.loss);
  });

  it('lossAndGradientsEach computes independent tasks whole, each equal bit for bit to the in-thread result', async () => {
    const states = [state, lenet5.init(config, 5), lenet5.init(config, 6)];
    const results = await pool.lossAndGradientsEach(states.map((s, j) => ({ state: s, batch: batches[j] as Int32Array })));
    results.forEach((r, j) => {
      const got = read(r);
      const want = reference(states[j] as ModelState, train, batches[j] as Int32Array);
      expect(got.loss).toBe(want.loss);
      for (const [name, g] of want.grads) expect([...(got.grads.get(name) as Float32Array)], `task ${j} ${name}`).toEqual([...g]);
    });
    disposeTensors(states[1], states[2]);
  });

  it('forEachLossAndGradients hands over each task once, bit for bit the in-thread result, the workers claiming tasks while this thread works on results', async () => {
    const states = [state, lenet5.init(config, 5), lenet5.init(config, 6)];
    const tasks = Array.from({ length: 7 }, (_, j) => ({ state: states[j % 3] as ModelState, batch: batches[j % 3] as Int32Array }));
    const want = states.map((s, j) => reference(s, train, batches[j] as Int32Array));
    const before = tf.memory().numTensors;
    for (let call = 0; call < 2; call++) {
      // The second call reuses the first's shared memory (the counter and flags reset).
      const seen: number[] = [];
      const own = await pool.forEachLossAndGradients(tasks, (j, r) => {
        seen.push(j);
        const got = read(r);
        const w = want[j % 3] as ReturnType<typeof read>;
        expect(got.loss, `task ${j}`).toBe(w.loss);
        expect(got.correct, `task ${j}`).toBe(w.correct);
        for (const [name, g] of w.grads) expect([...(got.grads.get(name) as Float32Array)], `task ${j} ${name}`).toEqual([...g]);
        const until = performance.now() + 40; // this thread's own work per result
        while (performance.now() < until);
      });
      expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(own).toBeGreaterThan(0);
      expect(own, 'the worker computed none of the tasks').toBeLessThan(7);
      expect(tf.memory().numTensors).toBe(before);
    }
    disposeTensors(states[1], states[2]);
  });

  it('forEachLossAndGradients: an error thrown by the caller\'s function rejects the call and leaves the pool usable', async () => {
    const tasks = batches.map((b) => ({ state, batch: b }));
    await expect(
      pool.forEachLossAndGradients(tasks, (j, r) => {
        disposeResult(r);
        throw new Error(`no room for result ${j}`);
      }),
    ).rejects.toThrow(/no room for result/);
    let count = 0;
    await pool.forEachLossAndGradients(tasks, (_, r) => {
      count += 1;
      disposeResult(r);
    });
    expect(count).toBe(3);
  });

  it('leaves no tensor behind across repeated steps once the caller disposes the results', async () => {
    disposeResult(await pool.lossAndGradients(state, batches[0] as Int32Array));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      disposeResult(await pool.lossAndGradients(state, batches[i] as Int32Array));
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('refuses a state of another architecture with the names that differ', async () => {
    const other = lenet5.init(lenet5.parseConfig({ classes: 5 }), 1);
    await expect(pool.lossAndGradients(other, batches[0] as Int32Array)).rejects.toThrow(/fc3.weight" expected \[84, 10\], found \[84, 5\]/);
    disposeTensors(other);
  });
});

describe('createGradientPool failures', () => {
  it('an error in a worker rejects the step with the worker\'s message, stops the pool, and close() terminates it', async () => {
    const full = await loadDataset('fashion-mnist-small', 'train');
    const config = lenet5.parseConfig({});
    const state = lenet5.init(config, 1);
    const pool = await createGradientPool(lenet5, config, { train: full }, { workers: 2 });
    // Index 10^7 is outside the split: the second worker's toTensors throws inside the worker.
    const bad = Int32Array.from([0, 1, 2, 10_000_000]);
    await expect(pool.lossAndGradients(state, bad)).rejects.toThrow(/gradient worker 2 of 2: .*index 10000000 at position 1 is outside/);
    await expect(pool.lossAndGradients(state, Int32Array.from([0, 1]))).rejects.toThrow(/gradient worker 2 of 2/);
    await pool.close();
    disposeTensors(state);
  });

  it('shard 0 is computed in this thread: its error rejects the step unprefixed after the worker settles, and the pool keeps working', async () => {
    const full = await loadDataset('fashion-mnist-small', 'train');
    const config = lenet5.parseConfig({});
    const state = lenet5.init(config, 1);
    const pool = await createGradientPool(lenet5, config, { train: full }, { workers: 2 });
    try {
      // Shard 0 = [10^7, 0] (this thread), shard 1 = [1, 2] (the worker).
      const error: unknown = await pool.lossAndGradients(state, Int32Array.from([10_000_000, 0, 1, 2])).catch((e: unknown) => e);
      expect(String(error)).toMatch(/index 10000000 at position 0 is outside/);
      expect(String(error)).not.toMatch(/gradient worker/);
      const indices = Int32Array.from([3, 4, 5, 6, 7]);
      const got = read(await pool.lossAndGradients(state, indices));
      const want = reference(state, full, indices);
      for (const [name, g] of want.grads) expect(maxRelativeError(got.grads.get(name) as Float32Array, g), name).toBeLessThan(1e-5);
    } finally {
      await pool.close();
      disposeTensors(state);
    }
  });

  it('a closed pool refuses further calls', async () => {
    const config = lenet5.parseConfig({});
    const pool = await createGradientPool(lenet5, config, {}, { workers: 2 });
    await pool.close();
    const state = lenet5.init(config, 1);
    const batch = { x: tf.zeros<tf.Rank.R4>([2, 28, 28, 1]), y: tf.tensor1d([0, 1], 'int32') };
    await expect(pool.lossAndGradients(state, batch)).rejects.toThrow(/called after close/);
    tf.dispose([batch.x, batch.y]);
    disposeTensors(state);
  });

  it('resolveWorkers: auto is one per core on wasm/cpu, a count is checked', () => {
    expect(resolveWorkers(undefined)).toBe(1);
    expect(resolveWorkers('auto', 'workers', 'tensorflow')).toBe(1);
    expect(resolveWorkers('auto', 'workers', 'wasm')).toBeGreaterThanOrEqual(1);
    expect(() => resolveWorkers(0, 'trainMode workers')).toThrow(/trainMode workers: expected an integer ≥ 1, found 0/);
  });
});

describe('createGradientPool with BatchNorm (ResNet18 k=1/16 on 8×8 inputs)', () => {
  it('combines per-shard batch statistics into the full batch mean (1e-5) and unbiased variance (1%), and gradients stay finite', async () => {
    const config = resnet18.parseConfig({ width: 1 / 16, inputSize: 8, inputChannels: 1 });
    const state = resnet18.init(config, 2);
    const r = createRandom(9);
    const x = tf.tensor4d(Float32Array.from({ length: 32 * 64 }, () => r.next()), [32, 8, 8, 1]);
    const y = tf.tensor1d(Int32Array.from({ length: 32 }, (_, i) => i % 10), 'int32');
    const pool = await createGradientPool(resnet18, config, {}, { workers: 2 });
    try {
      const got = read(await pool.lossAndGradients(state, { x, y }));
      const want = read(lossAndGradients(resnet18, config, state, { x, y }));
      // conv1's input statistics do not depend on normalization upstream: exact comparison there.
      expect(maxRelativeError(got.stats.get('bn1.running_mean') as Float32Array, want.stats.get('bn1.running_mean') as Float32Array)).toBeLessThan(1e-5);
      expect(maxRelativeError(got.stats.get('bn1.running_var') as Float32Array, want.stats.get('bn1.running_var') as Float32Array)).toBeLessThan(1e-2);
      expect([...got.stats.keys()]).toEqual([...want.stats.keys()]);
      for (const [name, g] of got.grads) expect(g.every(Number.isFinite), name).toBe(true);
    } finally {
      await pool.close();
      tf.dispose([x, y]);
      disposeTensors(state);
    }
  });
});
