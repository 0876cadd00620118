/**
 * Deterministic dropout masks for EfficientNet's training mode (classifier dropout, Srivastava et
 * al. 2014; drop-connect, Huang et al. 2016 "Deep Networks with Stochastic Depth"):
 *
 *   m ~ Bernoulli(1 − p) per unit,   y = x · m / (1 − p)
 *
 * PyTorch draws m from a global generator; our models are pure functions, so m is drawn from a
 * generator seeded by the batch itself (FNV-1a over the bits of x), the config's `dropSeed` and the
 * site (a block index): the same batch gives the same masks on every backend and in every worker,
 * different batches different masks, and a resumed run repeats an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../../util/random.js';

/** FNV-1a hash (32 bits) of the float32 bits of a batch. */
export function batchKey(x: tf.Tensor): number {
  const values = Float32Array.from(x.dataSync());
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < bits.length; i++) {
    h ^= bits[i] as number;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * A scaled keep mask of `shape`: each entry 1/(1 − p) with probability 1 − p, else 0, drawn from
 * `random` (the generator of one dropout site); the caller owns the tensor.
 */
export function keepMask(shape: readonly number[], rate: number, random: Random): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new Error(`keepMask: rate must be in [0, 1), found ${rate}`);
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  const scale = 1 / (1 - rate);
  for (let i = 0; i < size; i++) values[i] = random.next() < rate ? 0 : scale;
  return tf.tensor(values, [...shape]);
}
