import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { toyLinear } from '../../test/toy-architecture.js';
import { disposeTensors } from '../models/tensor-map.js';
import { createOptimizer } from './optimizer.js';
import { foldBatchStats, trainStep } from './step.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('trainStep', () => {
  it('one SGD step on a linear softmax model equals θ − lr·Xᵀ(softmax − onehot)/N computed in JS', () => {
    const config = { size: 2, classes: 3 };
    const state = toyLinear.init(config, 1);
    const xs = [0.1, 0.5, -0.3, 0.9, 1, -1, 0.2, 0];
    const ys = [2, 0];
    const W = Array.from(state.params.get('fc.weight')!.dataSync());
    const b = Array.from(state.params.get('fc.bias')!.dataSync());
    const grad = new Array<number>(12).fill(0);
    for (let n = 0; n < 2; n++) {
      const x = xs.slice(4 * n, 4 * n + 4);
      const z = [0, 1, 2].map((k) => b[k]! + x.reduce((s, xi, i) => s + xi * W[i * 3 + k]!, 0));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((s, v) => s + v, 0);
      for (let i = 0; i < 4; i++) for (let k = 0; k < 3; k++) grad[i * 3 + k]! += (x[i]! * (e[k]! / sum - (k === ys[n] ? 1 : 0))) / 2;
    }
    const batch = { x: tf.tensor4d(xs, [2, 2, 2, 1]), y: tf.tensor1d(ys, 'int32') };
    const opt = createOptimizer({ kind: 'sgd' });
    const { state: next, loss, correct } = trainStep(toyLinear, config, state, batch, opt, 0.5);
    correct.dispose();
    const W1 = next.params.get('fc.weight')!.dataSync();
    for (let j = 0; j < 12; j++) expect(W1[j]).toBeCloseTo(W[j]! - 0.5 * grad[j]!, 5);
    expect(loss.dataSync()[0]).toBeGreaterThan(0);
    disposeTensors(state, next);
    loss.dispose();
    tf.dispose([batch.x, batch.y]);
  });

  it('repeated steps leak no tensors', async () => {
    const config = { size: 2, classes: 3 };
    let state = toyLinear.init(config, 2);
    const batch = { x: tf.randomUniform<tf.Rank.R4>([4, 2, 2, 1]), y: tf.tensor1d([0, 1, 2, 0], 'int32') };
    const opt = createOptimizer({ kind: 'sgd', momentum: 0.9 });
    await expectNoLeakedTensors(() => {
      const r = trainStep(toyLinear, config, state, batch, opt, 0.1);
      disposeTensors(state);
      tf.dispose([r.loss, r.correct]);
      state = r.state;
    });
    disposeTensors(state);
    opt.dispose();
    tf.dispose([batch.x, batch.y]);
  });

  it('foldBatchStats is r ← (1 − m)r + m·b', () => {
    const buffers = new Map([['bn.running_mean', tf.tensor1d([1, 2])]]);
    const stats = new Map([['bn.running_mean', tf.tensor1d([3, 4])]]);
    const out = foldBatchStats(buffers, stats, 0.1);
    const v = out.get('bn.running_mean')!.dataSync();
    expect(v[0]).toBeCloseTo(1.2, 6);
    expect(v[1]).toBeCloseTo(2.2, 6);
    disposeTensors(buffers, stats, out);
  });
});
