import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { disposeTensors } from '../models/tensor-map.js';
import { createOptimizer } from './optimizer.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('createOptimizer', () => {
  it('SGD with momentum and weight decay follows torch.optim.SGD by hand', () => {
    const opt = createOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 0.1 });
    let params: Map<string, tf.Tensor> = new Map([['w', tf.scalar(1)]]);
    const grads = new Map([['w', tf.scalar(0.5)]]);
    // step 1: g = 0.5 + 0.1·1 = 0.6; v = 0.6; θ = 1 − 0.1·0.6 = 0.94
    let next = opt.step(params, grads, 0.1);
    expect(next.get('w')!.dataSync()[0]).toBeCloseTo(0.94, 6);
    disposeTensors(params);
    params = next;
    // step 2: g = 0.5 + 0.094 = 0.594; v = 0.9·0.6 + 0.594 = 1.134; θ = 0.94 − 0.1134 = 0.8266
    next = opt.step(params, grads, 0.1);
    expect(next.get('w')!.dataSync()[0]).toBeCloseTo(0.8266, 6);
    disposeTensors(params, next, grads);
    opt.dispose();
  });

  it('Adam first step moves each parameter by lr in the gradient sign', () => {
    const opt = createOptimizer({ kind: 'adam' });
    const params = new Map([['w', tf.tensor1d([1, 1])]]);
    const grads = new Map([['w', tf.tensor1d([3, -0.2])]]);
    const next = opt.step(params, grads, 0.01);
    const w = next.get('w')!.dataSync();
    expect(w[0]).toBeCloseTo(0.99, 5);
    expect(w[1]).toBeCloseTo(1.01, 5);
    disposeTensors(params, grads, next);
    opt.dispose();
  });

  it('steps leak no tensors', async () => {
    const opt = createOptimizer({ kind: 'sgd', momentum: 0.9 });
    let params: Map<string, tf.Tensor> = new Map([['w', tf.ones([4, 4])]]);
    const grads = new Map([['w', tf.ones([4, 4])]]);
    await expectNoLeakedTensors(() => {
      const next = opt.step(params, grads, 0.1);
      disposeTensors(params);
      params = next;
    });
    disposeTensors(params, grads);
    opt.dispose();
  });
});
