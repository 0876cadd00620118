import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init-backend.js';
import { createRandom, normalArray } from '../util/random.js';
import { backwardPeakPerLayer, expectNoLeakedTensors, maxRelativeError, useTestBackend } from '../../test/helpers.js';
import { batchNormEval, batchNormTrain, foldBatchNorm, resetRunningStats, updateRunningStats } from './batch-norm.js';
import { buildModelSpec } from './model-spec.js';

beforeAll(async () => {
  await useTestBackend();
});

const N = 3, H = 4, W = 5, C = 2;

/** Per-channel mean and (biased, unbiased) variance of NHWC data, computed in plain JS. */
function channelStats(data: Float32Array, channels: number): { mean: number[]; biased: number[]; unbiased: number[] } {
  const m = data.length / channels;
  const mean: number[] = [], biased: number[] = [], unbiased: number[] = [];
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let i = c; i < data.length; i += channels) s += data[i] as number;
    const mu = s / m;
    let ss = 0;
    for (let i = c; i < data.length; i += channels) ss += ((data[i] as number) - mu) ** 2;
    mean.push(mu);
    biased.push(ss / m);
    unbiased.push(ss / (m - 1));
  }
  return { mean, biased, unbiased };
}

function sampleInput(seed: number): Float32Array {
  // Channel 1 gets a shifted, scaled distribution so channels are not alike.
  const values = normalArray(N * H * W * C, 0, 1, createRandom(seed));
  for (let i = 1; i < values.length; i += C) values[i] = 3 + 2.5 * (values[i] as number);
  return values;
}

describe('batch norm (NHWC)', () => {
  it('batchNormTrain normalizes each channel to mean 0 / variance 1 and reports the batch mean and unbiased variance', () => {
    const data = sampleInput(1);
    const x = tf.tensor4d(data, [N, H, W, C]);
    const ones = tf.ones<tf.Rank.R1>([C]), zeros = tf.zeros<tf.Rank.R1>([C]);
    const { y, mean, variance } = batchNormTrain(x, ones, zeros);
    const expected = channelStats(data, C);
    const out = channelStats(y.dataSync() as Float32Array, C);
    for (let c = 0; c < C; c++) {
      expect(out.mean[c]).toBeCloseTo(0, 5);
      // biased variance of the output = σ²/(σ²+ε)
      expect(out.biased[c]).toBeCloseTo((expected.biased[c] as number) / ((expected.biased[c] as number) + 1e-5), 4);
    }
    expect(maxRelativeError(mean.dataSync(), expected.mean)).toBeLessThan(1e-5);
    expect(maxRelativeError(variance.dataSync(), expected.unbiased)).toBeLessThan(1e-5);
    tf.dispose([x, ones, zeros, y, mean, variance]);
  });

  it('batchNormTrain applies γ and β after normalizing', () => {
    const data = sampleInput(2);
    const x = tf.tensor4d(data, [N, H, W, C]);
    const gamma = tf.tensor1d([2, 0.5]), beta = tf.tensor1d([-1, 3]);
    const { y, mean, variance } = batchNormTrain(x, gamma, beta);
    const s = channelStats(data, C);
    const got = y.dataSync();
    const want = Array.from(data, (v, i) => {
      const c = i % C;
      return [2, 0.5][c]! * (v - s.mean[c]!) / Math.sqrt(s.biased[c]! + 1e-5) + [-1, 3][c]!;
    });
    expect(maxRelativeError(got, want)).toBeLessThan(1e-5);
    tf.dispose([x, gamma, beta, y, mean, variance]);
  });

  it('batchNormEval uses the running statistics, not the batch', () => {
    const data = sampleInput(3);
    const x = tf.tensor4d(data, [N, H, W, C]);
    const gamma = tf.tensor1d([1.5, -1]), beta = tf.tensor1d([0.25, 0]);
    const rm = tf.tensor1d([0.5, -2]), rv = tf.tensor1d([4, 0.25]);
    const y = batchNormEval(x, gamma, beta, rm, rv);
    const want = Array.from(data, (v, i) => {
      const c = i % C;
      return [1.5, -1][c]! * (v - [0.5, -2][c]!) / Math.sqrt([4, 0.25][c]! + 1e-5) + [0.25, 0][c]!;
    });
    expect(maxRelativeError(y.dataSync(), want)).toBeLessThan(1e-5);
    tf.dispose([x, gamma, beta, rm, rv, y]);
  });

  it('errors name the layer and the shapes when channels do not match', () => {
    const x = tf.zeros<tf.Rank.R4>([2, 2, 2, 3]);
    const v = tf.ones<tf.Rank.R1>([2]);
    expect(() => batchNormTrain(x, v, v, 'layer1.0.bn1')).toThrow(/layer1\.0\.bn1.*\[2\].*3 channels/);
    const one = tf.zeros<tf.Rank.R4>([1, 1, 1, 2]);
    expect(() => batchNormTrain(one, v, v)).toThrow(/more than 1 value per channel/);
    tf.dispose([x, v, one]);
  });

  it('foldBatchNorm: conv with the folded kernel and bias equals conv followed by eval BN', () => {
    const random = createRandom(4);
    const x = tf.tensor4d(normalArray(2 * 6 * 6 * 3, 0, 1, random), [2, 6, 6, 3]);
    const k = tf.tensor4d(normalArray(3 * 3 * 3 * 4, 0, 0.3, random), [3, 3, 3, 4]);
    const gamma = tf.tensor1d([1, 2, -0.5, 0.1]), beta = tf.tensor1d([0, 1, 2, -3]);
    const rm = tf.tensor1d([0.1, -0.2, 0.3, 0]), rv = tf.tensor1d([1, 2, 0.5, 3]);
    const reference = batchNormEval(tf.conv2d(x, k, 1, 'same'), gamma, beta, rm, rv);
    const folded = foldBatchNorm(k, gamma, beta, rm, rv);
    const fused = tf.fused.conv2d({ x, filter: folded.kernel, strides: 1, pad: 'same', bias: folded.bias });
    expect(maxRelativeError(fused.dataSync(), reference.dataSync())).toBeLessThan(1e-5);
    tf.dispose([x, k, gamma, beta, rm, rv, reference, folded.kernel, folded.bias, fused]);
  });

  it('the gradient through a stack of training BNs holds about 2 activations per layer at its peak (its intermediates are freed as it goes)', async () => {
    // Without a tidy in the custom gradient, its five activation-sized intermediates stayed until the whole backward pass ended: 8 per layer.
    const x = tf.randomNormal<tf.Rank.R4>([8, 8, 8, 16], 0, 1, 'float32', 3);
    const [gamma, beta] = [tf.ones<tf.Rank.R1>([16]), tf.zeros<tf.Rank.R1>([16])];
    const perLayer = await backwardPeakPerLayer((h) => {
      const r = batchNormTrain(h as tf.Tensor4D, gamma, beta);
      tf.dispose([r.mean, r.variance]);
      return r.y;
    }, x);
    expect(perLayer).toBeLessThan(3);
    tf.dispose([x, gamma, beta]);
  });

  it('does not leak tensors', async () => {
    const x = tf.tensor4d(sampleInput(5), [N, H, W, C]);
    const g = tf.ones<tf.Rank.R1>([C]), b = tf.zeros<tf.Rank.R1>([C]);
    await expectNoLeakedTensors(() => {
      const r = batchNormTrain(x, g, b);
      tf.dispose([r.y, r.mean, r.variance]);
    });
    tf.dispose([x, g, b]);
  });
});

describe('running statistics', () => {
  const buffers = () =>
    new Map<string, tf.Tensor>([
      ['bn.running_mean', tf.tensor1d([2, -1])],
      ['bn.running_var', tf.tensor1d([1, 1])],
      ['other.running_mean', tf.tensor1d([7])],
    ]);

  it('momentum m: K updates with a constant batch statistic b give b + (1−m)^K (r₀ − b)', () => {
    let current: Map<string, tf.Tensor> = buffers();
    const stats = new Map<string, tf.Tensor>([['bn.running_mean', tf.tensor1d([4, 3])], ['bn.running_var', tf.tensor1d([0.5, 9])]]);
    for (let k = 0; k < 5; k++) {
      const next = updateRunningStats(current, stats);
      for (const t of current.values()) t.dispose();
      current = next;
    }
    const f = 0.9 ** 5;
    expect(maxRelativeError(current.get('bn.running_mean')!.dataSync(), [4 + f * (2 - 4), 3 + f * (-1 - 3)])).toBeLessThan(1e-6);
    expect(maxRelativeError(current.get('bn.running_var')!.dataSync(), [0.5 + f * 0.5, 9 + f * (1 - 9)])).toBeLessThan(1e-6);
    // buffers without a batch statistic are copied unchanged
    expect(Array.from(current.get('other.running_mean')!.dataSync())).toEqual([7]);
    for (const t of [...current.values(), ...stats.values()]) t.dispose();
  });

  it('cumulative momentum 1/(k+1) gives the plain mean of the batch statistics, whatever the start', () => {
    const batches = [[1, 10], [4, -2], [7, 3], [0, 5]];
    let current: Map<string, tf.Tensor> = buffers();
    batches.forEach((b, k) => {
      const stats = new Map<string, tf.Tensor>([['bn.running_mean', tf.tensor1d(b)]]);
      const next = updateRunningStats(current, stats, { cumulative: k });
      for (const t of [...current.values(), ...stats.values()]) t.dispose();
      current = next;
    });
    expect(maxRelativeError(current.get('bn.running_mean')!.dataSync(), [3, 4])).toBeLessThan(1e-6);
    for (const t of current.values()) t.dispose();
  });

  it('never changes its inputs and rejects bad momenta and unknown statistics', () => {
    const start = buffers();
    const stats = new Map<string, tf.Tensor>([['bn.running_mean', tf.tensor1d([100, 100])]]);
    const next = updateRunningStats(start, stats, 0.5);
    expect(Array.from(start.get('bn.running_mean')!.dataSync())).toEqual([2, -1]);
    expect(Array.from(next.get('bn.running_mean')!.dataSync())).toEqual([51, 49.5]);
    expect(() => updateRunningStats(start, stats, 0)).toThrow(/momentum must be in \(0, 1\]/);
    expect(() => updateRunningStats(start, stats, { cumulative: -1 })).toThrow(/cumulative/);
    const stray = new Map<string, tf.Tensor>([['nope.running_mean', tf.tensor1d([1])]]);
    expect(() => updateRunningStats(start, stray)).toThrow(/"nope.running_mean" has no running buffer/);
    for (const t of [...start.values(), ...stats.values(), ...next.values(), ...stray.values()]) t.dispose();
  });

  it('resetRunningStats gives means 0 and variances 1', () => {
    const spec = buildModelSpec(
      [{ name: 'bn', tensors: [{ name: 'bn.running_mean', shape: [3], kind: 'running-mean' }, { name: 'bn.running_var', shape: [3], kind: 'running-var' }] }],
      [1, 1, 1],
      2,
    );
    const fresh = resetRunningStats(spec);
    expect(Array.from(fresh.get('bn.running_mean')!.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(fresh.get('bn.running_var')!.dataSync())).toEqual([1, 1, 1]);
    for (const t of fresh.values()) t.dispose();
  });
});

describe('batch norm gradients (cpu backend until the wasm gradient kernels land)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });
  afterAll(async () => {
    await useTestBackend();
  });

  it('match the gradients of the same formula written with elementary ops', () => {
    const x = tf.tensor4d(sampleInput(6), [N, H, W, C]);
    const gamma = tf.tensor1d([1.3, 0.7]), beta = tf.tensor1d([0.2, -0.4]);
    const weights = tf.tensor4d(normalArray(N * H * W * C, 0, 1, createRandom(7)), [N, H, W, C]);
    const loss = (f: (x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor) => (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(f(xx as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D), weights));
    const ours = tf.grads(loss((xx, g, b) => batchNormTrain(xx, g, b).y))([x, gamma, beta]);
    const manual = tf.grads(
      loss((xx, g, b) => {
        const mu = tf.mean(xx, [0, 1, 2]);
        const v = tf.mean(tf.square(tf.sub(xx, mu)), [0, 1, 2]);
        return tf.add(tf.mul(tf.div(tf.sub(xx, mu), tf.sqrt(tf.add(v, 1e-5))), g), b);
      }),
    )([x, gamma, beta]);
    for (let i = 0; i < 3; i++) expect(maxRelativeError(ours[i]!.dataSync(), manual[i]!.dataSync())).toBeLessThan(1e-4);
    tf.dispose([x, gamma, beta, weights, ...ours, ...manual]);
  });

  it('on wasm, at a ResNet-sized odd shape, match the elementary-op gradients computed on cpu, and leak nothing', async () => {
    const random = createRandom(8);
    const shape: [number, number, number, number] = [3, 7, 5, 12];
    const size = shape.reduce((p, q) => p * q, 1);
    const xs = normalArray(size, 0.5, 2, random);
    const gs = normalArray(12, 1, 0.3, random);
    const bs = normalArray(12, 0, 0.3, random);
    const ws = normalArray(size, 0, 1, random);
    const grads = (manualFormula: boolean): Float32Array[] =>
      tf.tidy(() => {
        const weights = tf.tensor4d(ws, shape);
        const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Scalar => {
          let y: tf.Tensor;
          if (manualFormula) {
            const mu = tf.mean(xx, [0, 1, 2]);
            const v = tf.mean(tf.square(tf.sub(xx, mu)), [0, 1, 2]);
            y = tf.add(tf.mul(tf.div(tf.sub(xx, mu), tf.sqrt(tf.add(v, 1e-5))), g), b);
          } else {
            y = batchNormTrain(xx as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D).y;
          }
          return tf.sum(tf.mul(tf.square(y), weights));
        };
        return tf.grads(f)([tf.tensor4d(xs, shape), tf.tensor1d(gs), tf.tensor1d(bs)]).map((t) => t.dataSync() as Float32Array);
      });
    const expected = grads(true);
    await tf.setBackend('wasm');
    try {
      const got = grads(false);
      for (let i = 0; i < 3; i++) expect(maxRelativeError(got[i]!, expected[i]!), ['dx', 'dγ', 'dβ'][i]).toBeLessThan(1e-4);
      const before = tf.memory().numTensors;
      grads(false);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
