/**
 * The functional pieces of a transformer encoder on token matrices: layer normalization,
 * multi-head self-attention and sequence pooling (GELU is in activations.ts). Tokens of a batch are kept as one matrix
 * [N·T, D] (example-major), so every dense layer is a single matMul.
 */
import * as tf from '@tensorflow/tfjs-core';
import { customGradient } from './custom-gradient.js';

/** PyTorch's LayerNorm epsilon. */
export const LAYER_NORM_EPSILON = 1e-5;

/**
 * Layer normalization over the last axis (Ba, Kiros & Hinton 2016, "Layer Normalization"):
 *
 *   y = γ · x̂ + β,   x̂ = (x − μ) / σ,   σ = √(σ² + ε),   μ, σ² the mean and biased variance of
 *   each row of D values, ε = 1e-5.
 *
 * Differentiable in x, γ and β through one custom gradient (row means over the D values, sums over
 * the rows):
 *
 *   dβ = Σ dy,   dγ = Σ dy·x̂,   g = dy·γ,   dx = (g − mean(g) − x̂ · mean(g·x̂)) / σ
 *
 * which keeps x and two per-row vectors for the backward pass where the op-by-op chain held about
 * 18 activation-sized tensors per layer (its ops' saved inputs and gradients).
 */
export function layerNorm(x: tf.Tensor2D, weight: tf.Tensor1D, bias: tf.Tensor1D): tf.Tensor2D {
  const d = x.shape[1];
  if (weight.shape[0] !== d || bias.shape[0] !== d) {
    throw new Error(`layerNorm: x is [${x.shape.join(', ')}] but γ is [${weight.shape.join(', ')}] and β is [${bias.shape.join(', ')}]`);
  }
  return layerNormOp(x, weight, bias) as tf.Tensor2D;
}

const layerNormOp = customGradient((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, gamma, beta, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
  const { mean, variance } = tf.moments(x, 1, true);
  const invStd = tf.rsqrt(tf.add(variance, LAYER_NORM_EPSILON));
  save([x, mean, invStd, gamma]);
  return {
    value: tf.add(tf.mul(tf.mul(tf.sub(x, mean), invStd), gamma), beta),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sMean, sInvStd, sGamma] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const xHat = tf.mul(tf.sub(sx, sMean), sInvStd);
      const g = tf.mul(dy, sGamma);
      const dx = tf.mul(tf.sub(tf.sub(g, tf.mean(g, 1, true)), tf.mul(xHat, tf.mean(tf.mul(g, xHat), 1, true))), sInvStd);
      return [dx, tf.sum(tf.mul(dy, xHat), 0), tf.sum(dy, 0)];
    },
  };
});

/** Weights of one multi-head self-attention layer (no qkv bias, as in timm/CCT). */
export interface SelfAttentionWeights {
  /** [D, 3D]; output columns are ordered (q|k|v, head, channel within head), as PyTorch's qkv rows. */
  readonly qkv: tf.Tensor2D;
  /** [D, D] output projection kernel. */
  readonly proj: tf.Tensor2D;
  /** [D] output projection bias. */
  readonly projBias: tf.Tensor1D;
}

/**
 * Multi-head self-attention (Vaswani et al. 2017, "Attention Is All You Need"), timm's layout:
 *
 *   [Q | K | V] = X W_qkv,   head h: A_h = softmax(Q_h K_hᵀ / √d_h) V_h,   out = [A_1 … A_H] W_proj + b.
 *
 * `x` is [N·T, D] with `batch` = N examples of T tokens; the result has the same shape.
 */
export function multiHeadSelfAttention(x: tf.Tensor2D, batch: number, heads: number, weights: SelfAttentionWeights): tf.Tensor2D {
  const [rows, d] = x.shape;
  if (rows % batch !== 0) throw new Error(`self-attention: ${rows} token rows do not split into ${batch} examples`);
  if (d % heads !== 0) throw new Error(`self-attention: embedding ${d} is not divisible by ${heads} heads`);
  if (weights.qkv.shape[0] !== d || weights.qkv.shape[1] !== 3 * d) {
    throw new Error(`self-attention: qkv kernel is [${weights.qkv.shape.join(', ')}], expected [${d}, ${3 * d}]`);
  }
  const tokens = rows / batch;
  const headDim = d / heads;
  return tf.tidy(() => {
    // [N·T, 3D] → [N, T, 3H, d_h] → [N, 3H, T, d_h] → three [N·H, T, d_h]. A rank-4 transpose:
    // tfjs-wasm's rank-5 transpose measured ~100× slower than rank 4 for the same data.
    const qkv = tf.transpose(tf.reshape(tf.matMul(x, weights.qkv), [batch, tokens, 3 * heads, headDim]), [0, 2, 1, 3]);
    const [q, k, v] = tf.split(tf.reshape(qkv, [batch, 3, heads * tokens * headDim]), 3, 1).map((t) => tf.reshape<tf.Rank.R3>(t, [batch * heads, tokens, headDim])) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    // Q scaled before the product, not the T×T scores after it: one tensor of N·H·T·d_h values
    // (and its gradient) instead of N·H·T² (exact where d_h is a power of 4, as in every preset).
    const attention = tf.softmax(tf.matMul(tf.mul(q, 1 / Math.sqrt(headDim)), k, false, true));
    // [N·H, T, d_h] → [N, H, T, d_h] → [N, T, H, d_h] → [N·T, D]
    const merged = tf.reshape<tf.Rank.R2>(tf.transpose(tf.reshape(tf.matMul(attention, v), [batch, heads, tokens, headDim]), [0, 2, 1, 3]), [rows, d]);
    return tf.fused.matMul({ a: merged, b: weights.proj, bias: weights.projBias }) as tf.Tensor2D;
  });
}

/**
 * Sequence pooling (Hassani et al. 2021, "Escaping the Big Data Paradigm with Compact
 * Transformers"): a learned softmax weighting of the tokens of each example,
 *
 *   w = softmax_t(x_t · a + c),   pooled = Σ_t w_t x_t.
 *
 * `x` is [N·T, D]; returns pooled [N, D] and the weights [N, T] (each row sums to 1).
 */
export function sequencePool(x: tf.Tensor2D, batch: number, weight: tf.Tensor2D, bias: tf.Tensor1D): { pooled: tf.Tensor2D; weights: tf.Tensor2D } {
  const [rows, d] = x.shape;
  if (weight.shape[0] !== d || weight.shape[1] !== 1) throw new Error(`sequence pooling: weight is [${weight.shape.join(', ')}], expected [${d}, 1]`);
  const tokens = rows / batch;
  return tf.tidy(() => {
    const weights = tf.softmax(tf.reshape<tf.Rank.R2>(tf.fused.matMul({ a: x, b: weight, bias }), [batch, tokens]));
    const pooled = tf.reshape<tf.Rank.R2>(tf.matMul(tf.reshape(weights, [batch, 1, tokens]), tf.reshape(x, [batch, tokens, d])), [batch, d]);
    return { pooled, weights };
  });
}
