import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backwardPeakPerLayer, expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { swish } from './activations.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('activations', () => {
  it('swish is x·σ(x) and its gradient the central differences of the double-precision function', () => {
    const xs = [-6, -2.5, -1, -0.3, 0, 0.2, 0.7, 1, 1.5, 3, 6];
    const swishDouble = (v: number) => v / (1 + Math.exp(-v));
    const x = tf.tensor1d(xs);
    const y = swish(x);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(swish(t)))(x);
    const h = 1e-5;
    xs.forEach((v, i) => {
      expect(Math.abs((y.dataSync()[i] as number) - swishDouble(v)), `swish(${v})`).toBeLessThan(2e-6);
      expect(Math.abs((dx.dataSync()[i] as number) - (swishDouble(v + h) - swishDouble(v - h)) / (2 * h)), `swish′(${v})`).toBeLessThan(2e-6);
    });
    tf.dispose([x, y, dx]);
  });

  it('the gradient through a stack of swishes holds about 2 activations per layer at its peak, and leaks nothing', async () => {
    const x = tf.randomNormal<tf.Rank.R2>([512, 16], 0, 1, 'float32', 5);
    expect(await backwardPeakPerLayer((h) => swish(h), x)).toBeLessThan(3);
    await expectNoLeakedTensors(() => tf.grad((t: tf.Tensor) => tf.sum(swish(t)))(x).dispose());
    x.dispose();
  });
});
