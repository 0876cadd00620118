import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxRelativeError, useTestBackend } from '../../test/helpers.js';
import { toTensors } from '../data/batches.js';
import { loadDataset } from '../data/datasets.js';
import { DEFAULT_PREPROCESSING } from '../data/preprocess.js';
import { lenet5 } from '../models/lenet5/index.js';
import { createModel } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ImageSplit } from '../data/types.js';
import type { Model } from '../models/types.js';
import { createGradientPool, type GradientPool } from '../train/gradient-pool.js';
import { splitBatchSource, tensorBatchSource, type BatchSource } from './batch-source.js';
import { createCurve, disposeCurve, type Curve } from './curve.js';
import { pooledCurveLossAndGradients } from './pooled-curve-gradients.js';
import { curveLossAndGradients, trainCurve } from './train-curve.js';

let a: Model;
let b: Model;
let curve: Curve;
let x: tf.Tensor4D;
let y: tf.Tensor1D;
let pool: GradientPool;
let train: ImageSplit;
beforeAll(async () => {
  await useTestBackend();
  a = createModel('lenet5', {}, 1);
  b = createModel('lenet5', {}, 2);
  curve = createCurve(a, b, { kind: 'bezier', bends: 3 });
  train = await loadDataset('fashion-mnist-small', 'train');
  ({ x, y } = toTensors(train, Int32Array.from({ length: 96 }, (_, i) => i), DEFAULT_PREPROCESSING));
  pool = await createGradientPool(lenet5, lenet5.parseConfig({}), {}, { workers: 2 });
});
afterAll(async () => {
  await pool.close();
  disposeCurve(curve);
  disposeTensors(a, b);
  tf.dispose([x, y]);
});

describe('pooledCurveLossAndGradients', () => {
  it('equals curveLossAndGradients (autodiff through θ(t)) within 1e-5, for 1 and 2 workers', async () => {
    const one = await createGradientPool(lenet5, lenet5.parseConfig({}), {}, { workers: 1 });
    for (const p of [one, pool]) {
      const want = curveLossAndGradients(lenet5, curve as Curve<never>, { x, y }, 0.3, 5e-4);
      const got = await pooledCurveLossAndGradients(p, curve, { x, y }, 0.3, 5e-4);
      expect([...got.grads.keys()]).toEqual([...want.grads.keys()]);
      for (const [key, g] of want.grads) expect(maxRelativeError(got.grads.get(key)!.dataSync(), g.dataSync()), `${p.workers} workers ${key}`).toBeLessThan(1e-5);
      expect(Math.abs(got.objective.dataSync()[0]! - want.objective.dataSync()[0]!)).toBeLessThan(1e-5);
      expect(Math.abs(got.loss.dataSync()[0]! - want.loss.dataSync()[0]!)).toBeLessThan(1e-5);
      tf.dispose([got.objective, got.loss, want.objective, want.loss, ...got.grads.values(), ...want.grads.values()]);
    }
    await one.close();
  });
});

describe('trainCurve with workers', () => {
  it('3 steps with 2 workers end within 1e-5 of the in-thread run and leave no tensor behind', async () => {
    const source = tensorBatchSource(x, y, { batchSize: 32, seed: 0 });
    const options = { epochs: 1, lr: 0.01, weightDecay: 5e-4 };
    const before = tf.memory().numTensors;
    const inThread = await trainCurve(lenet5, curve as Curve<never>, source, options);
    const pooled = await trainCurve(lenet5, curve as Curve<never>, source, { ...options, workers: 2 });
    for (const [name, want] of inThread.curve.bends[1]!) {
      expect(maxRelativeError(pooled.curve.bends[1]!.get(name)!.dataSync(), want.dataSync()), name).toBeLessThan(1e-5);
    }
    expect(Math.abs(pooled.rows[0]!.loss - inThread.rows[0]!.loss)).toBeLessThan(1e-5);
    for (const r of [inThread, pooled]) {
      disposeCurve(r.curve);
      disposeTensors(r.state.slots);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('trainCurve with workers on a split (the pool holds the split, steps send indices)', () => {
  it('is bit-identical to the same batches sent as tensors, and leaves no tensor behind', async () => {
    const indexed = splitBatchSource(train, DEFAULT_PREPROCESSING, { batchSize: 32, seed: 2 });
    expect(indexed.indexed).toBeDefined();
    const asTensors: BatchSource = { batchesPerEpoch: indexed.batchesPerEpoch, batch: (e, i) => indexed.batch(e, i) };
    const options = { epochs: 1, lr: 0.01, weightDecay: 5e-4, workers: 2, maxSteps: 3 };
    const before = tf.memory().numTensors;
    const viaIndices = await trainCurve(lenet5, curve as Curve<never>, indexed, options);
    const viaTensors = await trainCurve(lenet5, curve as Curve<never>, asTensors, options);
    for (const [name, want] of viaTensors.curve.bends[1]!) expect(Array.from(viaIndices.curve.bends[1]!.get(name)!.dataSync()), name).toEqual(Array.from(want.dataSync()));
    for (const r of [viaIndices, viaTensors]) {
      disposeCurve(r.curve);
      disposeTensors(r.state.slots);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
