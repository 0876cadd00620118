/**
 * EfficientNet-B0 in its CIFAR form (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for
 * Convolutional Neural Networks"), as kuangliu/pytorch-cifar's `EfficientNetB0` (models/
 * efficientnet.py; twoentartian/DFL_torch's efficientnet_cifar.py is the same file):
 *
 *   x → conv1 3×3/1 → BN → swish → 16 MBConv blocks (layers.0 … layers.15) → global average pool
 *     → dropout (training) → linear,                                     swish(z) = z · σ(z)
 *   MBConv(in → out, kernel k, stride s, expansion e), planes = e·in:
 *     h = e = 1 ? x : swish(BN₁(conv1 1×1 (x)))
 *     h = swish(BN₂(depthwise k×k/s (h)))                    (padding (k − 1)/2)
 *     h = h · σ(se2(swish(se1(mean_{H,W} h))))               (squeeze-and-excitation, se1/se2 1×1 with bias)
 *     y = BN₃(conv3 1×1 (h)) (+ x when s = 1 and in = out, after drop-connect in training)
 *
 * Stages (expansion, out, blocks, kernel, stride): (1,16,1,3,1) (6,24,2,3,2) (6,40,2,5,2)
 * (6,80,3,3,2) (6,112,3,5,1) (6,192,4,5,2) (6,320,1,3,1); the SE width is ⌊in/4⌋ of the block's
 * input channels. Width multiplier k: every channel count c becomes max(1, round(c·k)) (the stem's
 * 32 too) and the SE width max(1, ⌊in/4⌋), which is pytorch-cifar's at k = 1; k = 1 with 10 classes
 * has 3,599,686 parameters.
 *
 * As in pytorch-cifar, the expansion-1 block (layers.0) keeps a conv1/bn1 it never uses: they are in
 * the parameter map (so state dicts round-trip), get zero gradients, and their running statistics
 * stay as they are.
 *
 * Training-mode randomness, with pytorch-cifar's defaults:
 * - `dropoutRate` (default 0.2): dropout on the pooled features before `linear`;
 * - `dropConnectRate` (default 0): pytorch-cifar sets 0.2 but never advances its block counter b
 *   in rate·b/blocks, so its drop-connect is off; a positive value gives block i the rate
 *   `dropConnectRate·i/16` (the schedule pytorch-cifar intends), dropping a block's residual branch
 *   per sample.
 * Masks are seeded by the batch and `dropSeed` (drop-masks.ts), so training is deterministic.
 * Evaluation mode uses neither, and folds each BatchNorm into the convolution before it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRandom } from '../../util/random.js';
import { swish } from '../activations.js';
import { batchNormTrain, foldBatchNorm } from '../batch-norm.js';
import { configRecord, nonNegativeIntField, positiveIntField, positiveNumberField } from '../config-fields.js';
import { initFromSpec } from '../init.js';
import { affineLayer, applyForward, buildModelSpec, convBnLayer, tensorOf, type ForwardPass, type LayerDecl } from '../model-spec.js';
import type { Architecture, ModelSpec, TensorMap } from '../types.js';
import { scaledWidth } from '../width-multiplier.js';
import { batchKey, keepMask } from './drop-masks.js';

export interface EfficientNetConfig {
  /** Width multiplier k: every channel count c becomes max(1, round(c·k)) (default 1). */
  readonly width: number;
  /** Input channels (default 3). */
  readonly inputChannels: number;
  /** Input height and width (default 32). */
  readonly inputSize: number;
  /** Number of classes (default 10). */
  readonly classes: number;
  /** Training-mode dropout before the classifier, in [0, 1) (default 0.2, pytorch-cifar's). */
  readonly dropoutRate: number;
  /** Training-mode drop-connect of the last block, in [0, 1) (default 0: pytorch-cifar's effective rate). */
  readonly dropConnectRate: number;
  /** Seed of the dropout masks, mixed with each batch's hash (default 0). */
  readonly dropSeed: number;
}

const DEFAULTS: EfficientNetConfig = { width: 1, inputChannels: 3, inputSize: 32, classes: 10, dropoutRate: 0.2, dropConnectRate: 0, dropSeed: 0 };

/** pytorch-cifar's EfficientNetB0 cfg: (expansion, out channels, blocks, kernel, stride) per stage. */
export const EFFICIENTNET_B0_STAGES = [
  [1, 16, 1, 3, 1],
  [6, 24, 2, 3, 2],
  [6, 40, 2, 5, 2],
  [6, 80, 3, 3, 2],
  [6, 112, 3, 5, 1],
  [6, 192, 4, 5, 2],
  [6, 320, 1, 3, 1],
] as const;

/** The stem's channels at k = 1. */
export const EFFICIENTNET_STEM = 32;

/** One MBConv block's geometry. */
export interface EfficientNetBlock {
  readonly prefix: string;
  /** The stage (1 … 7) of pytorch-cifar's cfg the block belongs to. */
  readonly stage: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly planes: number;
  readonly seChannels: number;
  readonly kernel: 3 | 5;
  readonly stride: 1 | 2;
  readonly expansion: number;
  /** Identity shortcut: stride 1 and in = out. */
  readonly skip: boolean;
}

/** The 16 blocks of EfficientNet-B0 at width multiplier k, input side first. */
export function efficientNetBlocks(width: number): EfficientNetBlock[] {
  const out: EfficientNetBlock[] = [];
  let inChannels = scaledWidth(EFFICIENTNET_STEM, width);
  EFFICIENTNET_B0_STAGES.forEach(([expansion, outBase, count, kernel, firstStride], s) => {
    const outChannels = scaledWidth(outBase, width);
    for (let b = 0; b < count; b++) {
      const stride = b === 0 ? firstStride : 1;
      out.push({
        prefix: `layers.${out.length}`,
        stage: s + 1,
        inChannels,
        outChannels,
        planes: expansion * inChannels,
        seChannels: Math.max(1, Math.floor(inChannels * 0.25)),
        kernel,
        stride,
        expansion,
        skip: stride === 1 && inChannels === outChannels,
      });
      inChannels = outChannels;
    }
  });
  return out;
}

function spec(config: EfficientNetConfig): ModelSpec {
  const stem = scaledWidth(EFFICIENTNET_STEM, config.width);
  const layers: LayerDecl[] = [convBnLayer('conv1', 'conv1', 'bn1', [3, 3, config.inputChannels, stem])];
  const blocks = efficientNetBlocks(config.width);
  for (const b of blocks) {
    const p = b.prefix;
    layers.push(convBnLayer(`${p}.conv1`, `${p}.conv1`, `${p}.bn1`, [1, 1, b.inChannels, b.planes]));
    // Depthwise kernels as HWIO with I = 1 (PyTorch's [C, 1, k, k] transposed); apply reshapes to [k, k, C, 1].
    layers.push(convBnLayer(`${p}.conv2`, `${p}.conv2`, `${p}.bn2`, [b.kernel, b.kernel, 1, b.planes]));
    layers.push(affineLayer(`${p}.se.se1`, [1, 1, b.planes, b.seChannels]));
    layers.push(affineLayer(`${p}.se.se2`, [1, 1, b.seChannels, b.planes]));
    layers.push(convBnLayer(`${p}.conv3`, `${p}.conv3`, `${p}.bn3`, [1, 1, b.planes, b.outChannels]));
  }
  const last = blocks.at(-1)?.outChannels ?? stem;
  layers.push(affineLayer('linear', [last, config.classes]));
  return buildModelSpec(layers, [config.inputSize, config.inputSize, config.inputChannels], config.classes);
}

/**
 * conv (or depthwise conv) → BN (→ swish). Training: BN with batch statistics, recorded under the
 * BN's buffer names. Evaluation: BN folded into the conv's kernel and a bias.
 */
function convBnForward(pass: ForwardPass, x: tf.Tensor4D, conv: string, bn: string, stride: 1 | 2, depthwise: boolean, activate: boolean): tf.Tensor4D {
  const kernel = tensorOf<tf.Rank.R4>(pass.params, `${conv}.weight`);
  const size = kernel.shape[0];
  // PyTorch pads (k − 1)/2 on every side: 'same' at stride 1, not at stride 2.
  const pad = size === 1 ? 'valid' : stride === 1 ? 'same' : (size - 1) / 2;
  const run = (k: tf.Tensor4D): tf.Tensor4D =>
    depthwise ? tf.depthwiseConv2d(x, tf.reshape<tf.Rank.R4>(k, [size, size, k.shape[3], 1]), stride, pad) : tf.conv2d(x, k, stride, pad);
  const gamma = tensorOf<tf.Rank.R1>(pass.params, `${bn}.weight`);
  const beta = tensorOf<tf.Rank.R1>(pass.params, `${bn}.bias`);
  let y: tf.Tensor4D;
  if (pass.stats !== undefined) {
    const r = batchNormTrain(run(kernel), gamma, beta, bn);
    pass.stats[`${bn}.running_mean`] = r.mean;
    pass.stats[`${bn}.running_var`] = r.variance;
    y = r.y;
  } else {
    const folded = foldBatchNorm(kernel, gamma, beta, tensorOf(pass.buffers, `${bn}.running_mean`), tensorOf(pass.buffers, `${bn}.running_var`));
    y = tf.add(run(folded.kernel), folded.bias);
  }
  return activate ? swish(y) : y;
}

/** A 1×1 conv with bias on pooled [N, C] features, as a matrix product. */
function pointwiseDense(params: TensorMap, name: string, h: tf.Tensor2D): tf.Tensor2D {
  const kernel = tensorOf<tf.Rank.R4>(params, `${name}.weight`);
  const matrix = tf.reshape<tf.Rank.R2>(kernel, [kernel.shape[2], kernel.shape[3]]);
  return tf.add(tf.matMul(h, matrix), tensorOf(params, `${name}.bias`));
}

function blockForward(pass: ForwardPass, b: EfficientNetBlock, x: tf.Tensor4D, dropConnect: number, random: (site: string) => ReturnType<typeof createRandom>): tf.Tensor4D {
  const p = b.prefix;
  let h = b.expansion === 1 ? x : convBnForward(pass, x, `${p}.conv1`, `${p}.bn1`, 1, false, true);
  h = convBnForward(pass, h, `${p}.conv2`, `${p}.bn2`, b.stride, true, true);
  const squeezed = tf.mean<tf.Tensor2D>(h, [1, 2]);
  const gate = tf.sigmoid(pointwiseDense(pass.params, `${p}.se.se2`, swish(pointwiseDense(pass.params, `${p}.se.se1`, squeezed))));
  h = tf.mul(h, tf.reshape(gate, [gate.shape[0], 1, 1, gate.shape[1]]));
  let y = convBnForward(pass, h, `${p}.conv3`, `${p}.bn3`, 1, false, false);
  if (!b.skip) return y;
  if (pass.stats !== undefined && dropConnect > 0) y = tf.mul(y, keepMask([y.shape[0], 1, 1, 1], dropConnect, random(p)));
  return tf.add(y, x);
}

/**
 * The unused conv1/bn1 of expansion-1 blocks, times 0: tf.valueAndGrads needs every parameter to
 * reach the loss, and this gives them exact zero gradients without changing the logits.
 */
function unusedTerm(params: TensorMap, blocks: readonly EfficientNetBlock[]): tf.Scalar | undefined {
  const unused = blocks.filter((b) => b.expansion === 1).flatMap((b) => [`${b.prefix}.conv1.weight`, `${b.prefix}.bn1.weight`, `${b.prefix}.bn1.bias`]);
  if (unused.length === 0) return undefined;
  return tf.mul(0, tf.addN(unused.map((n) => tf.sum(tensorOf(params, n)))));
}

/**
 * Batch statistics for the unused bn1 of expansion-1 blocks: their running statistics themselves
 * (zeros and ones when absent), so that every BN buffer has one, as data-parallel training expects,
 * and a momentum update leaves them where PyTorch, which never runs them, leaves them.
 */
function reportUnusedStats(stats: Record<string, tf.Tensor>, buffers: TensorMap, blocks: readonly EfficientNetBlock[]): void {
  for (const b of blocks.filter((block) => block.expansion === 1)) {
    for (const [name, fill] of [[`${b.prefix}.bn1.running_mean`, 0], [`${b.prefix}.bn1.running_var`, 1]] as const) {
      const running = buffers.get(name);
      stats[name] = running === undefined ? tf.fill([b.planes], fill) : tf.clone(running);
    }
  }
}

function rateField(record: Readonly<Record<string, unknown>>, field: string, fallback: number): number {
  const value = record[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) throw new Error(`efficientnet-b0 config: ${field} must be a number in [0, 1), found ${JSON.stringify(value)}`);
  return value;
}

/** EfficientNet-B0 the model (spec, init, apply); `efficientNetB0` in index.ts adds its capabilities. */
export const efficientNetModel: Architecture<EfficientNetConfig> = {
  name: 'efficientnet-b0',
  defaultConfig: DEFAULTS,

  parseConfig(raw) {
    const where = 'efficientnet-b0';
    const r = configRecord(raw, where, Object.keys(DEFAULTS));
    const config: EfficientNetConfig = {
      width: positiveNumberField(r, 'width', DEFAULTS.width, where),
      inputChannels: positiveIntField(r, 'inputChannels', DEFAULTS.inputChannels, where),
      inputSize: positiveIntField(r, 'inputSize', DEFAULTS.inputSize, where),
      classes: positiveIntField(r, 'classes', DEFAULTS.classes, where),
      dropoutRate: rateField(r, 'dropoutRate', DEFAULTS.dropoutRate),
      dropConnectRate: rateField(r, 'dropConnectRate', DEFAULTS.dropConnectRate),
      dropSeed: nonNegativeIntField(r, 'dropSeed', DEFAULTS.dropSeed, where),
    };
    if (config.inputSize < 16) throw new Error(`${where} config: inputSize must be at least 16 (four stride-2 stages), found ${config.inputSize}`);
    return config;
  },

  spec,

  init: initFromSpec(spec),

  apply(config, state, x, options) {
    const blocks = efficientNetBlocks(config.width);
    const needsMasks = options.training && (config.dropoutRate > 0 || config.dropConnectRate > 0);
    const root = needsMasks ? createRandom((batchKey(x) ^ config.dropSeed) >>> 0) : undefined;
    const random = (site: string) => {
      if (root === undefined) throw new Error('efficientnet-b0: dropout masks outside training mode');
      return root.fork(site);
    };
    return applyForward(spec(config), 'efficientnet-b0', state, x, options, (pass) => {
      const stem = convBnForward(pass, x, 'conv1', 'bn1', 1, false, true);
      const h = pass.sequence(stem, blocks, (input, b, i) => blockForward(pass, b, input, (config.dropConnectRate * i) / blocks.length, random));
      let pooled = tf.mean<tf.Tensor2D>(h, [1, 2]);
      if (options.training && config.dropoutRate > 0) pooled = tf.mul(pooled, keepMask(pooled.shape, config.dropoutRate, random('linear')));
      let logits = tf.add<tf.Tensor2D>(tf.matMul(pooled, tensorOf(state.params, 'linear.weight')), tensorOf(state.params, 'linear.bias'));
      const zero = options.training ? unusedTerm(state.params, blocks) : undefined;
      if (zero !== undefined) logits = tf.add(logits, zero);
      if (pass.stats !== undefined) reportUnusedStats(pass.stats, state.buffers, blocks);
      return logits;
    });
  },
};
