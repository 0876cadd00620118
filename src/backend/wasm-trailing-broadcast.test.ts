import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray } from '../util/random.js';
import { trailingBroadcastSize } from './wasm-trailing-broadcast.js';

const OPS = { sub: tf.sub, mul: tf.mul, div: tf.div } as const;

describe('Sub, Multiply and RealDiv on wasm (leading-axis broadcasts in one pass)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('trailingBroadcastSize accepts a suffix after leading ones, and nothing else', () => {
    expect(trailingBroadcastSize([8, 4, 4, 16], [1, 1, 1, 16])).toBe(16);
    expect(trailingBroadcastSize([8, 4, 4, 16], [16])).toBe(16);
    expect(trailingBroadcastSize([8, 4, 4, 16], [4, 16])).toBe(64);
    expect(trailingBroadcastSize([8, 4, 4, 16], [])).toBe(1);
    expect(trailingBroadcastSize([8, 4, 4, 16], [1])).toBe(1);
    expect(trailingBroadcastSize([8, 4, 4, 16], [8, 1, 1, 16])).toBeUndefined();
    expect(trailingBroadcastSize([8, 4, 4, 16], [4, 1])).toBeUndefined();
    expect(trailingBroadcastSize([4, 16], [1, 1, 4, 16])).toBeUndefined();
  });

  it('is bitwise the cpu backend on channel vectors, scalars and suffix blocks, either operand order', async () => {
    const random = createRandom(71);
    for (let i = 0; i < 36; i++) {
      const big = [1 + random.int(6), 2 + random.int(9), 2 + random.int(9), 1 + random.int(40)];
      const kind = i % 4;
      const small = kind === 0 ? [big[3] as number] : kind === 1 ? [1, 1, 1, big[3] as number] : kind === 2 ? [] : [big[2] as number, big[3] as number];
      const bigFirst = random.next() < 0.5;
      const op = (['sub', 'mul', 'div'] as const)[i % 3] as keyof typeof OPS;
      const x = normalArray(big.reduce((p, q) => p * q, 1), 0, 1, random);
      // Away from zero so division is well-conditioned; bitwise equality is expected anyway.
      const y = normalArray(Math.max(1, small.reduce((p, q) => p * q, 1)), 3, 1, random);
      const run = (): { values: Float32Array; shape: number[] } =>
        tf.tidy(() => {
          const [p, q] = bigFirst ? [tf.tensor(x, big), tf.tensor(y, small)] : [tf.tensor(y, small), tf.tensor(x, big)];
          const z = OPS[op](p, q);
          return { values: z.dataSync() as Float32Array, shape: z.shape };
        });
      const expected = await onBackend('cpu', run);
      const got = await onBackend('wasm', run);
      const where = `${op} ${bigFirst ? `[${big.join(',')}] ∘ [${small.join(',')}]` : `[${small.join(',')}] ∘ [${big.join(',')}]`}`;
      expect(got.shape, where).toEqual(expected.shape);
      expect(Array.from(got.values), where).toEqual(Array.from(expected.values));
    }
  });

  it('int32 operands and non-suffix broadcasts go to the wasm kernel and stay correct', async () => {
    const ints = await onBackend('wasm', () => tf.tidy(() => Array.from(tf.mul(tf.tensor2d(Array.from({ length: 2048 }, (_, i) => i % 7), [1024, 2], 'int32'), tf.tensor1d([2, 3], 'int32')).dataSync().slice(0, 4))));
    expect(ints).toEqual([0, 3, 4, 9]);
    const random = createRandom(72);
    const x = normalArray(8 * 32 * 4, 0, 1, random);
    const s = normalArray(8 * 4, 0, 1, random);
    const run = (): Float32Array => tf.tidy(() => tf.mul(tf.tensor3d(x, [8, 32, 4]), tf.tensor3d(s, [8, 1, 4])).dataSync() as Float32Array);
    expect(Array.from(await onBackend('wasm', run))).toEqual(Array.from(await onBackend('cpu', run)));
  });

  it('leaks no tensors and no wasm buffers', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([4, 8, 8, 16]);
    const v = tf.randomNormal([16]);
    const step = (): void => {
      tf.tidy(() => {
        tf.div(tf.mul(tf.sub(x, v), v), 3).dataSync();
      });
    };
    await expectNoLeakedTensors(step, 3);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([x, v]);
  });
});
