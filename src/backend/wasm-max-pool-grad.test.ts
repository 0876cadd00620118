import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray, type Random } from '../util/random.js';

type Pad = 'same' | 'valid' | number;

interface PoolCase {
  readonly shape: [number, number, number, number];
  readonly filterSize: [number, number];
  readonly strides: [number, number];
  readonly pad: Pad;
  readonly dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined;
  readonly x: Float32Array;
  readonly dy: Float32Array;
  readonly outShape: [number, number, number, number];
}

/**
 * A random max pooling: batch 1–4, 1–12 × 1–12, channels 1–7, windows 1–3 (square or not), stride
 * 1–3, same/valid/numeric pads. Values are small integers, so most windows hold tied maxima.
 */
function randomCase(random: Random, specials: boolean): PoolCase {
  for (;;) {
    const shape: [number, number, number, number] = [1 + random.int(4), 1 + random.int(12), 1 + random.int(12), 1 + random.int(7)];
    const kind = random.int(3);
    const k = 1 + random.int(3);
    // tfjs sizes numeric-pad outputs as if window and stride were square: keep them square there.
    const filterSize: [number, number] = [k, kind === 2 ? k : 1 + random.int(3)];
    const s = 1 + random.int(3);
    const strides: [number, number] = [s, kind === 2 ? s : 1 + random.int(3)];
    const pad: Pad = kind === 0 ? 'same' : kind === 1 ? 'valid' : random.int(Math.min(k, 2));
    const dimRoundingMode = kind === 2 ? (['floor', 'round', 'ceil', undefined] as const)[random.int(4)] : undefined;
    let info: tf.backend_util.Conv2DInfo;
    try {
      info = tf.backend_util.computePool2DInfo(shape, filterSize, strides, 1, pad, dimRoundingMode);
    } catch {
      continue;
    }
    if (info.outHeight < 1 || info.outWidth < 1) continue;
    const outShape: [number, number, number, number] = [shape[0], info.outHeight, info.outWidth, shape[3]];
    const size = shape.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: size }, () => random.int(3) - 1);
    if (specials) {
      // −∞ everywhere in some windows (no maximum: no gradient) and NaN, which never wins.
      for (let i = 0; i < size; i++) {
        const u = random.next();
        if (u < 0.3) x[i] = -Infinity;
        else if (u < 0.4) x[i] = NaN;
      }
    }
    const dy = normalArray(outShape.reduce((a, b) => a * b, 1), 0, 1, random);
    return { shape, filterSize, strides, pad, dimRoundingMode, x, dy, outShape };
  }
}

function describeCase(c: PoolCase): string {
  return `x [${c.shape.join(',')}] window ${c.filterSize.join('x')} strides ${c.strides.join('x')} pad ${c.pad} rounding ${c.dimRoundingMode ?? '-'}`;
}

/** dx of Σ dy·maxPool(x) through tf.grad on the active backend. */
function gradThroughOp(c: PoolCase): Float32Array {
  return tf.tidy(() => {
    const dy = tf.tensor4d(c.dy, c.outShape);
    const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, c.filterSize, c.strides, c.pad, c.dimRoundingMode), dy)))(
      tf.tensor4d(c.x, c.shape),
    );
    return dx.dataSync() as Float32Array;
  });
}

/** dx from the MaxPoolGrad kernel directly (its `output` input is the pooled x, from the cpu backend). */
function gradKernel(c: PoolCase, output: Float32Array): Float32Array {
  return tf.tidy(() => {
    const dx = tf.engine().runKernel<tf.Tensor>(
      tf.MaxPoolGrad,
      { dy: tf.tensor4d(c.dy, c.outShape), input: tf.tensor4d(c.x, c.shape), output: tf.tensor4d(output, c.outShape) },
      { filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode } as unknown as tf.NamedAttrMap,
    );
    return dx.dataSync() as Float32Array;
  });
}

describe('MaxPoolGrad on wasm (argmax-and-scatter)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('maxPool gradients with tied maxima match the cpu backend (first maximum in window order wins)', async () => {
    const random = createRandom(2024);
    for (let i = 0; i < 40; i++) {
      const c = randomCase(random, false);
      if (c.pad === 'same' || c.pad === 'valid') {
        const expected = await onBackend('cpu', () => gradThroughOp(c));
        const got = await onBackend('wasm', () => gradThroughOp(c));
        expect(maxRelativeError(got, expected), describeCase(c)).toBeLessThanOrEqual(1e-4);
      }
    }
  });

  it('the kernel matches the cpu kernel with numeric pads, every dimRoundingMode, −∞ windows and NaN', async () => {
    const random = createRandom(77);
    let emptyWindows = 0;
    for (let i = 0; i < 40; i++) {
      const c = randomCase(random, true);
      const output = await onBackend('cpu', () =>
        tf.tidy(() => tf.maxPool(tf.tensor4d(c.x, c.shape), c.filterSize, c.strides, c.pad, c.dimRoundingMode).dataSync() as Float32Array),
      );
      emptyWindows += output.filter((v) => v === -Infinity).length;
      const expected = await onBackend('cpu', () => gradKernel(c, output));
      const got = await onBackend('wasm', () => gradKernel(c, output));
      expect(maxRelativeError(got, expected), describeCase(c)).toBeLessThanOrEqual(1e-4);
    }
    expect(emptyWindows).toBeGreaterThan(0);
  });

  it('2×2 stride-2 windows without padding (the SIMD path: C ≥ 4, odd sizes, ties, −∞ and NaN) match the cpu kernel', async () => {
    const random = createRandom(22);
    const shapes: [number, number, number, number][] = [[3, 8, 8, 4], [2, 7, 9, 6], [2, 6, 5, 16], [1, 5, 5, 7], [2, 10, 10, 16]];
    for (const [k, shape] of shapes.entries()) {
      const size = shape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: size }, () => {
        const u = random.next();
        return k % 2 === 1 && u < 0.2 ? -Infinity : k % 2 === 1 && u < 0.3 ? NaN : random.int(3) - 1;
      });
      for (const pad of ['valid', 0] as const) {
        const info = tf.backend_util.computePool2DInfo(shape, [2, 2], [2, 2], 1, pad, pad === 0 ? 'floor' : undefined);
        const outShape: [number, number, number, number] = [shape[0], info.outHeight, info.outWidth, shape[3]];
        const c: PoolCase = { shape, filterSize: [2, 2], strides: [2, 2], pad, dimRoundingMode: pad === 0 ? 'floor' : undefined, x, dy: normalArray(outShape.reduce((a, b) => a * b, 1), 0, 1, random), outShape };
        const output = await onBackend('cpu', () => tf.tidy(() => tf.maxPool(tf.tensor4d(c.x, c.shape), c.filterSize, c.strides, c.pad, c.dimRoundingMode).dataSync() as Float32Array));
        const expected = await onBackend('cpu', () => gradKernel(c, output));
        const got = await onBackend('wasm', () => gradKernel(c, output));
        expect(maxRelativeError(got, expected), describeCase(c)).toBeLessThanOrEqual(1e-6);
      }
    }
  });

  it('a 2×2 stride-2 tie sends the gradient to the first maximum in row-major order only', async () => {
    // Closed form: window [[1, 3], [3, 3]] → all of dy goes to position (0, 1).
    const dx = await onBackend('wasm', () =>
      tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), 5)))(tf.tensor4d([1, 3, 3, 3], [1, 2, 2, 1])).dataSync()),
    );
    expect(Array.from(dx)).toEqual([0, 5, 0, 0]);
  });

  it('leaks no tensors and no wasm buffers', async () => {
    await tf.setBackend('wasm');
    const random = createRandom(5);
    const x = tf.tensor4d(normalArray(2 * 8 * 8 * 6, 0, 1, random), [2, 8, 8, 6]);
    const step = (): void => {
      // The SIMD path (2×2, stride 2) and the JS one (3×3, stride 1).
      tf.tidy(() => tf.grad((v: tf.Tensor) => tf.add(tf.sum(tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid')), tf.sum(tf.maxPool(v as tf.Tensor4D, 3, 1, 'same'))))(x).dataSync());
    };
    await expectNoLeakedTensors(step, 4);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    x.dispose();
  });
});
