/**
 * ShuffleNet (v1) in DFL_torch's CIFAR form (Zhang et al. 2018, "ShuffleNet: An Extremely
 * Efficient Convolutional Neural Network for Mobile Devices"; twoentartian/DFL_torch
 * `ShuffleNet(output_size, scale_factor, g)`, after chenhang98/shuffleNet-cifar10, the model Tian
 * et al. call ShuffleNet with g = 1):
 *
 *   x → conv1 3×3/1 (24) → BN → ReLU → stage2, stage3, stage4 → global average pool → fc
 *   stage s = one pool unit + n_s identity units, (n₂, n₃, n₄) = (3, 7, 3)
 *   unit(c → c′): B(x) = gconv1 1×1 (g groups) → BN → ReLU → shuffle_g → dwconv 3×3 depthwise → BN
 *                        → gconv2 1×1 (g groups) → BN, with the bottleneck m = ⌊c′/4⌋ channels
 *   identity unit (c → c):  ReLU(B(x) + x)
 *   pool unit (c → c′):     ReLU(cat(B(x), avgpool₂ₓ₂(x))), B writing c′ − c channels; stage2's
 *                           has stride 1 and no pooling (cat(B(x), x)) and an ungrouped gconv1
 *   shuffle_g: y[i·g + a] = z[a·(m/g) + i], the transpose of the g groups of m/g channels.
 *
 * Widths: the stem has 24 channels; stage2 c₂ = ⌊k · w_g⌋ with w = {1: 144, 2: 200, 3: 240,
 * 4: 272, 8: 384} and k DFL_torch's `scale_factor`, stage3 2c₂, stage4 4c₂. The groups must divide
 * every grouped width (c₂ and the bottlenecks ⌊c₂/4⌋, ⌊c₂/2⌋; DFL_torch asserts the same, "wrong
 * shape to shuffle"), and the input size must be a multiple of 4 (each strided unit concatenates
 * its stride-2 branch, ⌈h/2⌉ rows, with the 2×2 pooled input, ⌊h/2⌋). Names are DFL_torch's
 * (`stage3.0.dwconv.weight`, `stage2.1.bn.running_var`, `fc.weight`) without
 * `num_batches_tracked`. g = 1, k = 1, 10 classes has 960,706 parameters.
 *
 * Evaluation mode folds each BatchNorm into the convolution before it (plain, grouped, depthwise).
 */
import * as tf from '@tensorflow/tfjs-core';
import { configRecord, positiveIntField, positiveNumberField } from '../config-fields.js';
import { convBnForward, type ConvBnUnit } from '../grouped-conv.js';
import { initFromSpec } from '../init.js';
import { affineLayer, applyForward, buildModelSpec, convBnLayer, denseForward, type LayerDecl } from '../model-spec.js';
import type { Architecture, ModelSpec, TensorMap } from '../types.js';

/** The groups g DFL_torch defines a stage-2 width for. */
export const SHUFFLENET_GROUPS = [1, 2, 3, 4, 8] as const;
export type ShuffleNetGroups = (typeof SHUFFLENET_GROUPS)[number];

/** DFL_torch's stage-2 widths per g at scale factor 1 (the paper's Table 1 with 144 for g = 1). */
export const SHUFFLENET_STAGE2_WIDTHS: Readonly<Record<ShuffleNetGroups, number>> = { 1: 144, 2: 200, 3: 240, 4: 272, 8: 384 };

/** Identity units after each stage's pool unit (stage2, stage3, stage4). */
export const SHUFFLENET_UNITS = [3, 7, 3] as const;

/** The stem's channels (every g and scale factor). */
export const SHUFFLENET_STEM = 24;

export interface ShuffleNetConfig {
  /** Groups g of the 1×1 convolutions and of the shuffle: 1, 2, 3, 4 or 8 (default 1, as Tian et al.). */
  readonly groups: ShuffleNetGroups;
  /** DFL_torch's `scale_factor` k: stage widths ⌊k·w_g⌋, 2⌊k·w_g⌋, 4⌊k·w_g⌋ (default 1). */
  readonly scaleFactor: number;
  /** Input channels (default 3). */
  readonly inputChannels: number;
  /** Input height and width, a multiple of 4 (default 32). */
  readonly inputSize: number;
  /** Number of classes (default 10). */
  readonly classes: number;
}

const DEFAULTS: ShuffleNetConfig = { groups: 1, scaleFactor: 1, inputChannels: 3, inputSize: 32, classes: 10 };

/** The stage widths [c₂, c₃, c₄] = [⌊k·w_g⌋, 2⌊k·w_g⌋, 4⌊k·w_g⌋] (DFL_torch's `int(scale_factor * c2)`). */
export function shuffleNetWidths(groups: ShuffleNetGroups, scaleFactor: number): [number, number, number] {
  const c2 = Math.floor(scaleFactor * SHUFFLENET_STAGE2_WIDTHS[groups]);
  return [c2, 2 * c2, 4 * c2];
}

/** One unit's geometry; `pool` is a stage's first unit. */
interface UnitGeometry {
  readonly prefix: string;
  readonly stage: number;
  readonly pool: boolean;
  readonly inChannels: number;
  readonly outChannels: number;
}

function unitGeometries(config: ShuffleNetConfig): UnitGeometry[] {
  const widths = shuffleNetWidths(config.groups, config.scaleFactor);
  const out: UnitGeometry[] = [];
  let inChannels = SHUFFLENET_STEM;
  SHUFFLENET_UNITS.forEach((n, i) => {
    const stage = i + 2;
    const c = widths[i] as number;
    out.push({ prefix: `stage${stage}.0`, stage, pool: true, inChannels, outChannels: c });
    for (let b = 1; b <= n; b++) out.push({ prefix: `stage${stage}.${b}`, stage, pool: false, inChannels: c, outChannels: c });
    inChannels = c;
  });
  return out;
}

/** A conv → BN unit with its kernel geometry. */
interface ConvGeometry extends ConvBnUnit {
  readonly kernel: number;
  readonly inChannels: number;
  readonly outChannels: number;
}

/** The three conv → BN layers of a unit (gconv1 + bn1, dwconv + bn, gconv2 + bn2) and its bottleneck width. */
function convs(u: UnitGeometry, groups: number): [ConvGeometry, ConvGeometry, ConvGeometry] {
  const neck = Math.floor(u.outChannels / 4);
  const branchOut = u.pool ? u.outChannels - u.inChannels : u.outChannels;
  const p = u.prefix;
  const firstStage = u.stage === 2;
  return [
    { conv: `${p}.gconv1`, bn: `${p}.bn1`, kernel: 1, inChannels: u.inChannels, outChannels: neck, stride: 1, pad: 0, groups: u.pool && firstStage ? 1 : groups, relu: true },
    { conv: `${p}.dwconv`, bn: `${p}.bn`, kernel: 3, inChannels: neck, outChannels: neck, stride: u.pool && !firstStage ? 2 : 1, pad: 1, groups: neck, relu: false },
    { conv: `${p}.gconv2`, bn: `${p}.bn2`, kernel: 1, inChannels: neck, outChannels: branchOut, stride: 1, pad: 0, groups, relu: false },
  ];
}

const STEM: Omit<ConvGeometry, 'inChannels'> = { conv: 'conv1', bn: 'bn1', kernel: 3, outChannels: SHUFFLENET_STEM, stride: 1, pad: 1, groups: 1, relu: true };

function convBnDecl(c: ConvGeometry): LayerDecl {
  return convBnLayer(c.conv, c.conv, c.bn, [c.kernel, c.kernel, c.inChannels / c.groups, c.outChannels]);
}

function spec(config: ShuffleNetConfig): ModelSpec {
  const layers: LayerDecl[] = [convBnDecl({ ...STEM, inChannels: config.inputChannels })];
  for (const u of unitGeometries(config)) layers.push(...convs(u, config.groups).map(convBnDecl));
  const head = 4 * shuffleNetWidths(config.groups, config.scaleFactor)[0];
  layers.push(affineLayer('fc', [head, config.classes]));
  return buildModelSpec(layers, [config.inputSize, config.inputSize, config.inputChannels], config.classes);
}

/** shuffle_g on NHWC: channel a·(C/g) + i goes to i·g + a. */
function channelShuffle(x: tf.Tensor4D, groups: number): tf.Tensor4D {
  if (groups === 1) return x;
  const [n, h, w, c] = x.shape;
  return tf.reshape(tf.transpose(tf.reshape(x, [n, h, w, groups, c / groups]), [0, 1, 2, 4, 3]), [n, h, w, c]);
}

function unitForward(x: tf.Tensor4D, u: UnitGeometry, groups: number, params: TensorMap, buffers: TensorMap, stats: Record<string, tf.Tensor> | undefined): tf.Tensor4D {
  const [first, depthwise, last] = convs(u, groups);
  const hidden = channelShuffle(convBnForward(x, params, buffers, first, stats), groups);
  const branch = convBnForward(convBnForward(hidden, params, buffers, depthwise, stats), params, buffers, last, stats);
  if (!u.pool) return tf.relu(tf.add(branch, x));
  const shortcut = u.stage === 2 ? x : tf.avgPool(x, 2, 2, 'valid');
  return tf.relu(tf.concat([branch, shortcut], 3));
}

/** The first violated divisibility or size constraint of a config (module comment), or undefined. */
function configProblem(config: ShuffleNetConfig): string | undefined {
  const g = config.groups;
  const [c2] = shuffleNetWidths(g, config.scaleFactor);
  const where = `scaleFactor ${config.scaleFactor} with groups ${g} gives stage widths ${shuffleNetWidths(g, config.scaleFactor).join(', ')}`;
  if (c2 <= SHUFFLENET_STEM) return `${where}; stage2 must be wider than the ${SHUFFLENET_STEM}-channel stem it concatenates (scaleFactor > ${SHUFFLENET_STEM}/${SHUFFLENET_STAGE2_WIDTHS[g]})`;
  const grouped = [c2, Math.floor(c2 / 4), Math.floor(c2 / 2)];
  if (grouped.some((c) => c % g !== 0)) {
    return `${where} and bottlenecks ${grouped.slice(1).join(', ')}; groups ${g} must divide ${grouped.join(', ')} (DFL_torch: "wrong shape to shuffle")`;
  }
  if (config.inputSize % 4 !== 0) return `inputSize ${config.inputSize} is not a multiple of 4 (each strided unit concatenates a stride-2 conv's output with a 2×2 pool of its input)`;
  return undefined;
}

/** ShuffleNet the model (spec, init, apply); `shufflenet` in index.ts adds its capabilities. */
export const shuffleNetModel: Architecture<ShuffleNetConfig> = {
  name: 'shufflenet',
  defaultConfig: DEFAULTS,

  parseConfig(raw) {
    const r = configRecord(raw, 'shufflenet', Object.keys(DEFAULTS));
    const groups = r.groups ?? DEFAULTS.groups;
    if (!SHUFFLENET_GROUPS.includes(groups as ShuffleNetGroups)) {
      throw new Error(`shufflenet config: groups must be one of ${SHUFFLENET_GROUPS.join(', ')} (DFL_torch's g), found ${JSON.stringify(groups)}`);
    }
    const config: ShuffleNetConfig = {
      groups: groups as ShuffleNetGroups,
      scaleFactor: positiveNumberField(r, 'scaleFactor', DEFAULTS.scaleFactor, 'shufflenet'),
      inputChannels: positiveIntField(r, 'inputChannels', DEFAULTS.inputChannels, 'shufflenet'),
      inputSize: positiveIntField(r, 'inputSize', DEFAULTS.inputSize, 'shufflenet'),
      classes: positiveIntField(r, 'classes', DEFAULTS.classes, 'shufflenet'),
    };
    const problem = configProblem(config);
    if (problem !== undefined) throw new Error(`shufflenet config: ${problem}`);
    return config;
  },

  spec,

  init: initFromSpec(spec),

  apply(config, state, x, options) {
    return applyForward(spec(config), 'shufflenet', state, x, options, ({ params, buffers, stats, sequence }) => {
      const stem = convBnForward(x, params, buffers, STEM, stats);
      const h = sequence(stem, unitGeometries(config), (input, u) => unitForward(input, u, config.groups, params, buffers, stats));
      return denseForward(tf.mean<tf.Tensor2D>(h, [1, 2]), params, 'fc');
    });
  },
};
