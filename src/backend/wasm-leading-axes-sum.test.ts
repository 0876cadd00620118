import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray } from '../util/random.js';
import { leadingAxes, sumLeadingRows } from './wasm-leading-axes-sum.js';

describe('Sum and Mean on wasm (leading-axis reductions in one pass)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('leadingAxes accepts exactly a proper prefix of the axes, in any order, negative or repeated', () => {
    expect(leadingAxes([0, 1, 2], 4)).toBe(3);
    expect(leadingAxes([2, 0, 1], 4)).toBe(3);
    expect(leadingAxes([-4, 1], 4)).toBe(2);
    expect(leadingAxes(0, 2)).toBe(1);
    expect(leadingAxes([0, 0], 3)).toBe(1);
    expect(leadingAxes([0, 1, 2, 3], 4)).toBeUndefined();
    expect(leadingAxes([1, 2], 4)).toBeUndefined();
    expect(leadingAxes([0, 2], 4)).toBeUndefined();
    expect(leadingAxes([], 3)).toBeUndefined();
  });

  it('sumLeadingRows is the column sum (closed form on a 3×2 matrix)', () => {
    const out = new Float64Array(2).fill(99);
    sumLeadingRows(new Float32Array([1, 2, 3, 4, 5, 6]), 3, 2, out);
    expect(Array.from(out)).toEqual([9, 12]);
  });

  it('every axis set, keepDims on and off, ranks 1–4 (odd sizes), matches the cpu backend within 1e-4', async () => {
    const random = createRandom(61);
    let fast = 0;
    for (let i = 0; i < 60; i++) {
      const rank = 1 + random.int(4);
      const shape = Array.from({ length: rank }, () => 1 + random.int(9));
      const axes = [...Array(rank).keys()].filter(() => random.next() < 0.5);
      // Half the cases are leading prefixes (the fast path); the rest go to the wasm kernel.
      const axis = i % 2 === 0 ? [...Array(1 + random.int(Math.max(1, rank - 1))).keys()] : axes.length === 0 ? [0] : axes;
      if (leadingAxes(axis, rank) !== undefined) fast++;
      const keepDims = random.next() < 0.5;
      const x = normalArray(shape.reduce((p, q) => p * q, 1), 0, 1, random);
      for (const op of ['sum', 'mean'] as const) {
        const run = (): { values: Float32Array; shape: number[] } =>
          tf.tidy(() => {
            const t = tf.tensor(x, shape);
            const y = op === 'sum' ? tf.sum(t, axis, keepDims) : tf.mean(t, axis, keepDims);
            return { values: y.dataSync() as Float32Array, shape: y.shape };
          });
        const expected = await onBackend('cpu', run);
        const got = await onBackend('wasm', run);
        expect(got.shape, `${op} [${shape.join(',')}] axis ${axis.join(',')} keepDims ${keepDims}`).toEqual(expected.shape);
        expect(maxRelativeError(got.values, expected.values), `${op} [${shape.join(',')}] axis ${axis.join(',')}`).toBeLessThanOrEqual(1e-4);
      }
    }
    expect(fast).toBeGreaterThan(20);
  });

  it('BatchNorm-sized moments ([8,32,32,64] over [0,1,2]) match the cpu backend; int32 sums stay exact', async () => {
    const random = createRandom(62);
    const x = normalArray(8 * 32 * 32 * 64, 1, 2, random);
    const run = (): Float32Array => tf.tidy(() => tf.concat([tf.sum(tf.tensor4d(x, [8, 32, 32, 64]), [0, 1, 2]), tf.mean(tf.tensor4d(x, [8, 32, 32, 64]), [0, 1, 2])]).dataSync() as Float32Array);
    const expected = await onBackend('cpu', run);
    const got = await onBackend('wasm', run);
    expect(maxRelativeError(got, expected)).toBeLessThanOrEqual(1e-4);
    const ints = await onBackend('wasm', () => tf.tidy(() => Array.from(tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0).dataSync())));
    expect(ints).toEqual([9, 12]);
  });

  it('leaks no tensors and no wasm buffers', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([4, 5, 6, 7]);
    const step = (): void => {
      tf.tidy(() => {
        tf.sum(x, [0, 1, 2]).dataSync();
        tf.mean(x, [0, 1], true).dataSync();
      });
    };
    await expectNoLeakedTensors(step, 3);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    x.dispose();
  });
});
