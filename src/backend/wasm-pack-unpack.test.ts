import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray } from '../util/random.js';

describe('Pack and Unpack on wasm (strided copies)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('stack and unstack along every axis, for k = 1–3 tensors and every dtype, equal the cpu backend exactly', async () => {
    const random = createRandom(23);
    for (let i = 0; i < 30; i++) {
      const rank = 1 + random.int(4);
      // Inner blocks of 1, < 16 and ≥ 16 elements: the three copy loops.
      const shape = Array.from({ length: rank }, () => 1 + random.int(rank === 1 ? 40 : 6));
      const axis = random.int(rank + 1) - (random.next() < 0.3 ? rank + 1 : 0);
      const k = 1 + random.int(3);
      const dtype = (['float32', 'int32', 'bool'] as const)[i % 3] as 'float32' | 'int32' | 'bool';
      const size = shape.reduce((a, b) => a * b, 1);
      const parts = Array.from({ length: k }, () =>
        dtype === 'float32' ? normalArray(size, 0, 1, random) : Int32Array.from({ length: size }, () => (dtype === 'bool' ? random.int(2) : random.int(1000) - 500)),
      );
      const run = (): { stacked: number[]; shape: number[]; unstacked: number[][] } =>
        tf.tidy(() => {
          const y = tf.stack(parts.map((p) => tf.tensor(p, shape, dtype)), axis);
          return { stacked: Array.from(y.dataSync()), shape: y.shape, unstacked: tf.unstack(y, axis).map((t) => Array.from(t.dataSync())) };
        });
      const expected = await onBackend('cpu', run);
      const got = await onBackend('wasm', run);
      expect(got, `shape [${shape.join(',')}] axis ${axis} k ${k} ${dtype}`).toEqual(expected);
    }
  });

  it('ShuffleNetV2’s channel shuffle stack([a, b], 4) interleaves channels: out[…, 2c + i] = t_i[…, c]', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]);
    const b = tf.tensor4d([10, 20, 30, 40, 50, 60], [1, 1, 2, 3]);
    const shuffled = tf.reshape(tf.stack([a, b], 4), [1, 1, 2, 6]);
    expect(Array.from(shuffled.dataSync())).toEqual([1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60]);
    const step = (): void => {
      tf.tidy(() => tf.unstack(tf.stack([a, b], 4), 4).forEach((t) => t.dataSync()));
    };
    await expectNoLeakedTensors(step, 3);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([a, b, shuffled]);
  });
});
