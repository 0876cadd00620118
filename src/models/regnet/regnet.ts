/**
 * RegNet in its CIFAR form (Radosavovic et al. 2020, "Designing Network Design Spaces";
 * kuangliu/pytorch-cifar `RegNetX_200MF`, `RegNetY_400MF`, which DFL_torch copies unchanged):
 *
 *   x → conv1 3×3/1 (64) → BN → ReLU → layer1..layer4 → global average pool → linear
 *   Block(w_in → w, stride s, group width g_w):
 *     y = ReLU(BN₃(conv3 1×1(SE(ReLU(BN₂(conv2 3×3/s, groups w/g_w (ReLU(BN₁(conv1 1×1(x))))))))) + shortcut(x))
 *     SE(h) = h · σ(se2(ReLU(se1(avgpool(h))))),  se1: w → round(w_in·r), se2 back (1×1 convs with bias)
 *     shortcut = BN(conv 1×1/s (x)) when s ≠ 1 or w_in ≠ w, else x.
 *
 * Variants (config field `variant`, as pytorch-cifar's constructors):
 *   x200mf — depths 1, 1, 4, 7; widths 24, 56, 152, 368; group width 8; no SE
 *   y400mf — depths 1, 2, 7, 12; widths 32, 64, 160, 384; group width 16; SE ratio 0.25
 * (pytorch-cifar's RegNetY_400MF is its RegNetX_400MF plus SE; the paper's RegNetY-400MF has
 * depths 1, 3, 6, 6 and widths 48, 104, 208, 440: we follow pytorch-cifar, whose checkpoints we
 * import.) Strides 1, 1, 2, 2; bottleneck ratio 1. The SE width rounds w_in·r half to even, as
 * Python's round does.
 *
 * The width multiplier k (ours, for small CPU runs; 1 is pytorch-cifar) scales the stem to
 * round(64k), the group width to g = max(1, round(g_w·k)) and each stage width to a multiple of it,
 * g·max(1, round(w·k/g)), so the number of groups per layer stays about the same.
 * Names are pytorch-cifar's (`layer3.2.se.se1.weight`, `layer1.0.shortcut.1.running_var`,
 * `linear.bias`) without `num_batches_tracked`.
 *
 * Evaluation mode folds each BatchNorm into the convolution before it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { configRecord, positiveIntField, positiveNumberField } from '../config-fields.js';
import { convBnForward, type ConvBnUnit } from '../grouped-conv.js';
import { initFromSpec } from '../init.js';
import { affineLayer, applyForward, buildModelSpec, convBnLayer, denseForward, tensorOf, type LayerDecl } from '../model-spec.js';
import type { Architecture, ModelSpec, TensorMap } from '../types.js';

export const REGNET_VARIANTS = ['x200mf', 'y400mf'] as const;
export type RegNetVariant = (typeof REGNET_VARIANTS)[number];

export interface RegNetConfig {
  /** pytorch-cifar's constructor: `x200mf` (RegNetX_200MF, default) or `y400mf` (RegNetY_400MF, with SE). */
  readonly variant: RegNetVariant;
  /** Width multiplier k (default 1 = pytorch-cifar); scales the stem, group width and stage widths. */
  readonly width: number;
  /** Input channels (default 3). */
  readonly inputChannels: number;
  /** Input height and width (default 32). */
  readonly inputSize: number;
  /** Number of classes (default 10). */
  readonly classes: number;
}

const DEFAULTS: RegNetConfig = { variant: 'x200mf', width: 1, inputChannels: 3, inputSize: 32, classes: 10 };

interface VariantDesign {
  readonly depths: readonly number[];
  readonly widths: readonly number[];
  readonly groupWidth: number;
  readonly seRatio: number;
}

const DESIGNS: Readonly<Record<RegNetVariant, VariantDesign>> = {
  x200mf: { depths: [1, 1, 4, 7], widths: [24, 56, 152, 368], groupWidth: 8, seRatio: 0 },
  y400mf: { depths: [1, 2, 7, 12], widths: [32, 64, 160, 384], groupWidth: 16, seRatio: 0.25 },
};

const STRIDES = [1, 1, 2, 2] as const;

/** Python's round (half to even), which pytorch-cifar's SE width uses. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Stem width, group width and stage widths of a variant at width multiplier k. */
export function regNetWidths(variant: RegNetVariant, width: number): { stem: number; groupWidth: number; stages: number[] } {
  const d = DESIGNS[variant];
  const g = Math.max(1, Math.round(d.groupWidth * width));
  return { stem: Math.round(64 * width), groupWidth: g, stages: d.widths.map((w) => g * Math.max(1, Math.round((w * width) / g))) };
}

interface BlockGeometry {
  readonly prefix: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly stride: number;
  readonly groups: number;
  /** SE width (0: no SE). */
  readonly se: number;
}

function blocks(config: RegNetConfig): BlockGeometry[] {
  const d = DESIGNS[config.variant];
  const w = regNetWidths(config.variant, config.width);
  const out: BlockGeometry[] = [];
  let inChannels = w.stem;
  d.depths.forEach((depth, s) => {
    const c = w.stages[s] as number;
    for (let b = 0; b < depth; b++) {
      const se = d.seRatio > 0 ? roundHalfEven(inChannels * d.seRatio) : 0;
      out.push({ prefix: `layer${s + 1}.${b}`, inChannels, outChannels: c, stride: b === 0 ? STRIDES[s] as number : 1, groups: c / w.groupWidth, se });
      inChannels = c;
    }
  });
  return out;
}

const hasShortcut = (b: BlockGeometry) => b.stride !== 1 || b.inChannels !== b.outChannels;

function unit(conv: string, bn: string, stride: number, pad: number, groups: number, relu: boolean): ConvBnUnit {
  return { conv, bn, stride, pad, groups, relu };
}

function spec(config: RegNetConfig): ModelSpec {
  const w = regNetWidths(config.variant, config.width);
  const layers: LayerDecl[] = [convBnLayer('conv1', 'conv1', 'bn1', [3, 3, config.inputChannels, w.stem])];
  for (const b of blocks(config)) {
    const p = b.prefix;
    const c = b.outChannels;
    layers.push(convBnLayer(`${p}.conv1`, `${p}.conv1`, `${p}.bn1`, [1, 1, b.inChannels, c]));
    layers.push(convBnLayer(`${p}.conv2`, `${p}.conv2`, `${p}.bn2`, [3, 3, c / b.groups, c]));
    if (b.se > 0) layers.push(affineLayer(`${p}.se.se1`, [1, 1, c, b.se]), affineLayer(`${p}.se.se2`, [1, 1, b.se, c]));
    layers.push(convBnLayer(`${p}.conv3`, `${p}.conv3`, `${p}.bn3`, [1, 1, c, c]));
    if (hasShortcut(b)) layers.push(convBnLayer(`${p}.shortcut`, `${p}.shortcut.0`, `${p}.shortcut.1`, [1, 1, b.inChannels, c]));
  }
  const last = w.stages.at(-1) as number;
  layers.push(affineLayer('linear', [last, config.classes]));
  return buildModelSpec(layers, [config.inputSize, config.inputSize, config.inputChannels], config.classes);
}

/** SE(h) = h · σ(se2(ReLU(se1(mean over H, W of h)))). */
function squeezeExcite(h: tf.Tensor4D, params: TensorMap, p: string): tf.Tensor4D {
  const [n, , , c] = h.shape;
  const dense = (x: tf.Tensor2D, name: string) => {
    const k = tensorOf<tf.Rank.R4>(params, `${name}.weight`);
    return tf.add<tf.Tensor2D>(tf.matMul(x, tf.reshape(k, [k.shape[2], k.shape[3]])), tensorOf(params, `${name}.bias`));
  };
  const s = tf.sigmoid(dense(tf.relu(dense(tf.mean<tf.Tensor2D>(h, [1, 2]), `${p}.se.se1`)), `${p}.se.se2`));
  return tf.mul<tf.Tensor4D>(h, tf.reshape(s, [n, 1, 1, c]));
}

function blockForward(x: tf.Tensor4D, b: BlockGeometry, params: TensorMap, buffers: TensorMap, stats: Record<string, tf.Tensor> | undefined): tf.Tensor4D {
  const p = b.prefix;
  let h = convBnForward(x, params, buffers, unit(`${p}.conv1`, `${p}.bn1`, 1, 0, 1, true), stats);
  h = convBnForward(h, params, buffers, unit(`${p}.conv2`, `${p}.bn2`, b.stride, 1, b.groups, true), stats);
  if (b.se > 0) h = squeezeExcite(h, params, p);
  h = convBnForward(h, params, buffers, unit(`${p}.conv3`, `${p}.bn3`, 1, 0, 1, false), stats);
  const shortcut = hasShortcut(b) ? convBnForward(x, params, buffers, unit(`${p}.shortcut.0`, `${p}.shortcut.1`, b.stride, 0, 1, false), stats) : x;
  return tf.relu(tf.add(h, shortcut));
}

/** RegNet the model (spec, init, apply); `regnet` in index.ts adds its capabilities. */
export const regNetModel: Architecture<RegNetConfig> = {
  name: 'regnet',
  defaultConfig: DEFAULTS,

  parseConfig(raw) {
    const r = configRecord(raw, 'regnet', Object.keys(DEFAULTS));
    const variant = r.variant ?? DEFAULTS.variant;
    if (!REGNET_VARIANTS.includes(variant as RegNetVariant)) {
      throw new Error(`regnet config: variant must be one of ${REGNET_VARIANTS.join(', ')} (pytorch-cifar's RegNetX_200MF, RegNetY_400MF), found ${JSON.stringify(variant)}`);
    }
    const config: RegNetConfig = {
      variant: variant as RegNetVariant,
      width: positiveNumberField(r, 'width', DEFAULTS.width, 'regnet'),
      inputChannels: positiveIntField(r, 'inputChannels', DEFAULTS.inputChannels, 'regnet'),
      inputSize: positiveIntField(r, 'inputSize', DEFAULTS.inputSize, 'regnet'),
      classes: positiveIntField(r, 'classes', DEFAULTS.classes, 'regnet'),
    };
    const w = regNetWidths(config.variant, config.width);
    if (w.stem < 1) throw new Error(`regnet config: width ${config.width} gives a stem of round(64·k) = 0 channels; use k ≥ 1/128`);
    const noSe = blocks(config).find((b) => DESIGNS[config.variant].seRatio > 0 && b.se < 1);
    if (noSe !== undefined) throw new Error(`regnet config: width ${config.width} gives ${noSe.prefix} an SE layer of 0 channels (round(${noSe.inChannels}·0.25)); use a larger width`);
    return config;
  },

  spec,

  init: initFromSpec(spec),

  apply(config, state, x, options) {
    return applyForward(spec(config), 'regnet', state, x, options, ({ params, buffers, stats, sequence }) => {
      const stem = convBnForward(x, params, buffers, unit('conv1', 'bn1', 1, 1, 1, true), stats);
      const h = sequence(stem, blocks(config), (input, b) => blockForward(input, b, params, buffers, stats));
      return denseForward(tf.mean<tf.Tensor2D>(h, [1, 2]), params, 'linear');
    });
  },
};
