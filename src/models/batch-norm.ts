/**
 * Functional batch normalization for NHWC activations (Ioffe & Szegedy 2015, "Batch
 * Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift"),
 * with PyTorch's conventions:
 *
 *   y = γ · (x − μ) / √(σ² + ε) + β,   ε = 1e-5, statistics per channel (last axis).
 *
 * Training mode uses the batch mean μ_B and the biased batch variance σ²_B = (1/m) Σ (x − μ_B)²
 * over the m = N·H·W values of a channel, and reports μ_B and the unbiased variance
 * m/(m−1) · σ²_B for the running statistics. Evaluation mode uses the running statistics.
 *
 * Running statistics: r ← (1 − m)·r + m·b with momentum m (PyTorch default 0.1), or the cumulative
 * average m = 1/(k+1) for the k-th batch (0-based), which after K batches equals the plain mean
 * of their statistics (PyTorch's `momentum=None`, used to re-estimate BN statistics).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec, TensorMap } from './types.js';

/** PyTorch's BatchNorm2d epsilon. */
export const BATCH_NORM_EPSILON = 1e-5;
/** PyTorch's BatchNorm2d momentum. */
export const DEFAULT_BATCH_NORM_MOMENTUM = 0.1;

export interface BatchNormTrainResult {
  readonly y: tf.Tensor4D;
  /** Per-channel batch mean μ_B, shape [C]. */
  readonly mean: tf.Tensor1D;
  /** Per-channel unbiased batch variance m/(m−1)·σ²_B, shape [C]. */
  readonly variance: tf.Tensor1D;
}

function checkChannels(x: tf.Tensor4D, name: string, ...vectors: tf.Tensor[]): void {
  const c = x.shape[3];
  for (const v of vectors) {
    if (v.rank !== 1 || v.shape[0] !== c) {
      throw new Error(`batch norm "${name}": parameter of shape [${v.shape.join(', ')}] does not match ${c} channels of x [${x.shape.join(', ')}]`);
    }
  }
}

/**
 * Training-mode batch norm: normalizes with the batch statistics. Differentiable in x, γ and β
 * (the gradient flows through μ_B and σ²_B as in PyTorch). `name` is used in errors.
 */
export function batchNormTrain(x: tf.Tensor4D, weight: tf.Tensor1D, bias: tf.Tensor1D, name = 'bn'): BatchNormTrainResult {
  checkChannels(x, name, weight, bias);
  const [n, h, w] = x.shape;
  const m = n * h * w;
  if (m < 2) throw new Error(`batch norm "${name}": training needs more than 1 value per channel, x has shape [${x.shape.join(', ')}]`);
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const y = tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, bias, weight, BATCH_NORM_EPSILON);
    return { y, mean: mean as tf.Tensor1D, variance: tf.mul<tf.Tensor1D>(variance, m / (m - 1)) };
  });
}

/** Evaluation-mode batch norm with the running statistics. */
export function batchNormEval(
  x: tf.Tensor4D,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVar: tf.Tensor1D,
  name = 'bn',
): tf.Tensor4D {
  checkChannels(x, name, weight, bias, runningMean, runningVar);
  return tf.batchNorm4d(x, runningMean, runningVar, bias, weight, BATCH_NORM_EPSILON);
}

/**
 * Folds evaluation-mode batch norm into the convolution before it, so that one fused conv (with
 * bias and activation) replaces conv + BN:
 *
 *   s = γ / √(σ²_run + ε),   W' = W · s (per output channel),   b' = β − μ_run · s.
 *
 * `kernel` is HWIO; the output channel is its last axis, so s broadcasts.
 */
export function foldBatchNorm(
  kernel: tf.Tensor4D,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVar: tf.Tensor1D,
): { kernel: tf.Tensor4D; bias: tf.Tensor1D } {
  return tf.tidy(() => {
    const scale = tf.mul(weight, tf.rsqrt(tf.add(runningVar, BATCH_NORM_EPSILON)));
    return { kernel: tf.mul<tf.Tensor4D>(kernel, scale), bias: tf.sub<tf.Tensor1D>(bias, tf.mul(runningMean, scale)) };
  });
}

/** A fixed momentum m, or the cumulative average of batch k (0-based), m = 1/(k+1). */
export type BatchNormMomentum = number | { readonly cumulative: number };

/** The momentum value m of either form. */
export function momentumValue(momentum: BatchNormMomentum): number {
  if (typeof momentum === 'number') {
    if (!(momentum > 0 && momentum <= 1)) throw new Error(`updateRunningStats: momentum must be in (0, 1], found ${momentum}`);
    return momentum;
  }
  const k = momentum.cumulative;
  if (!Number.isInteger(k) || k < 0) throw new Error(`updateRunningStats: cumulative batch index must be an integer ≥ 0, found ${k}`);
  return 1 / (k + 1);
}

/**
 * New running statistics r ← (1 − m)·r + m·b for every buffer with a batch statistic; the other
 * buffers are copied. Inputs are not disposed or changed.
 *
 * @example
 * // BN re-estimation over K batches: running stats = mean of the K batch statistics
 * for (let k = 0; k < K; k++) buffers = updateRunningStats(buffers, batchStats[k], { cumulative: k });
 */
export function updateRunningStats(
  buffers: TensorMap,
  batchStats: TensorMap,
  momentum: BatchNormMomentum = DEFAULT_BATCH_NORM_MOMENTUM,
): Map<string, tf.Tensor> {
  const m = momentumValue(momentum);
  for (const [name, stat] of batchStats) {
    const running = buffers.get(name);
    if (running === undefined) throw new Error(`updateRunningStats: batch statistic "${name}" has no running buffer`);
    if (running.shape.join('x') !== stat.shape.join('x')) {
      throw new Error(`updateRunningStats: "${name}" is [${running.shape.join(', ')}] but its batch statistic is [${stat.shape.join(', ')}]`);
    }
  }
  const out = new Map<string, tf.Tensor>();
  for (const [name, running] of buffers) {
    const stat = batchStats.get(name);
    out.set(
      name,
      stat === undefined ? running.clone() : m === 1 ? stat.clone() : tf.tidy(() => tf.add(tf.mul(running, 1 - m), tf.mul(stat, m))),
    );
  }
  return out;
}

/** Fresh running statistics for a spec: means 0, variances 1 (PyTorch's reset_running_stats). */
export function resetRunningStats(spec: ModelSpec): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const b of spec.buffers) {
    if (b.kind === 'running-mean') out.set(b.name, tf.zeros([...b.shape]));
    else if (b.kind === 'running-var') out.set(b.name, tf.ones([...b.shape]));
    else throw new Error(`resetRunningStats: buffer "${b.name}" has kind ${b.kind}, expected running-mean or running-var`);
  }
  return out;
}
