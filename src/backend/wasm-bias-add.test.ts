import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray } from '../util/random.js';

function sum(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], biasFirst: boolean): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor(a, aShape);
    const y = tf.tensor(b, bShape);
    return (biasFirst ? tf.add(y, x) : tf.add(x, y)).dataSync() as Float32Array;
  });
}

/** Indices where the two arrays differ bitwise (Object.is: NaN equals NaN, +0 differs from −0). */
function bitwiseDifferences(a: Float32Array, b: Float32Array): number[] {
  expect(a.length).toBe(b.length);
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) out.push(i);
  return out;
}

describe('Add on wasm (bias additions as a 1×1 depthwise convolution)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('x[…, c] + b[c] in either order and with [1, …, 1, C] biases equals the cpu backend bitwise', async () => {
    const random = createRandom(8);
    for (let i = 0; i < 24; i++) {
      const channels = 1 + random.int(20);
      const rank = 2 + random.int(3);
      const lead = Array.from({ length: rank - 1 }, (_, axis) => 1 + random.int(axis === 0 ? 64 : 12));
      const aShape = [...lead, channels];
      const bShape = [...Array.from({ length: random.int(rank) }, () => 1), channels];
      const a = normalArray(aShape.reduce((x, y) => x * y, 1), 0, 1, random);
      const b = normalArray(channels, 0, 1, random);
      const biasFirst = random.next() < 0.5;
      const expected = await onBackend('cpu', () => sum(a, aShape, b, bShape, biasFirst));
      const got = await onBackend('wasm', () => sum(a, aShape, b, bShape, biasFirst));
      expect(bitwiseDifferences(got, expected), `[${aShape.join(',')}] + [${bShape.join(',')}]`).toEqual([]);
    }
  });

  it("±0, ±∞ and NaN add as IEEE prescribes (NaN survives XNNPACK's output clamp)", async () => {
    const specials = [0, -0, Infinity, -Infinity, NaN, 1e-45, -3.5e38, 2];
    const rows = 1024; // above the fast path's size threshold
    const a = Float32Array.from({ length: rows * specials.length }, (_, i) => specials[Math.floor(i / specials.length) % specials.length] as number);
    const b = Float32Array.from(specials);
    const expected = await onBackend('cpu', () => sum(a, [rows, specials.length], b, [specials.length], false));
    const got = await onBackend('wasm', () => sum(a, [rows, specials.length], b, [specials.length], false));
    const diff = bitwiseDifferences(got, expected);
    expect(diff).toEqual([]);
    // A closed-form spot check, independent of both backends: −0 + −0 = −0, ∞ + −∞ = NaN.
    expect(Object.is(got[1 * specials.length + 1], -0)).toBe(true);
    expect(got[2 * specials.length + 3]).toBeNaN();
  });

  it('a bias that is a reshape of a [1, C] tensor (its buffer keeps rank 2) adds correctly', async () => {
    const random = createRandom(12);
    const a = normalArray(128 * 9 * 5, 0, 1, random); // above the fast path's size threshold
    const b = normalArray(5, 0, 1, random);
    const run = (): Float32Array =>
      tf.tidy(() => tf.add(tf.tensor(a, [128, 9, 5]), tf.reshape(tf.tensor2d(b, [1, 5]), [5])).dataSync() as Float32Array);
    const expected = await onBackend('cpu', run);
    const got = await onBackend('wasm', run);
    expect(bitwiseDifferences(got, expected)).toEqual([]);
  });

  it('leaks no tensors and no wasm buffers', async () => {
    await tf.setBackend('wasm');
    const random = createRandom(6);
    const x = tf.tensor4d(normalArray(4 * 16 * 16 * 8, 0, 1, random), [4, 16, 16, 8]);
    const b = tf.tensor1d(normalArray(8, 0, 1, random));
    const step = (): void => {
      tf.tidy(() => tf.add(x, b).dataSync());
    };
    await expectNoLeakedTensors(step, 4);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([x, b]);
  });
});
