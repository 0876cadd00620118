import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray } from '../util/random.js';
import { tileInto } from './wasm-tile.js';

describe('Tile on wasm (block copies)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('random shapes (rank 1–5), reps and dtypes equal the cpu backend exactly', async () => {
    const random = createRandom(17);
    for (let i = 0; i < 40; i++) {
      const rank = 1 + random.int(5);
      // Long rows (≥ 16, the block-copy path) on low ranks; outputs stay under 4^5 · 4^5 ≈ 1M elements.
      const shape = Array.from({ length: rank }, () => 1 + random.int(rank <= 2 ? 40 : 4));
      const reps = Array.from({ length: rank }, () => 1 + random.int(4));
      const dtype = (['float32', 'int32', 'bool'] as const)[i % 3] as 'float32' | 'int32' | 'bool';
      const size = shape.reduce((a, b) => a * b, 1);
      const values = dtype === 'float32' ? normalArray(size, 0, 1, random) : Int32Array.from({ length: size }, () => (dtype === 'bool' ? random.int(2) : random.int(1000) - 500));
      const run = (): { values: number[]; dtype: string; shape: number[] } =>
        tf.tidy(() => {
          const y = tf.tile(tf.tensor(values, shape, dtype), reps);
          return { values: Array.from(y.dataSync()), dtype: y.dtype, shape: y.shape };
        });
      const expected = await onBackend('cpu', run);
      const got = await onBackend('wasm', run);
      expect(got, `shape [${shape.join(',')}] reps [${reps.join(',')}] ${dtype}`).toEqual(expected);
    }
  });

  it('tileInto follows out[i] = x[i mod s] on a closed-form example', () => {
    // x = [[1, 2]] tiled by [2, 2] → [[1, 2, 1, 2], [1, 2, 1, 2]].
    const out = new Float32Array(8);
    tileInto(Float32Array.from([1, 2]), [1, 2], [2, 2], out);
    expect(Array.from(out)).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
  });

  it('the BatchNorm-gradient case [1,1,1,C] → [N,H,W,C] and its leak check', async () => {
    await tf.setBackend('wasm');
    const scale = tf.tensor4d([0.5, -1, 2], [1, 1, 1, 3]);
    const tiled = tf.tile(scale, [2, 4, 5, 1]);
    const values = tiled.dataSync();
    expect(tiled.shape).toEqual([2, 4, 5, 3]);
    for (let i = 0; i < values.length; i++) expect(values[i]).toBe([0.5, -1, 2][i % 3]);
    tiled.dispose();
    const step = (): void => {
      tf.tidy(() => tf.tile(scale, [8, 8, 8, 1]).dataSync());
    };
    await expectNoLeakedTensors(step, 4);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    scale.dispose();
  });
});
