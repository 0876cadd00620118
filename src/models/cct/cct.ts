/**
 * Compact Convolutional Transformer (Hassani et al. 2021, "Escaping the Big Data Paradigm with
 * Compact Transformers"), following the reference code (SHI-Labs/Compact-Transformers, src/cct.py,
 * src/utils/tokenizer.py, src/utils/transformers.py) with learnable positional embedding and
 * sequence pooling:
 *
 *   tokenizer: convLayers × [conv k×k, stride max(1, ⌊k/2⌋−1), pad max(1, ⌊k/2⌋), no bias → ReLU
 *              → maxpool 3×3 stride 2 pad 1]; widths C_in → convChannels … → D; flatten to T tokens
 *   x ← tokens + positional_emb
 *   each of L encoder layers (their TransformerEncoderLayer, pre-norm attention, post-norm MLP):
 *     x ← x + proj(MHSA(pre_norm(x)))
 *     x ← norm1(x)
 *     x ← x + linear2(GELU(linear1(x)))
 *   x ← norm(x);  pooled = Σ_t softmax_t(attention_pool(x))_t · x_t;  logits = fc(pooled)
 *
 * Deterministic: the reference's dropout, attention dropout and stochastic depth are left out
 * (they are identities at evaluation time, so imported checkpoints give the same logits).
 * Tokens are kept as one [N·T, D] matrix; an NHWC feature map flattens to tokens in the same
 * row-major (h, w) order as PyTorch's flatten(2, 3).transpose(-2, -1).
 *
 * Initialization `pytorch` is the reference code's own: kaiming_normal_ (std √(2/fan_in)) for the
 * tokenizer convs, trunc_normal_(std 0.02) for Linear weights with zero biases, LayerNorm 1/0, and
 * trunc_normal_(std 0.2) for the positional embedding (PyTorch's truncation bounds are ±2
 * absolute). `xavier` uses Glorot uniform for convs and Linear weights, zero biases, and the same
 * norm and positional-embedding initialization.
 */
import * as tf from '@tensorflow/tfjs-core';
import { configRecord, positiveIntField, positiveNumberField } from '../config-fields.js';
import { glorotUniformArray, initModelState, kaimingNormalArray, kernelFans, normAndBufferValues, truncatedNormalArray, type TensorInitializer } from '../init.js';
import { affineLayer, buildModelSpec, checkApplyInputs, tensorOf, weightAndBias, type LayerDecl } from '../model-spec.js';
import { gelu } from '../activations.js';
import { convRelu } from '../fused-relu.js';
import { layerNorm, multiHeadSelfAttention, sequencePool } from '../transformer-ops.js';
import type { Architecture, InitScheme, ModelSpec, TensorMap } from '../types.js';

/** The shape of a CCT; presets fill these, explicit fields override them. */
export interface CctShape {
  /** Transformer encoder layers L. */
  readonly layers: number;
  /** Attention heads (must divide embeddingDim). */
  readonly heads: number;
  /** MLP hidden width = ⌊embeddingDim · mlpRatio⌋. */
  readonly mlpRatio: number;
  /** Embedding dimension D (also the last tokenizer conv's width). */
  readonly embeddingDim: number;
  /** Tokenizer conv kernel size k. */
  readonly kernelSize: number;
  /** Number of tokenizer conv layers. */
  readonly convLayers: number;
  /** Width of the intermediate tokenizer convs (the reference's in_planes, 64). */
  readonly convChannels: number;
}

export interface CctConfig extends CctShape {
  /** Input channels (default 3). */
  readonly inputChannels: number;
  /** Input height and width (default 32). */
  readonly inputSize: number;
  /** Number of classes (default 10). */
  readonly classes: number;
}

/** Named CCT variants: the reference's CIFAR models and a tiny one for tests. */
export const CCT_PRESETS = {
  /** CCT-7/3×1: 7 layers, D 256, 4 heads, MLP ratio 2, one 3×3 conv; 3,760,139 params for 10 classes. */
  cct_7_3x1_32: { layers: 7, heads: 4, mlpRatio: 2, embeddingDim: 256, kernelSize: 3, convLayers: 1, convChannels: 64 },
  /** CCT-2/3×2: 2 layers, D 128, 2 heads, MLP ratio 1, two 3×3 convs; 283,723 params for 10 classes. */
  cct_2_3x2_32: { layers: 2, heads: 2, mlpRatio: 1, embeddingDim: 128, kernelSize: 3, convLayers: 2, convChannels: 64 },
  /** A tiny CCT for tests: 2 layers, D 16, 2 heads, two 3×3 convs of width 8. */
  cct_tiny: { layers: 2, heads: 2, mlpRatio: 2, embeddingDim: 16, kernelSize: 3, convLayers: 2, convChannels: 8 },
} as const satisfies Record<string, CctShape>;
export type CctPresetName = keyof typeof CCT_PRESETS;

const DEFAULT_PRESET: CctPresetName = 'cct_7_3x1_32';
const DEFAULTS: CctConfig = { ...CCT_PRESETS[DEFAULT_PRESET], inputChannels: 3, inputSize: 32, classes: 10 };
const SHAPE_FIELDS = ['layers', 'heads', 'mlpRatio', 'embeddingDim', 'kernelSize', 'convLayers', 'convChannels'] as const;

/** Derived sizes: tokenizer stride and padding (as the reference's _cct), token count T, MLP width. */
export function cctGeometry(config: CctConfig): { stride: number; padding: number; sequenceLength: number; feedforward: number } {
  const half = Math.floor(config.kernelSize / 2);
  const stride = Math.max(1, half - 1);
  const padding = Math.max(1, half);
  let side = config.inputSize;
  for (let i = 0; i < config.convLayers; i++) {
    side = Math.floor((side + 2 * padding - config.kernelSize) / stride) + 1;
    side = Math.floor((side + 2 - 3) / 2) + 1;
  }
  return { stride, padding, sequenceLength: side * side, feedforward: Math.floor(config.embeddingDim * config.mlpRatio) };
}

function norm(prefix: string, d: number): LayerDecl['tensors'] {
  return [
    { name: `${prefix}.weight`, shape: [d], kind: 'norm-scale' },
    { name: `${prefix}.bias`, shape: [d], kind: 'norm-shift' },
  ];
}

function spec(config: CctConfig): ModelSpec {
  const d = config.embeddingDim;
  const { sequenceLength, feedforward } = cctGeometry(config);
  const layers: LayerDecl[] = [];
  for (let i = 0; i < config.convLayers; i++) {
    const cin = i === 0 ? config.inputChannels : config.convChannels;
    const cout = i === config.convLayers - 1 ? d : config.convChannels;
    layers.push({
      name: `tokenizer.conv_layers.${i}`,
      tensors: [{ name: `tokenizer.conv_layers.${i}.0.weight`, shape: [config.kernelSize, config.kernelSize, cin, cout], kind: 'weight' }],
    });
  }
  layers.push({ name: 'classifier.positional_emb', tensors: [{ name: 'classifier.positional_emb', shape: [1, sequenceLength, d], kind: 'embedding' }] });
  for (let j = 0; j < config.layers; j++) {
    const b = `classifier.blocks.${j}`;
    layers.push({
      name: `${b}.self_attn`,
      tensors: [
        ...norm(`${b}.pre_norm`, d),
        { name: `${b}.self_attn.qkv.weight`, shape: [d, 3 * d], kind: 'weight' },
        ...weightAndBias(`${b}.self_attn.proj`, [d, d]),
      ],
    });
    layers.push({ name: `${b}.norm1`, tensors: norm(`${b}.norm1`, d) });
    layers.push({ name: `${b}.mlp`, tensors: [...weightAndBias(`${b}.linear1`, [d, feedforward]), ...weightAndBias(`${b}.linear2`, [feedforward, d])] });
  }
  layers.push({ name: 'classifier.norm', tensors: norm('classifier.norm', d) });
  layers.push(affineLayer('classifier.attention_pool', [d, 1]));
  layers.push(affineLayer('classifier.fc', [d, config.classes]));
  return buildModelSpec(layers, [config.inputSize, config.inputSize, config.inputChannels], config.classes);
}

function initializer(scheme: InitScheme): TensorInitializer {
  return (tensor, random) => {
    const fixed = normAndBufferValues(tensor);
    if (fixed !== undefined) return fixed;
    const size = tensor.shape.reduce((a, b) => a * b, 1);
    switch (tensor.kind) {
      case 'embedding':
        return truncatedNormalArray(size, 0.2, random);
      case 'bias':
        return new Float32Array(size);
      case 'weight': {
        const { fanIn, fanOut } = kernelFans(tensor.shape, tensor.name);
        if (scheme === 'xavier') return glorotUniformArray(size, fanIn, fanOut, random);
        return tensor.shape.length === 4 ? kaimingNormalArray(size, fanIn, random) : truncatedNormalArray(size, 0.02, random);
      }
      default:
        throw new Error(`cct init: no rule for tensor "${tensor.name}" of kind ${tensor.kind}`);
    }
  };
}

/** The tokenizer: conv → ReLU → maxpool stages, flattened to tokens [N, T, D] (no positional embedding). */
export function cctTokenize(config: CctConfig, params: TensorMap, x: tf.Tensor4D): tf.Tensor3D {
  const { stride, padding } = cctGeometry(config);
  // A stride-1 conv padded by (k−1)/2 is exactly 'same'.
  const pad = stride === 1 && 2 * padding === config.kernelSize - 1 ? 'same' : padding;
  return tf.tidy(() => {
    let h = x;
    for (let i = 0; i < config.convLayers; i++) {
      const filter = tensorOf<tf.Rank.R4>(params, `tokenizer.conv_layers.${i}.0.weight`);
      h = tf.maxPool(convRelu({ x: h, filter, strides: stride, pad }), 3, 2, 1);
    }
    const [n, th, tw, d] = h.shape;
    return tf.reshape<tf.Rank.R3>(h, [n, th * tw, d]);
  });
}

/**
 * The transformer classifier on tokens [N, T, D]: positional embedding, encoder layers, final
 * norm, sequence pooling and fc. Returns the logits and the pooling weights [N, T].
 */
export function cctClassify(config: CctConfig, params: TensorMap, tokens: tf.Tensor3D): { logits: tf.Tensor2D; poolWeights: tf.Tensor2D } {
  const [n, t, d] = tokens.shape;
  const p = <R extends tf.Rank>(name: string) => tensorOf<R>(params, name);
  return tf.tidy(() => {
    let x = tf.reshape<tf.Rank.R2>(tf.add(tokens, p('classifier.positional_emb')), [n * t, d]);
    for (let j = 0; j < config.layers; j++) {
      const b = `classifier.blocks.${j}`;
      const attended = multiHeadSelfAttention(layerNorm(x, p(`${b}.pre_norm.weight`), p(`${b}.pre_norm.bias`)), n, config.heads, {
        qkv: p(`${b}.self_attn.qkv.weight`),
        proj: p(`${b}.self_attn.proj.weight`),
        projBias: p(`${b}.self_attn.proj.bias`),
      });
      x = layerNorm(tf.add(x, attended), p(`${b}.norm1.weight`), p(`${b}.norm1.bias`));
      const hidden = gelu(tf.fused.matMul({ a: x, b: p(`${b}.linear1.weight`), bias: p(`${b}.linear1.bias`) }));
      x = tf.add(x, tf.fused.matMul({ a: hidden, b: p(`${b}.linear2.weight`), bias: p(`${b}.linear2.bias`) }));
    }
    x = layerNorm(x, p('classifier.norm.weight'), p('classifier.norm.bias'));
    const { pooled, weights } = sequencePool(x, n, p('classifier.attention_pool.weight'), p('classifier.attention_pool.bias'));
    const logits = tf.fused.matMul({ a: pooled, b: p('classifier.fc.weight'), bias: p('classifier.fc.bias') }) as tf.Tensor2D;
    return { logits, poolWeights: weights };
  });
}

/** CCT the model (spec, init, apply); `cct` in index.ts adds its capabilities and is what gets registered. */
export const cctModel: Architecture<CctConfig> = {
  name: 'cct',
  defaultConfig: DEFAULTS,

  parseConfig(raw) {
    const r = configRecord(raw, 'cct', ['preset', ...SHAPE_FIELDS, 'inputChannels', 'inputSize', 'classes']);
    const presetName = r.preset ?? DEFAULT_PRESET;
    if (typeof presetName !== 'string' || !Object.hasOwn(CCT_PRESETS, presetName)) {
      throw new Error(`cct config: preset must be one of ${Object.keys(CCT_PRESETS).join(', ')}, found ${JSON.stringify(presetName)}`);
    }
    const preset: CctShape = CCT_PRESETS[presetName as CctPresetName];
    const config: CctConfig = {
      layers: positiveIntField(r, 'layers', preset.layers, 'cct'),
      heads: positiveIntField(r, 'heads', preset.heads, 'cct'),
      mlpRatio: positiveNumberField(r, 'mlpRatio', preset.mlpRatio, 'cct'),
      embeddingDim: positiveIntField(r, 'embeddingDim', preset.embeddingDim, 'cct'),
      kernelSize: positiveIntField(r, 'kernelSize', preset.kernelSize, 'cct'),
      convLayers: positiveIntField(r, 'convLayers', preset.convLayers, 'cct'),
      convChannels: positiveIntField(r, 'convChannels', preset.convChannels, 'cct'),
      inputChannels: positiveIntField(r, 'inputChannels', DEFAULTS.inputChannels, 'cct'),
      inputSize: positiveIntField(r, 'inputSize', DEFAULTS.inputSize, 'cct'),
      classes: positiveIntField(r, 'classes', DEFAULTS.classes, 'cct'),
    };
    if (config.embeddingDim % config.heads !== 0) {
      throw new Error(`cct config: embeddingDim ${config.embeddingDim} must be divisible by heads ${config.heads}`);
    }
    const { sequenceLength, feedforward } = cctGeometry(config);
    if (sequenceLength < 1 || feedforward < 1) {
      throw new Error(`cct config: inputSize ${config.inputSize} with ${config.convLayers} tokenizer layers leaves ${sequenceLength} tokens and MLP width ${feedforward}`);
    }
    return config;
  },

  spec,

  init(config, seed, options = {}) {
    return initModelState(spec(config), seed, initializer(options.scheme ?? 'pytorch'));
  },

  apply(config, state, x, _options) {
    checkApplyInputs(spec(config), state, x, 'cct', false);
    const logits = tf.tidy(() => cctClassify(config, state.params, cctTokenize(config, state.params, x)).logits);
    return { logits, batchStats: new Map() };
  },
};
