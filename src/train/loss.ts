/**
 * Classification loss and accuracy on logits.
 *
 * Cross-entropy, mean over the batch: L = −(1/N) Σ_n log softmax(z_n)[y_n], with the
 * log-softmax computed stably as z − max z − log Σ exp(z − max z) (tf.logSoftmax).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Mean cross-entropy of logits [N, K] against integer labels [N]. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1])), 1);
    return tf.neg(tf.mean(picked));
  });
}

/** Sum (not mean) of the per-example cross-entropies, for exact means over several batches. */
export function crossEntropySum(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    return tf.neg(tf.sum(tf.mul(logp, tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]))));
  });
}

/** Number of examples whose arg-max logit equals the label. */
export function correctCount(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'float32')));
}
