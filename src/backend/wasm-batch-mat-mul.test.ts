import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray } from '../util/random.js';
import { MIN_MATRIX_WORK, transposeMatrixInto } from './wasm-batch-mat-mul.js';

interface MatMulCase {
  readonly aShape: number[];
  readonly bShape: number[];
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly a: Float32Array;
  readonly b: Float32Array;
}

function product(c: MatMulCase): Float32Array {
  return tf.tidy(() => tf.matMul(tf.tensor(c.a, c.aShape), tf.tensor(c.b, c.bShape), c.transposeA, c.transposeB).dataSync() as Float32Array);
}

describe('BatchMatMul on wasm (transposes made explicit, batches matrix by matrix)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('every transpose combination, rank 2 and 3 with broadcast batches, matches the cpu backend', async () => {
    const random = createRandom(31);
    for (let i = 0; i < 48; i++) {
      const [m, k, n] = [1 + random.int(40), 1 + random.int(40), 1 + random.int(40)];
      const transposeA = (i & 1) === 1;
      const transposeB = (i & 2) === 2;
      const rank3 = (i & 4) === 4;
      const batch = 1 + random.int(3);
      // Rank 3: one side may have batch 1 and broadcast against the other.
      const batchA = rank3 ? (random.next() < 0.3 ? 1 : batch) : 0;
      const batchB = rank3 ? (batchA === 1 ? batch : random.next() < 0.3 ? 1 : batch) : 0;
      const aCore = transposeA ? [k, m] : [m, k];
      const bCore = transposeB ? [n, k] : [k, n];
      const aShape = rank3 ? [batchA, ...aCore] : aCore;
      const bShape = rank3 ? [batchB, ...bCore] : bCore;
      const size = (s: number[]): number => s.reduce((x, y) => x * y, 1);
      const c: MatMulCase = { aShape, bShape, transposeA, transposeB, a: normalArray(size(aShape), 0, 1, random), b: normalArray(size(bShape), 0, 1, random) };
      const expected = await onBackend('cpu', () => product(c));
      const got = await onBackend('wasm', () => product(c));
      expect(maxRelativeError(got, expected), `[${aShape.join(',')}]${transposeA ? 'ᵀ' : ''} · [${bShape.join(',')}]${transposeB ? 'ᵀ' : ''}`).toBeLessThanOrEqual(1e-4);
    }
  });

  it('transposeMatrixInto transposes rows × cols at offsets, across 32-tiles', () => {
    const random = createRandom(5);
    for (const [rows, cols] of [[1, 1], [3, 70], [33, 65], [64, 1]] as const) {
      const src = normalArray(2 + rows * cols, 0, 1, random);
      const dst = new Float32Array(3 + rows * cols).fill(Number.NaN);
      transposeMatrixInto(src, 2, rows, cols, dst, 3);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) expect(dst[3 + j * rows + i]).toBe(src[2 + i * cols + j]);
      expect(dst.subarray(0, 3).every(Number.isNaN)).toBe(true);
    }
  });

  it('batched products (rank 3 and 4, broadcast sides, every transpose, above and below the per-matrix threshold) match the cpu backend', async () => {
    const random = createRandom(32);
    let large = 0;
    for (let i = 0; i < 40; i++) {
      const transposeA = (i & 1) === 1;
      const transposeB = (i & 2) === 2;
      const [m, k, n] = [1 + random.int(48), 1 + random.int(48), 1 + random.int(48)];
      if (m * k * n >= MIN_MATRIX_WORK) large++;
      const outer = (i & 4) === 4 ? [1 + random.int(3), 1 + random.int(4)] : [2 + random.int(6)];
      const ones = outer.map(() => 1);
      const which = random.int(4); // 0, 1: both batched; 2: A broadcast; 3: B broadcast
      const outerA = which === 2 ? ones : outer;
      const outerB = which === 3 ? ones : outer;
      const aShape = [...outerA, ...(transposeA ? [k, m] : [m, k])];
      const bShape = [...outerB, ...(transposeB ? [n, k] : [k, n])];
      const size = (sh: number[]): number => sh.reduce((x, y) => x * y, 1);
      const c: MatMulCase = { aShape, bShape, transposeA, transposeB, a: normalArray(size(aShape), 0, 1, random), b: normalArray(size(bShape), 0, 1, random) };
      const expected = await onBackend('cpu', () => product(c));
      const got = await onBackend('wasm', () => product(c));
      expect(maxRelativeError(got, expected), `[${aShape.join(',')}]${transposeA ? 'ᵀ' : ''} · [${bShape.join(',')}]${transposeB ? 'ᵀ' : ''}`).toBeLessThanOrEqual(1e-4);
    }
    expect(large).toBeGreaterThan(15);
  });

  it('CCT-2 attention-sized products [64,64,64] with each transpose match the cpu backend and leak no wasm buffers', async () => {
    const random = createRandom(64);
    const a = normalArray(64 * 64 * 64, 0, 1, random);
    const b = normalArray(64 * 64 * 64, 0, 1, random);
    for (const [transposeA, transposeB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const c: MatMulCase = { aShape: [64, 64, 64], bShape: [64, 64, 64], transposeA, transposeB, a, b };
      const expected = await onBackend('cpu', () => product(c));
      const got = await onBackend('wasm', () => product(c));
      expect(maxRelativeError(got, expected), `transposeA ${transposeA} transposeB ${transposeB}`).toBeLessThanOrEqual(1e-4);
      const backend = tf.backend() as BackendWasm;
      const buffers = backend.numDataIds();
      await expectNoLeakedTensors(() => product(c), 2);
      expect(backend.numDataIds()).toBe(buffers);
    }
  });

  it('Aᵀ·B equals the closed form on a 2×2 example', async () => {
    // [[1,2],[3,4]]ᵀ · [[5,6],[7,8]] = [[1·5+3·7, 1·6+3·8], [2·5+4·7, 2·6+4·8]] = [[26, 30], [38, 44]]
    const got = await onBackend('wasm', () => tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]), true, false).dataSync()));
    expect(Array.from(got)).toEqual([26, 30, 38, 44]);
  });

  it('matMul gradients leak no tensors and no wasm buffers', async () => {
    await tf.setBackend('wasm');
    const random = createRandom(4);
    const a = tf.tensor2d(normalArray(6 * 5, 0, 1, random), [6, 5]);
    const b = tf.tensor2d(normalArray(5 * 4, 0, 1, random), [5, 4]);
    const step = (): void => {
      tf.tidy(() => {
        const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D))))([a, b]);
        (da as tf.Tensor).dataSync();
        (db as tf.Tensor).dataSync();
      });
    };
    await expectNoLeakedTensors(step, 4);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([a, b]);
  });
});
