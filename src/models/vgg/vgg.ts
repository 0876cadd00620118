/**
 * VGG with BatchNorm in its CIFAR form (Simonyan & Zisserman 2015, "Very Deep Convolutional
 * Networks for Large-Scale Image Recognition"; the kuangliu/pytorch-cifar `VGG(name)` that the
 * layer-wise connectivity authors' twoentartian/DFL_torch copies as `vgg_cifar.py`):
 *
 *   x → [conv 3×3 pad 1 (with bias) → BN → ReLU]ⁿ¹ → maxpool 2/2 → … (five pooling stages)
 *     → flatten → classifier (Linear)
 *
 *   VGG-11  [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M]
 *   VGG-13  [64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M]
 *   VGG-16  [64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M]
 *   VGG-19  [64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512 ×4, M]
 *
 * One architecture `vgg` with the depth as a config field (`{ depth: 16 }`, the default, is
 * pytorch-cifar's `VGG('VGG16')`; `{ depth: 11 }` is `VGG('VGG11')`), as a researcher writes
 * "VGG-16" and "VGG-11" of one family. The width multiplier k makes a channel count c into
 * round(c·k) (k = 1 is the paper's). Names are pytorch-cifar's Sequential indices: entry i of the
 * list above is `features.j` with j the running module index (conv j, BN j + 1, ReLU j + 2, a pool
 * one index), so VGG-16's convs are features.0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40; the
 * trailing AvgPool2d(1, 1) of pytorch-cifar is the identity and is left out. The input size is
 * 32 to 63, so that the last feature map is 1×1 and the classifier reads round(512k) features, as
 * pytorch-cifar's Linear(512, classes) does (a larger map would make the flattening order matter
 * and the classifier width depend on the input size, which no PyTorch VGG of these papers has).
 *
 * Layer groups: `features.j` (conv weight and bias with the BN after it) and `classifier`.
 * VGG-16 with k = 1 and 10 classes has 14,728,266 parameters, VGG-11 9,231,114 (PyTorch's counts).
 *
 * Evaluation mode folds each BatchNorm into its conv (bias included: b' = β + (b − μ)·s), so one
 * fused conv with bias and ReLU does the work of conv + BN + ReLU.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, foldBatchNorm } from '../batch-norm.js';
import { configRecord, positiveIntField, positiveNumberField } from '../config-fields.js';
import { initFromSpec } from '../init.js';
import { affineLayer, applyForward, batchNormTensors, buildModelSpec, denseForward, tensorOf, weightAndBias, type LayerDecl } from '../model-spec.js';
import type { Architecture, ModelSpec } from '../types.js';

/** The VGG depths of pytorch-cifar's `cfg`. */
export const VGG_DEPTHS = [11, 13, 16, 19] as const;
export type VggDepth = (typeof VGG_DEPTHS)[number];

export interface VggConfig {
  /** Number of weight layers: 11, 13, 16 or 19 (default 16). */
  readonly depth: VggDepth;
  /** Width multiplier k: every channel count c becomes round(c·k) (default 1). */
  readonly width: number;
  /** Input channels (default 3). */
  readonly inputChannels: number;
  /** Input height and width, 32 to 63 (five 2×2 max-pools leave a 1×1 map; default 32). */
  readonly inputSize: number;
  /** Number of classes (default 10). */
  readonly classes: number;
}

const DEFAULTS: VggConfig = { depth: 16, width: 1, inputChannels: 3, inputSize: 32, classes: 10 };

/** pytorch-cifar's cfg: channel counts, 0 for a 2×2 max-pool. */
const CFG: Readonly<Record<VggDepth, readonly number[]>> = {
  11: [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
  13: [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
  16: [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
  19: [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
};

/** One conv → BN → ReLU of the feature stack. */
export interface VggConv {
  /** The conv's module index: its tensors are `features.{index}.*`, its BN's `features.{index + 1}.*`. */
  readonly index: number;
  /** The pooling stage (0–4) the conv belongs to. */
  readonly stage: number;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Whether a 2×2 max-pool follows it. */
  readonly poolAfter: boolean;
}

/** The convs of a VGG, input side first, with their pytorch-cifar module indices. */
export function vggConvs(config: Pick<VggConfig, 'depth' | 'width' | 'inputChannels'>): VggConv[] {
  const out: VggConv[] = [];
  let index = 0;
  let stage = 0;
  let inChannels = config.inputChannels;
  for (const c of CFG[config.depth]) {
    if (c === 0) {
      const last = out.at(-1);
      if (last !== undefined) out[out.length - 1] = { ...last, poolAfter: true };
      index += 1;
      stage += 1;
      continue;
    }
    const channels = Math.round(c * config.width);
    out.push({ index, stage, inChannels, outChannels: channels, poolAfter: false });
    inChannels = channels;
    index += 3;
  }
  return out;
}

function spec(config: VggConfig): ModelSpec {
  const convs = vggConvs(config);
  const layers: LayerDecl[] = convs.map((c) => {
    const conv = `features.${c.index}`;
    const bn = `features.${c.index + 1}`;
    return { name: conv, tensors: [...weightAndBias(conv, [3, 3, c.inChannels, c.outChannels]), ...batchNormTensors(bn, c.outChannels)] };
  });
  const features = (convs.at(-1) as VggConv).outChannels;
  layers.push(affineLayer('classifier', [features, config.classes]));
  return buildModelSpec(layers, [config.inputSize, config.inputSize, config.inputChannels], config.classes);
}

function parseDepth(record: Readonly<Record<string, unknown>>): VggDepth {
  const depth = record.depth ?? DEFAULTS.depth;
  if (!VGG_DEPTHS.includes(depth as VggDepth)) throw new Error(`vgg config: depth must be one of ${VGG_DEPTHS.join(', ')}, found ${JSON.stringify(depth)}`);
  return depth as VggDepth;
}

/** VGG the model (spec, init, apply); `vgg` in index.ts adds its capabilities and is what gets registered. */
export const vggModel: Architecture<VggConfig> = {
  name: 'vgg',
  defaultConfig: DEFAULTS,

  parseConfig(raw) {
    const r = configRecord(raw, 'vgg', Object.keys(DEFAULTS));
    const config: VggConfig = {
      depth: parseDepth(r),
      width: positiveNumberField(r, 'width', DEFAULTS.width, 'vgg'),
      inputChannels: positiveIntField(r, 'inputChannels', DEFAULTS.inputChannels, 'vgg'),
      inputSize: positiveIntField(r, 'inputSize', DEFAULTS.inputSize, 'vgg'),
      classes: positiveIntField(r, 'classes', DEFAULTS.classes, 'vgg'),
    };
    if (Math.round(64 * config.width) < 1) throw new Error(`vgg config: width ${config.width} gives round(64·k) = 0 channels; use k ≥ 1/128`);
    if (config.inputSize < 32 || config.inputSize > 63) {
      throw new Error(`vgg config: inputSize must be 32 to 63 (five 2×2 max-pools leave the 1×1 map the classifier reads), found ${config.inputSize}`);
    }
    return config;
  },

  spec,

  init: initFromSpec(spec),

  apply(config, state, x, options) {
    return applyForward(spec(config), 'vgg', state, x, options, ({ params, buffers, stats }) => {
      let h: tf.Tensor4D = x;
      for (const c of vggConvs(config)) {
        const conv = `features.${c.index}`;
        const bn = `features.${c.index + 1}`;
        const kernel = tensorOf<tf.Rank.R4>(params, `${conv}.weight`);
        const bias = tensorOf<tf.Rank.R1>(params, `${conv}.bias`);
        const gamma = tensorOf<tf.Rank.R1>(params, `${bn}.weight`);
        const beta = tensorOf<tf.Rank.R1>(params, `${bn}.bias`);
        if (stats !== undefined) {
          const r = batchNormTrain(tf.fused.conv2d({ x: h, filter: kernel, strides: 1, pad: 'same', bias }), gamma, beta, bn);
          stats[`${bn}.running_mean`] = r.mean;
          stats[`${bn}.running_var`] = r.variance;
          h = tf.relu(r.y);
        } else {
          // b' = β − (μ − b)·s folds the conv bias with the running mean.
          const shifted = tf.sub<tf.Tensor1D>(tensorOf(buffers, `${bn}.running_mean`), bias);
          const folded = foldBatchNorm(kernel, gamma, beta, shifted, tensorOf(buffers, `${bn}.running_var`));
          h = tf.fused.conv2d({ x: h, filter: folded.kernel, strides: 1, pad: 'same', bias: folded.bias, activation: 'relu' });
        }
        if (c.poolAfter) h = tf.maxPool(h, 2, 2, 'valid');
      }
      return denseForward(tf.reshape<tf.Rank.R2>(h, [h.shape[0], -1]), params, 'classifier');
    });
  },
};
