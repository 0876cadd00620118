/**
 * LeNet5's hidden pre-activations recomputed from its parameter map, for the statistics that
 * activation matching and REPAIR need (the model's `apply` only returns logits): LeNet5's
 * `activations` capability. Mirrors lenet5.ts: conv1 5×5 'same' → ReLU → maxpool 2 → conv2 5×5 'valid' → ReLU → maxpool 2
 * → NHWC flatten → fc1 → ReLU → fc2 → ReLU → fc3. The test checks the logits against `lenet5.apply`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationHooks } from '../capabilities.js';
import type { ModelState } from '../types.js';

/** The hidden layers whose units can be permuted or rescaled, input side first. */
export const LENET5_HIDDEN = ['conv1', 'conv2', 'fc1', 'fc2'] as const;
export type LeNet5Hidden = (typeof LENET5_HIDDEN)[number];

function param<R extends tf.Rank>(state: ModelState, name: string): tf.Tensor<R> {
  const t = state.params.get(name);
  if (t === undefined) throw new Error(`lenet5 activations: parameter "${name}" is missing`);
  return t as tf.Tensor<R>;
}

/**
 * Pre-activations (before ReLU) of every hidden layer as [positions, channels] matrices (conv
 * layers: N·H·W rows), plus the logits. The caller disposes them.
 */
export function lenet5PreActivations(state: ModelState, x: tf.Tensor4D): { hidden: Map<LeNet5Hidden, tf.Tensor2D>; logits: tf.Tensor2D } {
  const hidden = new Map<LeNet5Hidden, tf.Tensor2D>();
  const logits = tf.tidy(() => {
    const conv = (input: tf.Tensor4D, name: LeNet5Hidden, pad: 'same' | 'valid'): tf.Tensor4D => {
      const z = tf.add<tf.Tensor4D>(tf.conv2d(input, param<tf.Rank.R4>(state, `${name}.weight`), 1, pad), param(state, `${name}.bias`));
      hidden.set(name, tf.keep(tf.reshape(z, [-1, z.shape[3]])));
      return tf.maxPool(tf.relu(z), 2, 2, 'valid');
    };
    const dense = (input: tf.Tensor2D, name: string): tf.Tensor2D => tf.add(tf.matMul(input, param<tf.Rank.R2>(state, `${name}.weight`)), param(state, `${name}.bias`));
    let h = conv(x, 'conv1', 'same');
    h = conv(h, 'conv2', 'valid');
    let f = tf.reshape<tf.Rank.R2>(h, [x.shape[0], -1]);
    for (const name of ['fc1', 'fc2'] as const) {
      const z = dense(f, name);
      hidden.set(name, tf.keep(z));
      f = tf.relu(z);
    }
    return dense(f, 'fc3');
  });
  return { hidden, logits };
}

/** LeNet5's activation hooks: its four hidden layers, each named like its permutation group. */
export const lenet5Activations: ActivationHooks = {
  hidden: LENET5_HIDDEN.map((name) => ({ name, weight: `${name}.weight`, bias: `${name}.bias` })),
  preActivations: lenet5PreActivations,
};
