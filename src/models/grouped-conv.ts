/**
 * Grouped 2-D convolution (Krizhevsky et al. 2012; the ShuffleNet and RegNet blocks) and the
 * conv → BatchNorm (→ ReLU) unit built on it, for NHWC inputs and HWIO kernels of shape
 * [kh, kw, C/g, O] (PyTorch's grouped kernel [O, C/g, kh, kw] in our layout), with PyTorch's zero
 * padding p on every side:
 *
 *   y[…, o] = Σ_{j < C/g} W[:, :, j, o] ⋆ x[…, γ(o)·(C/g) + j],   γ(o) = ⌊o / (O/g)⌋.
 *
 * g = 1 is `tf.conv2d`. Otherwise the convolution is one depthwise convolution with channel
 * multiplier M = O/g on the kernel rearranged as K[:, :, γ·(C/g) + j, m] = W[:, :, j, γ·M + m],
 * followed by the sum over j of its [g, C/g, M] output channels: the same multiply-adds as the
 * grouped convolution (no block-diagonal zeros), and differentiable on every backend through the
 * depthwise convolution's gradients, reshape, transpose and sum (whose gradient, a broadcast of dy
 * over j, runs as a Tile). Depthwise layers (g = C = O) need
 * no sum.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, foldBatchNorm } from './batch-norm.js';
import { customGradient } from './custom-gradient.js';
import { tensorOf } from './model-spec.js';
import type { TensorMap } from './types.js';

/** PyTorch's symmetric zero padding as tfjs padding. */
function padding(pad: number): 'valid' | number {
  return pad === 0 ? 'valid' : pad;
}

/** The depthwise kernel [kh, kw, C, M] equivalent to a grouped kernel [kh, kw, C/g, O] (module comment). */
function depthwiseKernel(kernel: tf.Tensor4D, groups: number): tf.Tensor4D {
  const [kh, kw, cinG, out] = kernel.shape;
  const m = out / groups;
  if (cinG === 1) return tf.reshape(kernel, [kh, kw, groups, m]);
  const split = tf.reshape(kernel, [kh, kw, cinG, groups, m]);
  return tf.reshape(tf.transpose(split, [0, 1, 3, 2, 4]), [kh, kw, groups * cinG, m]);
}

/**
 * y = grouped convolution of x with `kernel` [kh, kw, C/g, O] (formula in the module comment),
 * stride s, zero padding `pad` on every side. Throws when C or O is not divisible by g or the
 * kernel's input axis is not C/g.
 */
export function groupedConv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, groups: number, stride: number, pad: number): tf.Tensor4D {
  const c = x.shape[3];
  const [, , cinG, out] = kernel.shape;
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || out % groups !== 0 || cinG * groups !== c) {
    throw new Error(`groupedConv2d: kernel [${kernel.shape.join(', ')}] with ${groups} groups does not fit ${c} input channels (expected kernel [kh, kw, ${c / groups}, O], O divisible by ${groups})`);
  }
  if (groups === 1) return tf.conv2d(x, kernel, stride, padding(pad));
  return tf.tidy(() => {
    const y = tf.depthwiseConv2d(x, depthwiseKernel(kernel, groups), stride, padding(pad));
    if (cinG === 1) return y;
    const [n, h, w] = y.shape;
    return tf.reshape(sumOverGroupInputs(tf.reshape(y, [n, h, w, groups, cinG, out / groups])), [n, h, w, out]);
  });
}

/**
 * Σ_j z[…, γ, j, m] (axis 4), with the gradient dz[…, γ, j, m] = dy[…, γ, m] as a Tile; tfjs's own
 * Sum gradient multiplies dy by a tensor of ones through a broadcasting Multiply, the slowest of
 * the ops on the wasm backend (bench/PROFILE.md).
 */
const sumOverGroupInputs = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const z = args[0] as tf.Tensor;
  const inputs = z.shape[4] as number;
  return {
    value: tf.sum(z, 4),
    gradFunc: (dy: tf.Tensor) => tf.tile(tf.expandDims(dy, 4), [1, 1, 1, 1, inputs, 1]),
  };
});

/** One conv → BN (→ ReLU) unit: the conv's kernel and the BN's tensor-name prefix, stride, padding, groups. */
export interface ConvBnUnit {
  readonly conv: string;
  readonly bn: string;
  readonly stride: number;
  readonly pad: number;
  readonly groups: number;
  readonly relu: boolean;
}

/**
 * conv → BN (→ ReLU). Training (`stats` given): BN with the batch statistics, recorded in `stats`
 * under the BN's buffer names. Evaluation: BN folded into the kernel and a bias
 * (W' = W·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε); see foldBatchNorm), one fused conv with bias and
 * activation where the convolution is plain or depthwise.
 */
export function convBnForward(x: tf.Tensor4D, params: TensorMap, buffers: TensorMap, unit: ConvBnUnit, stats: Record<string, tf.Tensor> | undefined): tf.Tensor4D {
  const kernel = tensorOf<tf.Rank.R4>(params, `${unit.conv}.weight`);
  const gamma = tensorOf<tf.Rank.R1>(params, `${unit.bn}.weight`);
  const beta = tensorOf<tf.Rank.R1>(params, `${unit.bn}.bias`);
  if (stats !== undefined) {
    const { y, mean, variance } = batchNormTrain(groupedConv2d(x, kernel, unit.groups, unit.stride, unit.pad), gamma, beta, unit.bn);
    stats[`${unit.bn}.running_mean`] = mean;
    stats[`${unit.bn}.running_var`] = variance;
    return unit.relu ? tf.relu(y) : y;
  }
  const folded = foldBatchNorm(kernel, gamma, beta, tensorOf(buffers, `${unit.bn}.running_mean`), tensorOf(buffers, `${unit.bn}.running_var`));
  const activation = unit.relu ? 'relu' : 'linear';
  const pad = padding(unit.pad);
  if (unit.groups === 1) return tf.fused.conv2d({ x, filter: folded.kernel, strides: unit.stride, pad, bias: folded.bias, activation });
  if (kernel.shape[2] === 1) {
    return tf.fused.depthwiseConv2d({ x, filter: depthwiseKernel(folded.kernel, unit.groups), strides: unit.stride, pad, bias: folded.bias, activation });
  }
  const y = tf.add<tf.Tensor4D>(groupedConv2d(x, folded.kernel, unit.groups, unit.stride, unit.pad), folded.bias);
  return unit.relu ? tf.relu(y) : y;
}
