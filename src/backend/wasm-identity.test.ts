import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';

describe('Identity on wasm (shared buffer)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('a clone shares the buffer, and outlives the disposed original with its values intact', () => {
    const backend = tf.backend() as BackendWasm;
    const x = tf.tensor2d([1, -2, 3.5, Number.NaN], [2, 2]);
    const buffers = backend.numDataIds();
    const y = tf.clone(x);
    expect(backend.numDataIds()).toBe(buffers);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3.5, Number.NaN]);
    expect(y.shape).toEqual([2, 2]);
    y.dispose();
    expect(backend.numDataIds()).toBe(buffers - 1);
  });

  it('int32 and bool tensors keep their dtype and values', () => {
    const ints = tf.clone(tf.tensor1d([7, -8], 'int32'));
    const bools = tf.clone(tf.tensor1d([true, false], 'bool'));
    expect([ints.dtype, bools.dtype]).toEqual(['int32', 'bool']);
    expect([Array.from(ints.dataSync()), Array.from(bools.dataSync())]).toEqual([[7, -8], [1, 0]]);
    tf.dispose([ints, bools]);
  });

  it('a variable assigned from a clone does not change the clone’s source', () => {
    const source = tf.tensor1d([1, 2, 3]);
    const v = tf.variable(tf.clone(source));
    v.assign(tf.tensor1d([9, 9, 9]));
    expect(Array.from(source.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([9, 9, 9]);
    tf.dispose([source, v]);
  });

  it('gradient steps through customGrad ops leak no tensors and no wasm buffers', async () => {
    const x = tf.tensor2d([0.5, -1, 2, 0.25, 3, -0.5], [2, 3]);
    const labels = tf.tensor2d([1, 0, 0, 0, 0, 1], [2, 3]);
    const step = (): void => {
      tf.tidy(() => tf.grad((z: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, tf.mul(z, 2)))(x).dataSync());
    };
    await expectNoLeakedTensors(step, 4);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([x, labels]);
  });
});
