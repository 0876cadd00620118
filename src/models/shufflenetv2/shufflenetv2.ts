/**
 * ShuffleNetV2 in its CIFAR form (Ma et al. 2018, "ShuffleNet V2: Practical Guidelines for
 * Efficient CNN Architecture Design"; kuangliu/pytorch-cifar `ShuffleNetV2(net_size)`):
 *
 *   x → conv1 3×3/1 → BN → ReLU → layer1..layer3 → conv2 1×1 → BN → ReLU → global average pool → linear
 *   layer s = one DownBlock (stride 2) + n_s BasicBlocks, (n₁, n₂, n₃) = (3, 7, 3)
 *   BasicBlock(c):  x → (x₁, x₂) = split(x) (halves) → shuffle(cat(x₁, R(x₂)))
 *                   R = conv1 1×1 → BN → ReLU → conv2 3×3 depthwise → BN → conv3 1×1 → BN → ReLU
 *   DownBlock(c → c'): shuffle(cat(L(x), R(x))), m = c'/2 channels each,
 *                   L = conv1 3×3/2 depthwise → BN → conv2 1×1 (c → m) → BN → ReLU
 *                   R = conv3 1×1 (c → m) → BN → ReLU → conv4 3×3/2 depthwise → BN → conv5 1×1 → BN → ReLU
 *   shuffle (2 groups): y[2i + a] = z[a·C/2 + i], the channel interleave of the two halves.
 *
 * Widths: the stem has 24 channels for every net size; `netSize` picks pytorch-cifar's stage and
 * head widths (0.5: 48, 96, 192 | 1024; 1: 116, 232, 464 | 1024; 1.5: 176, 352, 704 | 1024;
 * 2: 224, 488, 976 | 2048). The width multiplier k (ours, for small CPU runs; 1 is pytorch-cifar)
 * scales them: stem round(24k), stage widths 2·round(c·k/2) (even, as split and shuffle need),
 * head round(c·k). Names are pytorch-cifar's (`layer2.0.conv4.weight`, `bn2.running_var`,
 * `linear.weight`) without `num_batches_tracked`. pytorch-cifar pools with avg_pool2d(·, 4), which
 * is the global average at its 32×32 inputs (a 4×4 map); we pool globally at every input size.
 * netSize 1 (k = 1, 10 classes) has 1,263,854 parameters.
 *
 * Evaluation mode folds each BatchNorm into the convolution before it (plain and depthwise).
 */
import * as tf from '@tensorflow/tfjs-core';
import { configRecord, positiveIntField, positiveNumberField } from '../config-fields.js';
import { convBnForward, type ConvBnUnit } from '../grouped-conv.js';
import { initFromSpec } from '../init.js';
import { affineLayer, applyForward, buildModelSpec, convBnLayer, denseForward, type LayerDecl } from '../model-spec.js';
import type { Architecture, ModelSpec, TensorMap } from '../types.js';

/** pytorch-cifar's net sizes. */
export const SHUFFLENETV2_NET_SIZES = [0.5, 1, 1.5, 2] as const;
export type ShuffleNetV2NetSize = (typeof SHUFFLENETV2_NET_SIZES)[number];

export interface ShuffleNetV2Config {
  /** pytorch-cifar's `net_size`: 0.5, 1, 1.5 or 2 (default 1); picks the stage and head widths. */
  readonly netSize: ShuffleNetV2NetSize;
  /** Width multiplier k on every width (default 1 = pytorch-cifar); for small CPU runs. */
  readonly width: number;
  /** Input channels (default 3). */
  readonly inputChannels: number;
  /** Input height and width (default 32). */
  readonly inputSize: number;
  /** Number of classes (default 10). */
  readonly classes: number;
}

const DEFAULTS: ShuffleNetV2Config = { netSize: 1, width: 1, inputChannels: 3, inputSize: 32, classes: 10 };

const BASE_WIDTHS: Readonly<Record<ShuffleNetV2NetSize, readonly [number, number, number, number]>> = {
  0.5: [48, 96, 192, 1024],
  1: [116, 232, 464, 1024],
  1.5: [176, 352, 704, 1024],
  2: [224, 488, 976, 2048],
};

/** Basic blocks after the DownBlock of each stage (every net size). */
export const SHUFFLENETV2_BLOCKS = [3, 7, 3] as const;

/** The widths [stem, stage 1, stage 2, stage 3, head] for a net size and width multiplier k. */
export function shuffleNetV2Widths(netSize: ShuffleNetV2NetSize, width: number): [number, number, number, number, number] {
  const [s1, s2, s3, head] = BASE_WIDTHS[netSize];
  const even = (c: number) => 2 * Math.round((c * width) / 2);
  return [Math.round(24 * width), even(s1), even(s2), even(s3), Math.round(head * width)];
}

/** One block's geometry: `down` is the stage's first block (a DownBlock). */
interface BlockGeometry {
  readonly prefix: string;
  readonly down: boolean;
  readonly inChannels: number;
  readonly outChannels: number;
}

function blocks(config: ShuffleNetV2Config): BlockGeometry[] {
  const widths = shuffleNetV2Widths(config.netSize, config.width);
  const out: BlockGeometry[] = [];
  let inChannels = widths[0];
  SHUFFLENETV2_BLOCKS.forEach((n, s) => {
    const c = widths[s + 1] as number;
    out.push({ prefix: `layer${s + 1}.0`, down: true, inChannels, outChannels: c });
    for (let b = 1; b <= n; b++) out.push({ prefix: `layer${s + 1}.${b}`, down: false, inChannels: c, outChannels: c });
    inChannels = c;
  });
  return out;
}

/** A unit's conv geometry: name prefix, kernel size, input/output channels, groups. */
interface UnitGeometry extends ConvBnUnit {
  readonly group: string;
  readonly kernel: number;
  readonly inChannels: number;
  readonly outChannels: number;
}

function unit(group: string, bn: string, kernel: number, cin: number, cout: number, options: { stride?: number; depthwise?: boolean; relu: boolean }): UnitGeometry {
  return {
    group,
    conv: group,
    bn,
    kernel,
    inChannels: cin,
    outChannels: cout,
    stride: options.stride ?? 1,
    pad: kernel === 3 ? 1 : 0,
    groups: options.depthwise === true ? cin : 1,
    relu: options.relu,
  };
}

/** A block's conv → BN units in module (state-dict) order. */
function blockUnits(b: BlockGeometry): UnitGeometry[] {
  const p = b.prefix;
  if (b.down) {
    const m = b.outChannels / 2;
    const c = b.inChannels;
    return [
      unit(`${p}.conv1`, `${p}.bn1`, 3, c, c, { stride: 2, depthwise: true, relu: false }),
      unit(`${p}.conv2`, `${p}.bn2`, 1, c, m, { relu: true }),
      unit(`${p}.conv3`, `${p}.bn3`, 1, c, m, { relu: true }),
      unit(`${p}.conv4`, `${p}.bn4`, 3, m, m, { stride: 2, depthwise: true, relu: false }),
      unit(`${p}.conv5`, `${p}.bn5`, 1, m, m, { relu: true }),
    ];
  }
  const h = b.outChannels / 2;
  return [
    unit(`${p}.conv1`, `${p}.bn1`, 1, h, h, { relu: true }),
    unit(`${p}.conv2`, `${p}.bn2`, 3, h, h, { depthwise: true, relu: false }),
    unit(`${p}.conv3`, `${p}.bn3`, 1, h, h, { relu: true }),
  ];
}

function stemUnit(config: ShuffleNetV2Config): UnitGeometry {
  return unit('conv1', 'bn1', 3, config.inputChannels, shuffleNetV2Widths(config.netSize, config.width)[0], { relu: true });
}

function headUnit(config: ShuffleNetV2Config): UnitGeometry {
  const widths = shuffleNetV2Widths(config.netSize, config.width);
  return unit('conv2', 'bn2', 1, widths[3], widths[4], { relu: true });
}

function convBnDecl(u: UnitGeometry): LayerDecl {
  return convBnLayer(u.group, u.conv, u.bn, [u.kernel, u.kernel, u.inChannels / u.groups, u.outChannels]);
}

function spec(config: ShuffleNetV2Config): ModelSpec {
  const head = headUnit(config);
  const layers: LayerDecl[] = [convBnDecl(stemUnit(config))];
  for (const b of blocks(config)) layers.push(...blockUnits(b).map(convBnDecl));
  layers.push(convBnDecl(head));
  layers.push(affineLayer('linear', [head.outChannels, config.classes]));
  return buildModelSpec(layers, [config.inputSize, config.inputSize, config.inputChannels], config.classes);
}

/** shuffle(cat(a, b)) with 2 groups: channel 2i is a[i], channel 2i + 1 is b[i]. */
function concatShuffle(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = a.shape;
  return tf.reshape(tf.stack([a, b], 4), [n, h, w, 2 * c]);
}

function blockForward(x: tf.Tensor4D, b: BlockGeometry, params: TensorMap, buffers: TensorMap, stats: Record<string, tf.Tensor> | undefined): tf.Tensor4D {
  const units = blockUnits(b);
  const run = (h: tf.Tensor4D, i: number) => convBnForward(h, params, buffers, units[i] as UnitGeometry, stats);
  if (b.down) {
    // Module order (left branch, then right) keeps batchStats in spec order.
    const left = run(run(x, 0), 1);
    const right = run(run(run(x, 2), 3), 4);
    return concatShuffle(left, right);
  }
  const [x1, x2] = tf.split(x, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
  return concatShuffle(x1, run(run(run(x2, 0), 1), 2));
}

/** ShuffleNetV2 the model (spec, init, apply); `shufflenetv2` in index.ts adds its capabilities. */
export const shuffleNetV2Model: Architecture<ShuffleNetV2Config> = {
  name: 'shufflenetv2',
  defaultConfig: DEFAULTS,

  parseConfig(raw) {
    const r = configRecord(raw, 'shufflenetv2', Object.keys(DEFAULTS));
    const netSize = r.netSize ?? DEFAULTS.netSize;
    if (!SHUFFLENETV2_NET_SIZES.includes(netSize as ShuffleNetV2NetSize)) {
      throw new Error(`shufflenetv2 config: netSize must be one of ${SHUFFLENETV2_NET_SIZES.join(', ')} (pytorch-cifar's net_size), found ${JSON.stringify(netSize)}`);
    }
    const config: ShuffleNetV2Config = {
      netSize: netSize as ShuffleNetV2NetSize,
      width: positiveNumberField(r, 'width', DEFAULTS.width, 'shufflenetv2'),
      inputChannels: positiveIntField(r, 'inputChannels', DEFAULTS.inputChannels, 'shufflenetv2'),
      inputSize: positiveIntField(r, 'inputSize', DEFAULTS.inputSize, 'shufflenetv2'),
      classes: positiveIntField(r, 'classes', DEFAULTS.classes, 'shufflenetv2'),
    };
    const widths = shuffleNetV2Widths(config.netSize, config.width);
    if (widths.some((w) => w < 1)) {
      throw new Error(`shufflenetv2 config: width ${config.width} gives a layer of 0 channels (widths ${widths.join(', ')} for netSize ${config.netSize}); use a larger width`);
    }
    return config;
  },

  spec,

  init: initFromSpec(spec),

  apply(config, state, x, options) {
    return applyForward(spec(config), 'shufflenetv2', state, x, options, ({ params, buffers, stats, sequence }) => {
      let h = convBnForward(x, params, buffers, stemUnit(config), stats);
      h = sequence(h, blocks(config), (input, b) => blockForward(input, b, params, buffers, stats));
      h = convBnForward(h, params, buffers, headUnit(config), stats);
      return denseForward(tf.mean<tf.Tensor2D>(h, [1, 2]), params, 'linear');
    });
  },
};
