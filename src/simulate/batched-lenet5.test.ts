import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, maxRelativeError, useTestBackend } from '../../test/helpers.js';
import { lenet5 } from '../models/lenet5/index.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { lossAndGradients } from '../train/step.js';
import { createRandom, normalArray } from '../util/random.js';
import { batchedLenet5Logits, batchedLossAndGradients, stackParams, unstackParams } from './batched-lenet5.js';

beforeAll(async () => {
  await useTestBackend();
});

const CONFIG = lenet5.defaultConfig;
const K = 3;
const B = 5;

function models(): ModelState[] {
  // Different schemes and seeds, so a mixed-up node index would show.
  return [lenet5.init(CONFIG, 1, { scheme: 'xavier' }), lenet5.init(CONFIG, 2), lenet5.init(CONFIG, 3, { scheme: 'xavier' })];
}

function inputs(): { x: tf.Tensor4D; labels: tf.Tensor2D } {
  const r = createRandom(9);
  const x = tf.tensor4d(normalArray(K * B * 28 * 28, 0.3, 1, r), [K * B, 28, 28, 1]);
  const labels = tf.tensor2d(Int32Array.from({ length: K * B }, () => r.int(10)), [K, B], 'int32');
  return { x, labels };
}

describe('batched LeNet5', () => {
  it('logits equal lenet5.apply node by node (own batches and a shared batch), to 1e-4', () => {
    const states = models();
    const names = [...(states[0] as ModelState).params.keys()];
    const stacked = stackParams(states, names);
    const { x, labels } = inputs();
    const own = batchedLenet5Logits(CONFIG, stacked, x);
    expect(own.shape).toEqual([K, B, 10]);
    const shared = tf.slice(x, [0, 0, 0, 0], [B, 28, 28, 1]);
    const sharedLogits = batchedLenet5Logits(CONFIG, stacked, shared, { shared: true });
    states.forEach((state, k) => {
      const xk = tf.slice(x, [k * B, 0, 0, 0], [B, 28, 28, 1]);
      const reference = lenet5.apply(CONFIG, state, xk, { training: true }).logits;
      const mine = tf.squeeze(tf.slice(own, [k, 0, 0], [1, B, 10]), [0]);
      expect(maxRelativeError(mine.dataSync(), reference.dataSync())).toBeLessThan(1e-4);
      const refShared = lenet5.apply(CONFIG, state, shared, { training: false }).logits;
      const mineShared = tf.squeeze(tf.slice(sharedLogits, [k, 0, 0], [1, B, 10]), [0]);
      expect(maxRelativeError(mineShared.dataSync(), refShared.dataSync())).toBeLessThan(1e-4);
      tf.dispose([xk, reference, mine, refShared, mineShared]);
    });
    tf.dispose([own, shared, sharedLogits, x, labels]);
    disposeTensors(stacked, ...states);
  });

  it('loss and every gradient equal lossAndGradients node by node, to 1e-4', () => {
    const states = models();
    const names = [...(states[0] as ModelState).params.keys()];
    const stacked = stackParams(states, names);
    const { x, labels } = inputs();
    const { loss, grads } = batchedLossAndGradients(CONFIG, stacked, x, labels);
    const perNode = unstackParams(grads);
    const losses = loss.dataSync();
    states.forEach((state, k) => {
      const xk = tf.slice(x, [k * B, 0, 0, 0], [B, 28, 28, 1]);
      const yk = tf.squeeze<tf.Tensor1D>(tf.slice(labels, [k, 0], [1, B]), [0]);
      const reference = lossAndGradients(lenet5, CONFIG, state, { x: xk, y: yk });
      expect(losses[k]).toBeCloseTo(reference.loss.dataSync()[0] as number, 5);
      for (const name of names) {
        const g = (perNode[k] as Map<string, tf.Tensor>).get(name) as tf.Tensor;
        const ref = reference.grads.get(name) as tf.Tensor;
        expect(g.shape).toEqual(ref.shape);
        // Gradients are O(0.01–1); scale-relative error so tiny entries do not dominate.
        const scale = Math.max(...Array.from(ref.dataSync(), Math.abs));
        expect(maxRelativeError(g.dataSync().map((v) => v / scale), ref.dataSync().map((v) => v / scale)), name).toBeLessThan(1e-4);
      }
      tf.dispose([xk, yk, reference.loss, reference.correct, ...reference.grads.values()]);
    });
    perNode.forEach((m) => disposeTensors(m));
    tf.dispose([loss, x, labels]);
    disposeTensors(stacked, ...states);
  });

  it('leaks no tensors across repeated steps', async () => {
    const states = models();
    const names = [...(states[0] as ModelState).params.keys()];
    const stacked = stackParams(states, names);
    const { x, labels } = inputs();
    await expectNoLeakedTensors(() => {
      const { loss, grads } = batchedLossAndGradients(CONFIG, stacked, x, labels);
      tf.dispose([loss, ...grads.values()]);
    });
    tf.dispose([x, labels]);
    disposeTensors(stacked, ...states);
  });
});
