/**
 * `tf.customGrad` with the gradient function in a tidy of its own. tfjs gives each built-in op's
 * gradient a tidy, but runs a custom gradient outside any, so every intermediate a custom gradient
 * makes would otherwise live until the whole backward pass ends: for BatchNorm five
 * activation-sized tensors per layer (test/helpers.ts `backwardPeakPerLayer` measures it).
 */
import * as tf from '@tensorflow/tfjs-core';

/** What a custom gradient's forward function returns, as `tf.customGrad` takes it. */
export interface CustomGradient<T extends tf.Tensor> {
  readonly value: T;
  readonly gradFunc: (dy: T, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/** `tf.customGrad(f)`, freeing the intermediates of f's gradient function as soon as it returns. */
export function customGradient<T extends tf.Tensor>(f: (...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => CustomGradient<T>): (...inputs: tf.Tensor[]) => T {
  return tf.customGrad<T>((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const { value, gradFunc } = f(...inputs);
    return { value, gradFunc: (dy: T, saved: tf.Tensor[]) => tf.tidy(() => gradFunc(dy, saved)) };
  });
}
