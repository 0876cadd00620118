import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { readMatrix, toy, toyBatches, toyData, toyModel, type ToyConfig } from '../../test/fixtures/barriers-toy-architectures.js';
import { disposeTensors } from '../models/tensor-map.js';
import { reestimateBatchNorm } from './bn-reset.js';
import { createEvaluator } from './evaluate.js';

beforeAll(async () => {
  await useTestBackend();
});

const config: ToyConfig = { inputs: 3, hidden: 4, classes: 2, batchNorm: true };
const data = toyData(24, config, 11);
let batches: ReturnType<typeof toyBatches>;
beforeAll(() => {
  batches = toyBatches(data, [8, 8, 8]);
});
afterAll(() => tf.dispose(batches.flatMap((b) => [b.x, b.y])));

/** Per-batch mean and unbiased variance of h = x·W + b for each hidden unit, averaged over batches, in float64. */
function closedForm(w: number[][], b: number[], sizes: number[], count = sizes.length): { mean: number[]; variance: number[] } {
  const mean = new Array<number>(b.length).fill(0);
  const variance = new Array<number>(b.length).fill(0);
  let start = 0;
  for (const size of sizes.slice(0, count)) {
    const rows = data.xs.slice(start, start + size);
    start += size;
    for (let j = 0; j < b.length; j++) {
      const h = rows.map((x) => (b[j] as number) + x.reduce((s, xi, i) => s + xi * (w[i]![j] as number), 0));
      const m = h.reduce((s, v) => s + v, 0) / size;
      const v = h.reduce((s, x) => s + (x - m) ** 2, 0) / (size - 1);
      mean[j] = (mean[j] as number) + m / count;
      variance[j] = (variance[j] as number) + v / count;
    }
  }
  return { mean, variance };
}

describe('reestimateBatchNorm', () => {
  it('gives the mean over batches of the batch means and unbiased variances (closed form)', () => {
    const model = toyModel(config, 1);
    const buffers = reestimateBatchNorm(toy, config, model, batches);
    const expected = closedForm(readMatrix(model.params.get('fc1.weight')!), Array.from(model.params.get('fc1.bias')!.dataSync()), [8, 8, 8]);
    const mean = Array.from(buffers.get('bn.running_mean')!.dataSync());
    const variance = Array.from(buffers.get('bn.running_var')!.dataSync());
    mean.forEach((m, j) => expect(m).toBeCloseTo(expected.mean[j]!, 5));
    variance.forEach((v, j) => expect(v).toBeCloseTo(expected.variance[j]!, 4));
    // The stored statistics are untouched and different.
    expect(Array.from(model.buffers.get('bn.running_mean')!.dataSync())).not.toEqual(mean);
    disposeTensors(model, buffers);
  });

  it('uses only the first bnBatchCount batches', () => {
    const model = toyModel(config, 2);
    const buffers = reestimateBatchNorm(toy, config, model, batches, { bnBatchCount: 1 });
    const expected = closedForm(readMatrix(model.params.get('fc1.weight')!), Array.from(model.params.get('fc1.bias')!.dataSync()), [8, 8, 8], 1);
    Array.from(buffers.get('bn.running_var')!.dataSync()).forEach((v, j) => expect(v).toBeCloseTo(expected.variance[j]!, 4));
    expect(() => reestimateBatchNorm(toy, config, model, batches, { bnBatchCount: 0 })).toThrow(/positive integer/);
    disposeTensors(model, buffers);
  });

  it('makes evaluation independent of the stored statistics, unless switched off', async () => {
    const model = toyModel(config, 3);
    const scrambled = new Map([...model.buffers].map(([n, t]) => [n, tf.mul(t, 7)]));
    const on = createEvaluator(toy, config, { test: batches, bnBatches: batches });
    const off = createEvaluator(toy, config, { test: batches, bnBatches: batches }, { bnReset: false });
    expect(on.bnReset).toBe(true);
    expect(off.bnReset).toBe(false);
    const a = await on.evaluate(model);
    const b = await on.evaluate({ params: model.params, buffers: scrambled });
    expect(b.test!.loss).toBe(a.test!.loss);
    const c = await off.evaluate(model);
    const d = await off.evaluate({ params: model.params, buffers: scrambled });
    expect(d.test!.loss).not.toBeCloseTo(c.test!.loss, 3);
    on.dispose();
    off.dispose();
    disposeTensors(model, scrambled);
  });

  it('is on by default only for models with buffers', () => {
    const plain = { ...config, batchNorm: false };
    const e = createEvaluator(toy, plain, { test: batches, bnBatches: [] });
    expect(e.bnReset).toBe(false);
    e.dispose();
  });
});

describe('reestimateBatchNorm on ResNet18 (the real BatchNorm contract)', () => {
  it('returns every running statistic, the mean of the per-batch statistics, without leaking', async () => {
    const { createModel } = await import('../models/registry.js');
    const { resnet18 } = await import('../models/resnet18/index.js');
    const model = createModel('resnet18', { width: 0.0625, inputSize: 16 }, 1);
    const config = resnet18.parseConfig(model.config);
    const xs = [0, 1].map((i) => ({ x: tf.randomNormal<tf.Rank.R4>([4, 16, 16, 3], 0, 1, 'float32', i + 1) }));
    const buffers = reestimateBatchNorm(resnet18, config, model, xs);
    expect([...buffers.keys()]).toEqual([...model.buffers.keys()]);
    // Independent check on the stem BN: mean of the two batches' statistics from training-mode apply.
    const stats = xs.map((b) => resnet18.apply(config, model, b.x, { training: true }).batchStats);
    const name = [...model.buffers.keys()].find((n) => n.endsWith('running_var'))!;
    const expected = tf.tidy(() => tf.div(tf.add(stats[0]!.get(name)!, stats[1]!.get(name)!), 2));
    expect(Array.from(buffers.get(name)!.dataSync())).toEqual(Array.from(expected.dataSync()).map((v) => expect.closeTo(v, 6) as number));
    for (const s of stats) tf.dispose([...s.values()]);
    expected.dispose();
    disposeTensors(buffers);
    const count = tf.memory().numTensors;
    disposeTensors(reestimateBatchNorm(resnet18, config, model, xs));
    expect(tf.memory().numTensors).toBe(count);
    tf.dispose(xs.map((b) => b.x));
    disposeTensors(model);
  });
});
