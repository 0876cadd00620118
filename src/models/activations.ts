/**
 * Element-wise activations with closed-form custom gradients, for the same reason as BatchNorm's
 * and LayerNorm's: tfjs keeps every op's saved inputs and output gradient until a backward pass
 * ends, so a composed activation costs one activation-sized tensor per op; these keep only x.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Swish / SiLU (Ramachandran et al. 2017, "Searching for Activation Functions"; EfficientNet's):
 *
 *   swish(x) = x · σ(x),   swish′(x) = σ(x) · (1 + x · (1 − σ(x))).
 */
export function swish<T extends tf.Tensor>(x: T): T {
  return swishOp(x) as T;
}

const swishOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.mul(x, tf.sigmoid(x)),
    // In a tidy of its own: tfjs runs custom gradients outside the one it gives each op's gradient.
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const sx = saved[0] as tf.Tensor;
        const s = tf.sigmoid(sx);
        return tf.mul(dy, tf.mul(s, tf.add(tf.mul(sx, tf.sub(1, s)), 1)));
      }),
  };
});
