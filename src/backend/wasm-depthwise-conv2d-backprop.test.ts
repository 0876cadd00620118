import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray } from '../util/random.js';
import { simdRows } from './wasm-simd-rows.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** Depthwise layers shaped like the models' (channels past 8, multipliers 1, 2, 4, 8): each path of the kernels. */
const CASES: readonly { name: string; x: [number, number, number, number]; k: number; m: number; stride: number; pad: Pad }[] = [
  { name: 'MobileNetV2-like 3×3 stride 1 same, C = 24 (SIMD rows)', x: [3, 9, 7, 24], k: 3, m: 1, stride: 1, pad: 'same' },
  { name: 'ShuffleNetV2-like 3×3 stride 2 same, C = 29 (SIMD rows + tail)', x: [2, 9, 9, 29], k: 3, m: 1, stride: 2, pad: 'same' },
  { name: 'RegNet-like 3×3 stride 2 explicit pad, M = 4 (broadcast SIMD rows)', x: [2, 8, 7, 12], k: 3, m: 4, stride: 2, pad: [[0, 0], [1, 1], [1, 0], [0, 0]] },
  { name: 'RegNet-like 3×3 stride 1 pad 1, M = 8', x: [2, 6, 6, 5], k: 3, m: 8, stride: 1, pad: 1 },
  { name: 'EfficientNet-like 5×5 stride 2 valid, M = 2 (JS rows)', x: [2, 11, 9, 10], k: 5, m: 2, stride: 2, pad: 'valid' },
  { name: '5×5 stride 1 same, odd sizes, C = 7', x: [4, 5, 3, 7], k: 5, m: 1, stride: 1, pad: 'same' },
  { name: '1×1 stride 2 (classes no tap reaches)', x: [2, 7, 7, 16], k: 1, m: 1, stride: 2, pad: 'valid' },
];

/** dW and dx of Σ r·depthwiseConv2d(x, W), through tf.grads on the active backend. */
function gradients(c: (typeof CASES)[number], x: Float32Array, w: Float32Array, r: Float32Array, outShape: number[]): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const loss = (xs: tf.Tensor, ws: tf.Tensor): tf.Scalar =>
      tf.sum(tf.mul(tf.depthwiseConv2d(xs as tf.Tensor4D, ws as tf.Tensor4D, c.stride, c.pad), tf.tensor(r, outShape)));
    const [dx, dw] = tf.grads(loss)([tf.tensor4d(x, c.x), tf.tensor4d(w, [c.k, c.k, c.x[3], c.m])]);
    return { dx: (dx as tf.Tensor).dataSync() as Float32Array, dw: (dw as tf.Tensor).dataSync() as Float32Array };
  });
}

describe('depthwise convolution gradients on wasm (XNNPACK sub-pixel dx, SIMD-row dW)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('the wasm SIMD rows are available on this engine, so the fast paths are the ones tested', async () => {
    await tf.setBackend('wasm');
    expect(simdRows(tf.backend() as BackendWasm)).toBeDefined();
  });

  for (const c of CASES) {
    it(`${c.name}: dx and dW match the cpu backend within 1e-4`, async () => {
      const random = createRandom(c.x.reduce((a, b) => a * 31 + b, c.k * 7 + c.m));
      const info = tf.backend_util.computeConv2DInfo(c.x, [c.k, c.k, c.x[3], c.m], c.stride, 1, c.pad, undefined, true);
      const x = normalArray(tf.util.sizeFromShape(c.x), 0, 1, random);
      const w = normalArray(c.k * c.k * c.x[3] * c.m, 0, 1, random);
      const r = normalArray(tf.util.sizeFromShape(info.outShape), 0, 1, random);
      const expected = await onBackend('cpu', () => gradients(c, x, w, r, info.outShape));
      const got = await onBackend('wasm', () => gradients(c, x, w, r, info.outShape));
      expect(maxRelativeError(got.dx, expected.dx), 'dx').toBeLessThanOrEqual(1e-4);
      expect(maxRelativeError(got.dw, expected.dw), 'dW').toBeLessThanOrEqual(1e-4);
    });
  }

  it('a step through both kernels leaks no tensors and no wasm buffers', async () => {
    await tf.setBackend('wasm');
    const random = createRandom(5);
    const x = tf.tensor4d(normalArray(2 * 8 * 8 * 12, 0, 1, random), [2, 8, 8, 12]);
    const w = tf.tensor4d(normalArray(3 * 3 * 12 * 4, 0, 1, random), [3, 3, 12, 4]);
    const step = (): void => {
      tf.tidy(() => {
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([x, w]);
        (dx as tf.Tensor).dataSync();
        (dw as tf.Tensor).dataSync();
      });
    };
    await expectNoLeakedTensors(step, 3);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([x, w]);
  });
});
