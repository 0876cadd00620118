/**
 * Element-wise activations with closed-form custom gradients, for the same reason as BatchNorm's
 * and LayerNorm's: tfjs keeps every op's saved inputs and output gradient until a backward pass
 * ends, so a composed activation costs one activation-sized tensor per op (GELU 16, Swish 6 per
 * layer at the backward peak); these keep x and its gradient, 2.
 */
import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';

/** An element-wise f whose gradient is dy · f′(x), keeping only x for the backward pass. */
function elementwise(f: (x: tf.Tensor) => tf.Tensor, derivative: (x: tf.Tensor) => tf.Tensor): <T extends tf.Tensor>(x: T) => T {
  const op = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([x]);
    return { value: f(x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, derivative(saved[0] as tf.Tensor)) };
  });
  return <T extends tf.Tensor>(x: T) => op(x) as T;
}

/**
 * Exact GELU (Hendrycks & Gimpel 2016, "Gaussian Error Linear Units"), PyTorch's default:
 *
 *   gelu(x) = x · Φ(x) = ½ · x · (1 + erf(x / √2)),   gelu′(x) = Φ(x) + x · φ(x),
 *
 * φ(x) = exp(−x²/2) / √(2π).
 */
export const gelu = elementwise(
  (x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)),
  (x) => {
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5);
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return tf.add(cdf, tf.mul(x, pdf));
  },
);

/**
 * Swish / SiLU (Ramachandran et al. 2017, "Searching for Activation Functions"; EfficientNet's):
 *
 *   swish(x) = x · σ(x),   swish′(x) = σ(x) · (1 + x · (1 − σ(x))).
 */
export const swish = elementwise(
  (x) => tf.mul(x, tf.sigmoid(x)),
  (x) => {
    const s = tf.sigmoid(x);
    return tf.mul(s, tf.add(tf.mul(x, tf.sub(1, s)), 1));
  },
);
