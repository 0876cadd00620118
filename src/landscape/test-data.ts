/** Test data for the landscape tests (not exported by any entry): random images, seeded labels. */
import * as tf from '@tensorflow/tfjs-core';
import type { EvaluationData } from '../evaluate/evaluate.js';
import { createRandom, normalArray } from '../util/random.js';

/** `n` N(0, 1) images of shape [28, 28, 1] with labels in 0..9, as one test batch. The caller disposes. */
export function randomImages(n: number, seed: number): EvaluationData {
  const random = createRandom(seed);
  const x = tf.tensor4d(normalArray(n * 28 * 28, 0, 1, random), [n, 28, 28, 1]);
  const y = tf.tensor1d(Int32Array.from({ length: n }, () => random.int(10)), 'int32');
  return { test: [{ x, y }], bnBatches: [] };
}

/** Frees the tensors of `randomImages`. */
export function disposeImages(data: EvaluationData): void {
  tf.dispose((data.test ?? []).flatMap((b) => [b.x, b.y]));
}
