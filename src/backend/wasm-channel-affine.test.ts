import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray } from '../util/random.js';

type Op = 'mul' | 'sub';

function apply(op: Op, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return op === 'mul' ? tf.mul(a, b) : tf.sub(a, b);
}

describe('Multiply and Sub on wasm (per-channel operands as 1×1 depthwise convolutions)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('x[…, c] ∘ s[c] and s[c] ∘ x[…, c], with [C] and [1, …, 1, C] operands, equal the cpu backend bitwise', async () => {
    const random = createRandom(41);
    for (let i = 0; i < 16; i++) {
      const op: Op = i % 2 === 0 ? 'mul' : 'sub';
      const c = 1 + random.int(40);
      const shape = [2 + random.int(4), 4 + random.int(6), 4 + random.int(6), c];
      const smallShape = random.next() < 0.5 ? [c] : [1, 1, 1, c];
      const smallFirst = random.next() < 0.5;
      const big = normalArray(shape.reduce((p, d) => p * d, 1), 0, 2, random);
      const small = normalArray(c, 0, 2, random);
      const run = (): number[] =>
        tf.tidy(() => {
          const [x, s] = [tf.tensor(big, shape), tf.tensor(small, smallShape)];
          return Array.from((smallFirst ? apply(op, s, x) : apply(op, x, s)).dataSync());
        });
      const expected = await onBackend('cpu', run);
      const got = await onBackend('wasm', run);
      expect(got, `${op} [${shape.join(',')}] with [${smallShape.join(',')}]${smallFirst ? ' first' : ''}`).toEqual(expected);
    }
  });

  it('NaN and ∞ (which XNNPACK’s clamp would turn into −∞) come out as the elementwise op gives them', async () => {
    const shape = [4, 8, 8, 32];
    const values = normalArray(4 * 8 * 8 * 32, 0, 1, createRandom(2));
    values[5] = Number.NaN;
    values[100] = Number.POSITIVE_INFINITY;
    const scale = Float32Array.from({ length: 32 }, (_, c) => (c === 100 % 32 ? 0 : c - 10));
    const run = (): number[][] =>
      tf.tidy(() => {
        const [x, s] = [tf.tensor(values, shape), tf.tensor(scale)];
        return [Array.from(tf.mul(x, s).dataSync()), Array.from(tf.sub(x, s).dataSync()), Array.from(tf.sub(s, x).dataSync())];
      });
    const expected = await onBackend('cpu', run);
    const got = await onBackend('wasm', run);
    expect(got).toEqual(expected);
    expect(Number.isNaN(got[0]?.[100])).toBe(true); // ∞ · 0
  });

  it('leaks no tensors and no wasm buffers', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([8, 8, 8, 16]);
    const s = tf.randomNormal([16]);
    const step = (): void => {
      tf.tidy(() => [tf.mul(x, s).dataSync(), tf.sub(x, s).dataSync(), tf.sub(s, x).dataSync()]);
    };
    await expectNoLeakedTensors(step, 3);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([x, s]);
  });
});
