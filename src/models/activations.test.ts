import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backwardPeakPerLayer, erfSeries, expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { gelu, swish } from './activations.js';

beforeAll(async () => {
  await useTestBackend();
});


describe('activations', () => {
  it('gelu is the exact x·Φ(x), not the tanh approximation', () => {
    const xs = [-4, -2.5, -1, -0.3, 0, 0.2, 0.7, 1, 1.5, 3, 4];
    const want = xs.map((x) => 0.5 * x * (1 + erfSeries(x / Math.SQRT2)));
    const x = tf.tensor1d(xs);
    const y = gelu(x);
    const got = y.dataSync();
    got.forEach((v, i) => expect(Math.abs(v - (want[i] as number)), `gelu(${xs[i]})`).toBeLessThan(2e-6));
    // tanh approximation differs by ~1e-4 around |x| ≈ 2: make sure we are not computing that.
    const tanhApprox = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    expect(Math.abs((got[1] as number) - tanhApprox(-2.5))).toBeGreaterThan(2e-5);
    tf.dispose([x, y]);
  });

  it('gelu’s custom gradient is Φ(x) + x·φ(x): central differences of the double-precision gelu', () => {
    const xs = [-4, -2.5, -1, -0.3, 0, 0.2, 0.7, 1, 1.5, 3, 4];
    const geluDouble = (v: number) => 0.5 * v * (1 + erfSeries(v / Math.SQRT2));
    const h = 1e-5;
    const x = tf.tensor1d(xs);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x);
    dx.dataSync().forEach((v, i) => {
      const xi = xs[i] as number;
      expect(Math.abs(v - (geluDouble(xi + h) - geluDouble(xi - h)) / (2 * h)), `gelu′(${xi})`).toBeLessThan(2e-6);
    });
    tf.dispose([x, dx]);
  });

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

  it('the gradients through stacks of gelus and of swishes hold about 2 activations per layer at their peak, and leak nothing', async () => {
    // Op by op they held 16 (gelu) and 6 (swish): every op's saved inputs and output gradient until the backward pass ended.
    const x = tf.randomNormal<tf.Rank.R2>([512, 16], 0, 1, 'float32', 5);
    for (const [name, f] of [['gelu', gelu], ['swish', swish]] as const) {
      expect(await backwardPeakPerLayer((h) => f(h), x), name).toBeLessThan(3);
      await expectNoLeakedTensors(() => tf.grad((t: tf.Tensor) => tf.sum(f(t)))(x).dispose());
    }
    x.dispose();
  });
});
