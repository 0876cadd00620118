import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray } from '../util/random.js';
import { reductionBlock } from './wasm-reduce.js';

describe('Sum and Mean on wasm (one pass over a non-innermost axis block)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('reductionBlock views x as [outer, reduce, inner] only for one contiguous, non-innermost block', () => {
    expect(reductionBlock([2, 3, 4, 5], [0, 1, 2])).toEqual([1, 24, 5]);
    expect(reductionBlock([2, 3, 4, 5, 6], [3])).toEqual([24, 5, 6]);
    expect(reductionBlock([2, 3, 4, 5], [2, 1])).toEqual([2, 12, 5]);
    expect(reductionBlock([2, 3, 4, 5], [3])).toBeUndefined();
    expect(reductionBlock([2, 3, 4, 5], [0, 2])).toBeUndefined();
    expect(reductionBlock([2, 3, 4, 5], [])).toBeUndefined();
  });

  const cases: readonly { shape: number[]; axes: number[]; keepDims: boolean }[] = [
    { shape: [4, 9, 7, 72], axes: [0, 1, 2], keepDims: false }, // BatchNorm, SIMD rows, reduce > one chunk
    { shape: [3, 5, 5, 22], axes: [0, 1, 2], keepDims: true }, // rows in pairs (44 lanes), odd reduce: one JS row
    { shape: [2, 3, 3, 5, 4, 4], axes: [4], keepDims: false }, // grouped conv's Σ_j, one vector a row
    { shape: [16, 28, 28, 6], axes: [0, 1, 2], keepDims: false }, // LeNet-5 conv1's bias gradient: rows in pairs
    { shape: [5, 11, 3], axes: [1], keepDims: false }, // 4 rows a SIMD row, 3 left to JS
    { shape: [4, 3, 1], axes: [1], keepDims: true }, // fewer rows than a SIMD row needs: JS only
    { shape: [3, 6, 5, 7], axes: [1, 2], keepDims: true },
    { shape: [5, 6, 7], axes: [2], keepDims: false }, // innermost: tfjs-backend-wasm's kernel
    { shape: [5, 6, 7], axes: [0, 2], keepDims: false }, // scattered: tfjs-backend-wasm's kernel
  ];
  for (const c of cases) {
    it(`sum and mean of [${c.shape.join(',')}] over [${c.axes.join(',')}]${c.keepDims ? ' (keepDims)' : ''} match the cpu backend within 1e-5`, async () => {
      const random = createRandom(c.shape.length * 100 + c.axes.length);
      // Offset 3: a mean far from 0, where f32 accumulation error would show.
      const values = normalArray(c.shape.reduce((a, b) => a * b, 1), 3, 1, random);
      const run = (): { sum: Float32Array; mean: Float32Array; shape: number[] } =>
        tf.tidy(() => {
          const x = tf.tensor(values, c.shape);
          const s = tf.sum(x, c.axes, c.keepDims);
          return { sum: s.dataSync() as Float32Array, mean: tf.mean(x, c.axes, c.keepDims).dataSync() as Float32Array, shape: s.shape };
        });
      const expected = await onBackend('cpu', run);
      const got = await onBackend('wasm', run);
      expect(got.shape).toEqual(expected.shape);
      expect(maxRelativeError(got.sum, expected.sum)).toBeLessThanOrEqual(1e-5);
      expect(maxRelativeError(got.mean, expected.mean)).toBeLessThanOrEqual(1e-5);
    });
  }

  it('sums are accumulated in float64: 70,000 values of N(0, 10⁴) sum to within 2 float32 ulps of the exact sum', async () => {
    await tf.setBackend('wasm');
    const random = createRandom(9);
    for (const inner of [6, 16]) {
      const rows = 70_000;
      const values = Float32Array.from(normalArray(rows * inner, 0, 1e4, random));
      const exact = new Float64Array(inner);
      for (let r = 0; r < rows; r++) for (let j = 0; j < inner; j++) exact[j] = (exact[j] as number) + (values[r * inner + j] as number);
      const got = tf.tidy(() => tf.sum(tf.tensor2d(values, [rows, inner]), 0).dataSync());
      for (let j = 0; j < inner; j++) {
        const want = exact[j] as number;
        // A sum near 2.6·10⁶ has a float32 ulp of 0.25; float32 partial sums of these values are off by tens.
        const ulp = 2 ** (Math.floor(Math.log2(Math.abs(want))) - 23);
        expect(Math.abs((got[j] as number) - want), `inner ${inner}, lane ${j}`).toBeLessThanOrEqual(2 * ulp);
      }
    }
  });

  it('int32 sums keep their dtype and exact values, and a BatchNorm-sized sum leaks nothing', async () => {
    await tf.setBackend('wasm');
    const ints = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], 'int32');
    const s = tf.sum(ints, [0, 1]);
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([16, 20]);
    const x = tf.randomNormal([8, 8, 8, 32]);
    const step = (): void => {
      tf.tidy(() => [tf.sum(x, [0, 1, 2]).dataSync(), tf.mean(x, [0, 1, 2], true).dataSync()]);
    };
    await expectNoLeakedTensors(step, 3);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([ints, s, x]);
  });
});
