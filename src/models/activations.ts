/**
 * Element-wise activations with closed-form custom gradients, for the same reason as BatchNorm's
 * and LayerNorm's: tfjs keeps every op's saved inputs and output gradient until a backward pass
 * ends, so a composed activation costs one activation-sized tensor per op (GELU 16, Swish 6 per
 * layer at the backward peak); these keep x and its gradient, 2.
 */
import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';

/**
 * Exact GELU (Hendrycks & Gimpel 2016, "Gaussian Error Linear Units"), PyTorch's default:
 *
 *   gelu(x) = x · Φ(x) = ½ · x · (1 + erf(x / √2)),   gelu′(x) = Φ(x) + x · φ(x),
 *
 * φ(x) = exp(−x²/2) / √(2π).
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  return geluOp(x) as T;
}

const geluOp = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const sx = saved[0] as tf.Tensor;
      const cdf = tf.mul(tf.add(tf.erf(tf.mul(sx, Math.SQRT1_2)), 1), 0.5);
      const pdf = tf.mul(tf.exp(tf.mul(tf.square(sx), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return tf.mul(dy, tf.add(cdf, tf.mul(sx, pdf)));
    },
  };
});

/**
 * Swish / SiLU (Ramachandran et al. 2017, "Searching for Activation Functions"; EfficientNet's):
 *
 *   swish(x) = x · σ(x),   swish′(x) = σ(x) · (1 + x · (1 − σ(x))).
 */
export function swish<T extends tf.Tensor>(x: T): T {
  return swishOp(x) as T;
}

const swishOp = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.mul(x, tf.sigmoid(x)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const sx = saved[0] as tf.Tensor;
      const s = tf.sigmoid(sx);
      return tf.mul(dy, tf.mul(s, tf.add(tf.mul(sx, tf.sub(1, s)), 1)));
    },
  };
});
