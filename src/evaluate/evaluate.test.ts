import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import {
  crossEntropy,
  mlpLogits,
  readMatrix,
  toy,
  toyBatches,
  toyData,
  toyModel,
  type ToyConfig,
} from '../../test/fixtures/barriers-toy-architectures.js';
import { disposeTensors } from '../models/tensor-map.js';
import { createEvaluator } from './evaluate.js';

beforeAll(async () => {
  await useTestBackend();
});

const config: ToyConfig = { inputs: 4, hidden: 5, classes: 3, batchNorm: false };
const data = toyData(17, config, 1);
const testData = toyData(9, config, 2);
let batches: ReturnType<typeof toyBatches>;
let testBatches: ReturnType<typeof toyBatches>;

beforeAll(() => {
  // Uneven batches: the loss must be the mean over examples, not the mean of batch means.
  batches = toyBatches(data, [7, 7, 3]);
  testBatches = toyBatches(testData, [9]);
});
afterAll(() => {
  tf.dispose(batches.flatMap((b) => [b.x, b.y]));
  tf.dispose(testBatches.flatMap((b) => [b.x, b.y]));
});

describe('createEvaluator', () => {
  it('gives the mean cross-entropy and accuracy over all examples, as computed directly in float64', async () => {
    const model = toyModel(config, 3);
    const evaluator = createEvaluator(toy, config, { train: batches, test: testBatches, bnBatches: [] });
    const metrics = await evaluator.evaluate(model);
    const p = {
      w1: readMatrix(model.params.get('fc1.weight')!),
      b1: Array.from(model.params.get('fc1.bias')!.dataSync()),
      w2: readMatrix(model.params.get('fc2.weight')!),
      b2: Array.from(model.params.get('fc2.bias')!.dataSync()),
    };
    const train = crossEntropy(mlpLogits(data.xs, p), data.labels);
    const test = crossEntropy(mlpLogits(testData.xs, p), testData.labels);
    expect(evaluator.splits).toEqual(['train', 'test']);
    expect(metrics.train!.loss).toBeCloseTo(train.loss, 5);
    expect(metrics.train!.accuracy).toBe(train.accuracy);
    expect(metrics.train!.count).toBe(17);
    expect(metrics.test!.loss).toBeCloseTo(test.loss, 5);
    expect(metrics.test!.accuracy).toBe(test.accuracy);
    evaluator.dispose();
    disposeTensors(model);
  });

  it('accepts one-hot labels and gives the same result as class indices', async () => {
    const model = toyModel(config, 4);
    const oneHot = batches.map((b) => ({ x: b.x, y: tf.oneHot(b.y, 3) as tf.Tensor2D }));
    const e1 = createEvaluator(toy, config, { train: batches, bnBatches: [] });
    const e2 = createEvaluator(toy, config, { train: oneHot, bnBatches: [] });
    expect(await e2.evaluate(model)).toEqual(await e1.evaluate(model));
    e1.dispose();
    e2.dispose();
    tf.dispose(oneHot.map((b) => b.y));
    disposeTensors(model);
  });

  it('is numerically stable for huge logits (log-softmax, not log of softmax)', async () => {
    const linear: ToyConfig = { inputs: 1, hidden: 0, classes: 2, batchNorm: false };
    // logits = [1000·x, 0]; x = 1 with label 1 has loss 1000, x = −1 with label 1 has loss ≈ e^−1000 ≈ 0.
    const params = new Map<string, tf.Tensor>([
      ['fc2.weight', tf.tensor2d([[1000, 0]])],
      ['fc2.bias', tf.tensor1d([0, 0])],
    ]);
    const x = tf.tensor4d([1, -1], [2, 1, 1, 1]);
    const y = tf.tensor1d([1, 1], 'int32');
    const evaluator = createEvaluator(toy, linear, { test: [{ x, y }], bnBatches: [] });
    const { test } = await evaluator.evaluate({ params, buffers: new Map() });
    expect(test!.loss).toBeCloseTo(500, 3);
    expect(test!.accuracy).toBe(0.5);
    evaluator.dispose();
    tf.dispose([x, y, ...params.values()]);
  });

  it('reports a NaN loss as NaN', async () => {
    const model = toyModel(config, 5);
    const bad = new Map(model.params);
    bad.set('fc2.bias', tf.tensor1d([NaN, 0, 0]));
    const evaluator = createEvaluator(toy, config, { test: testBatches, bnBatches: [] });
    const { test } = await evaluator.evaluate({ params: bad, buffers: new Map() });
    expect(test!.loss).toBeNaN();
    evaluator.dispose();
    bad.get('fc2.bias')!.dispose();
    disposeTensors(model);
  });

  it('names a requested split that the data lacks, and a BN model without BN batches', () => {
    expect(() => createEvaluator(toy, config, { test: testBatches, bnBatches: [] }, { splits: ['train'] })).toThrow(/split "train".*no train batches/);
    const bn: ToyConfig = { ...config, batchNorm: true };
    expect(() => createEvaluator(toy, bn, { test: testBatches, bnBatches: [] })).toThrow(/BatchNorm buffers.*bnBatches is empty/);
  });

  it('leaks no tensors across repeated evaluations', async () => {
    const model = toyModel({ ...config, batchNorm: true }, 6);
    const evaluator = createEvaluator(toy, { ...config, batchNorm: true }, { train: batches, test: testBatches, bnBatches: batches });
    await expectNoLeakedTensors(() => evaluator.evaluate(model));
    evaluator.dispose();
    disposeTensors(model);
  });
});
