import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRandom, normalArray } from '../util/random.js';
import { backwardPeakPerLayer, expectNoLeakedTensors, maxRelativeError, useTestBackend } from '../../test/helpers.js';
import { layerNorm, multiHeadSelfAttention, sequencePool } from './transformer-ops.js';

beforeAll(async () => {
  await useTestBackend();
});

/** Row-major [rows, inner] × [inner, cols] in doubles. */
function naiveMatMul(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, inner: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let i = 0; i < inner; i++) s += (a[r * inner + i] as number) * (b[i * cols + c] as number);
      out[r * cols + c] = s;
    }
  return out;
}

function softmaxInPlace(v: Float64Array, offset: number, length: number): void {
  let m = -Infinity;
  for (let i = 0; i < length; i++) m = Math.max(m, v[offset + i] as number);
  let s = 0;
  for (let i = 0; i < length; i++) s += v[offset + i] = Math.exp((v[offset + i] as number) - m);
  for (let i = 0; i < length; i++) v[offset + i] = (v[offset + i] as number) / s;
}

describe('transformer ops', () => {
  const random = createRandom(1);

  it('layerNorm normalizes each row (biased variance, ε = 1e-5) then applies γ, β', () => {
    const rows = 4, d = 6;
    const data = normalArray(rows * d, 1, 3, random), g = normalArray(d, 1, 0.5, random), b = normalArray(d, 0, 1, random);
    const want: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = Array.from(data.subarray(r * d, (r + 1) * d));
      const mu = row.reduce((a, v) => a + v, 0) / d;
      const v = row.reduce((a, x) => a + (x - mu) ** 2, 0) / d;
      row.forEach((x, i) => want.push(((x - mu) / Math.sqrt(v + 1e-5)) * (g[i] as number) + (b[i] as number)));
    }
    const [x, gt, bt] = [tf.tensor2d(data, [rows, d]), tf.tensor1d(g), tf.tensor1d(b)];
    const y = layerNorm(x, gt, bt);
    expect(maxRelativeError(y.dataSync(), want)).toBeLessThan(1e-5);
    expect(() => layerNorm(x, tf.tensor1d([1, 2]), bt)).toThrow(/layerNorm: x is \[4, 6\] but γ is \[2\]/);
    tf.dispose([x, gt, bt, y]);
  });

  it('layerNorm’s custom gradient in x, γ, β equals autodiff through the op-by-op formula', () => {
    const rows = 12, d = 10;
    const [x, g, b] = [tf.tensor2d(normalArray(rows * d, 0.5, 2, random), [rows, d]), tf.tensor1d(normalArray(d, 1, 0.5, random)), tf.tensor1d(normalArray(d, 0, 1, random))];
    const w = tf.tensor2d(normalArray(rows * d, 0, 1, random), [rows, d]);
    const composed = (xi: tf.Tensor2D, gi: tf.Tensor1D, bi: tf.Tensor1D) => {
      const { mean, variance } = tf.moments(xi, 1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(xi, mean), tf.rsqrt(tf.add(variance, 1e-5))), gi), bi);
    };
    const loss = (f: typeof composed) => (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(f(xi as tf.Tensor2D, gi as tf.Tensor1D, bi as tf.Tensor1D), w));
    const got = tf.grads(loss(layerNorm))([x, g, b]);
    const want = tf.grads(loss(composed))([x, g, b]);
    got.forEach((t, i) => expect(maxRelativeError(t.dataSync(), (want[i] as tf.Tensor).dataSync()), ['dx', 'dγ', 'dβ'][i]).toBeLessThan(1e-4));
    tf.dispose([x, g, b, w, ...got, ...want]);
  });

  it('the gradient through a stack of layerNorms holds about 2 activations per layer at its peak', async () => {
    // Op by op it held 18: every op's saved inputs and output gradient until the backward pass ended.
    const x = tf.randomNormal<tf.Rank.R2>([512, 16], 0, 1, 'float32', 4);
    const [gamma, beta] = [tf.ones<tf.Rank.R1>([16]), tf.zeros<tf.Rank.R1>([16])];
    expect(await backwardPeakPerLayer((h) => layerNorm(h as tf.Tensor2D, gamma, beta), x)).toBeLessThan(3);
    tf.dispose([x, gamma, beta]);
  });

  it('multiHeadSelfAttention equals a naive per-head computation with timm’s qkv column order', () => {
    const n = 2, t = 5, d = 8, heads = 2, dh = d / heads;
    const x = normalArray(n * t * d, 0, 1, random);
    const wqkv = normalArray(d * 3 * d, 0, 0.3, random), wp = normalArray(d * d, 0, 0.3, random), bp = normalArray(d, 0, 0.1, random);
    const qkv = naiveMatMul(x, wqkv, n * t, d, 3 * d);
    const merged = new Float64Array(n * t * d);
    for (let e = 0; e < n; e++)
      for (let h = 0; h < heads; h++) {
        // column of channel c of head h in q (s=0), k (s=1), v (s=2): (s·H + h)·d_h + c
        const at = (s: number, tok: number, c: number) => qkv[(e * t + tok) * 3 * d + (s * heads + h) * dh + c] as number;
        const scores = new Float64Array(t * t);
        for (let i = 0; i < t; i++)
          for (let j = 0; j < t; j++) {
            let s = 0;
            for (let c = 0; c < dh; c++) s += at(0, i, c) * at(1, j, c);
            scores[i * t + j] = s / Math.sqrt(dh);
          }
        for (let i = 0; i < t; i++) softmaxInPlace(scores, i * t, t);
        for (let i = 0; i < t; i++)
          for (let c = 0; c < dh; c++) {
            let s = 0;
            for (let j = 0; j < t; j++) s += (scores[i * t + j] as number) * at(2, j, c);
            merged[(e * t + i) * d + h * dh + c] = s;
          }
      }
    const want = naiveMatMul(merged, wp, n * t, d, d).map((v, i) => v + (bp[i % d] as number));
    const [xt, qt, pt, bt] = [tf.tensor2d(x, [n * t, d]), tf.tensor2d(wqkv, [d, 3 * d]), tf.tensor2d(wp, [d, d]), tf.tensor1d(bp)];
    const y = multiHeadSelfAttention(xt, n, heads, { qkv: qt, proj: pt, projBias: bt });
    expect(y.shape).toEqual([n * t, d]);
    expect(maxRelativeError(y.dataSync(), want)).toBeLessThan(1e-5);
    expect(() => multiHeadSelfAttention(xt, n, 3, { qkv: qt, proj: pt, projBias: bt })).toThrow(/not divisible by 3 heads/);
    tf.dispose([xt, qt, pt, bt, y]);
  });

  it('sequencePool: softmax weights over the tokens of each example sum to 1 and weight the tokens', () => {
    const n = 3, t = 4, d = 5;
    const x = normalArray(n * t * d, 0, 1, random), w = normalArray(d, 0, 1, random);
    const [xt, wt, bt] = [tf.tensor2d(x, [n * t, d]), tf.tensor2d(w, [d, 1]), tf.tensor1d([0.7])];
    const { pooled, weights } = sequencePool(xt, n, wt, bt);
    const scores = naiveMatMul(x, w, n * t, d, 1).map((v) => v + 0.7);
    for (let e = 0; e < n; e++) softmaxInPlace(scores, e * t, t);
    const want = new Float64Array(n * d);
    for (let e = 0; e < n; e++) for (let i = 0; i < t; i++) for (let c = 0; c < d; c++) want[e * d + c]! += (scores[e * t + i] as number) * (x[(e * t + i) * d + c] as number);
    expect(maxRelativeError(weights.dataSync(), scores)).toBeLessThan(1e-5);
    expect(maxRelativeError(pooled.dataSync(), want)).toBeLessThan(1e-5);
    const sums = tf.tidy(() => tf.sum(weights, 1)).dataSync();
    for (const s of sums) expect(s).toBeCloseTo(1, 6);
    tf.dispose([xt, wt, bt, pooled, weights]);
  });

  it('does not leak tensors', async () => {
    const x = tf.randomNormal<tf.Rank.R2>([6, 4]);
    const qkv = tf.randomNormal<tf.Rank.R2>([4, 12]), proj = tf.randomNormal<tf.Rank.R2>([4, 4]), b = tf.zeros<tf.Rank.R1>([4]);
    await expectNoLeakedTensors(() => {
      tf.dispose([multiHeadSelfAttention(x, 2, 2, { qkv, proj, projBias: b }), layerNorm(x, b, b)]);
    });
    tf.dispose([x, qkv, proj, b]);
  });
});
