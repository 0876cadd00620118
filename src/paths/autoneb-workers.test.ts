import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxRelativeError, useTestBackend } from '../../test/helpers.js';
import { toTensors } from '../data/batches.js';
import { loadDataset } from '../data/datasets.js';
import { DEFAULT_PREPROCESSING } from '../data/preprocess.js';
import { lenet5 } from '../models/lenet5/index.js';
import { createModel } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { connectAutoNeb, disposeNebChain, parseNebCycles } from './autoneb.js';
import { tensorBatchSource } from './batch-source.js';

let x: tf.Tensor4D;
let y: tf.Tensor1D;
let a: Model;
let b: Model;
beforeAll(async () => {
  await useTestBackend();
  const train = await loadDataset('fashion-mnist-small', 'train');
  ({ x, y } = toTensors(train, Int32Array.from({ length: 64 }, (_, i) => i), DEFAULT_PREPROCESSING));
  a = createModel('lenet5', {}, 1);
  b = createModel('lenet5', {}, 2);
});
afterAll(() => {
  tf.dispose([x, y]);
  disposeTensors(a, b);
});

describe('connectAutoNeb with workers (LeNet5, one cycle of 3 steps, 3 pivots)', () => {
  it('moves the pivots as the in-thread run does (1e-5) with 2 workers, and frees what it made', async () => {
    const run = (workers: number) =>
      connectAutoNeb(lenet5, a as Model<never>, b as Model<never>, { train: tensorBatchSource(x, y, { batchSize: 32, seed: 0 }), evaluation: [{ x, y }] }, {
        cycles: parseNebCycles('1x3@0.05'),
        densePoints: 1,
        maxInsertions: 0,
        workers,
      });
    const before = tf.memory().numTensors;
    const one = await run(1);
    const two = await run(2);
    expect(two.chain.pivots.length).toBe(one.chain.pivots.length);
    one.chain.pivots.forEach((p, i) => expect(maxRelativeError(two.chain.pivots[i]!.dataSync(), p.dataSync()), `pivot ${i}`).toBeLessThan(1e-5));
    expect(Math.abs(two.rows[0]!.saddleLoss - one.rows[0]!.saddleLoss)).toBeLessThan(1e-5);
    disposeNebChain(one.chain);
    disposeNebChain(two.chain);
    expect(tf.memory().numTensors).toBe(before);
  });
});
