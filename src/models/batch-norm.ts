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
import { customGradient } from './custom-gradient.js';
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
 * (the gradient flows through μ_B and σ²_B as in PyTorch); the reported `mean` and `variance`
 * are statistics for the running averages and carry no gradient. `name` is used in errors.
 *
 * The gradient is the closed form (Ioffe & Szegedy 2015, §3), with x̂ = (x − μ_B)/σ,
 * σ = √(σ²_B + ε), sums over the m values of a channel:
 *
 *   dβ = Σ dy,   dγ = Σ dy·x̂,   dx = (γ/σ) · (dy − dβ/m − x̂ · dγ/m)
 *
 * as one custom gradient: about nine tensor-sized ops per layer, where differentiating
 * moments + batchNorm op by op takes some twenty-five (a measurable share of a ResNet-18 step on
 * the wasm backend, bench/PROFILE.md).
 */
export function batchNormTrain(x: tf.Tensor4D, weight: tf.Tensor1D, bias: tf.Tensor1D, name = 'bn'): BatchNormTrainResult {
  checkChannels(x, name, weight, bias);
  const [n, h, w] = x.shape;
  const m = n * h * w;
  if (m < 2) throw new Error(`batch norm "${name}": training needs more than 1 value per channel, x has shape [${x.shape.join(', ')}]`);
  const axes = [0, 1, 2];
  // Set by the forward pass below, which runs synchronously inside customGrad.
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const normalize = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x4, gamma, beta, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const moments = tf.moments(x4, axes);
    mean = tf.keep(moments.mean as tf.Tensor1D);
    variance = tf.keep(moments.variance as tf.Tensor1D);
    const invStd = tf.rsqrt(tf.add(variance, BATCH_NORM_EPSILON));
    save([x4, mean, invStd, gamma]);
    return {
      value: tf.batchNorm4d(x4, mean, variance, beta, gamma, BATCH_NORM_EPSILON),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sMean, sInvStd, sGamma] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const xHat = tf.mul(tf.sub(sx, sMean), sInvStd);
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.sum(tf.mul(dy, xHat), axes);
        const centered = tf.sub(tf.sub(dy, tf.div(dBeta, m)), tf.mul(xHat, tf.div(dGamma, m)));
        return [tf.mul(centered, tf.mul(sGamma, sInvStd)), dGamma, dBeta];
      },
    };
  });
  return tf.tidy(() => {
    const y = normalize(x, weight, bias);
    if (mean === undefined || variance === undefined) throw new Error(`batch norm "${name}": the forward pass did not run`);
    // Both were kept inside customGrad, so no scope owns them: return tensors this tidy owns.
    const batchMean = tf.clone(mean);
    const unbiased = tf.mul<tf.Tensor1D>(variance, m / (m - 1));
    tf.dispose([mean, variance]);
    return { y, mean: batchMean, variance: unbiased };
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
