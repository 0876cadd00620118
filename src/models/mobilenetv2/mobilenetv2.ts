/**
 * MobileNetV2 in its two CIFAR forms (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and
 * Linear Bottlenecks"). An inverted residual block with expansion t, stride s:
 *
 *   h = act(BN₁(conv₁ 1×1 (x)))          expand C_in → t·C_in
 *   h = act(BN₂(dwconv₂ 3×3/s pad 1 (h))) depthwise, one filter per channel
 *   y = BN₃(conv₃ 1×1 (h)) (+ shortcut(x))  linear bottleneck t·C_in → C_out
 *
 * Two registered architectures, because the two ports differ in structure, not only in names:
 *
 *   `mobilenetv2`      kuangliu/pytorch-cifar `MobileNetV2()`: ReLU; (t, c, n, s) = (1,16,1,1)
 *                      (6,24,2,1) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1); a
 *                      shortcut on every stride-1 block (a 1×1 conv + BN when C_in ≠ C_out); names
 *                      `conv1, bn1, layers.N.{conv1,bn1,conv2,bn2,conv3,bn3,shortcut.0,shortcut.1},
 *                      conv2, bn2, linear`.
 *   `mobilenetv2-dfl`  the authors' twoentartian/DFL_torch `MobileNetV2(10)` (after
 *                      chenhang98/mobileNet-v2_cifar10): ReLU6; the same 17 blocks but stride 2
 *                      only at the first 64- and 160-channel blocks (8×8 final map); an identity
 *                      shortcut only where stride is 1 and C_in = C_out, never a conv; names
 *                      `conv0, bn0, bottlenecks.N.{conv1,bn1,conv2,bn2,conv3,bn3}, conv1, bn1, fc`.
 *
 * Both: stem conv 3×3/1 → 32, BN, act; head conv 1×1 → 1280, BN, act; global average pooling;
 * Linear. pytorch-cifar's avg_pool2d(4) is the global average for inputs of 25–32 pixels (a 4×4
 * final map), DFL_torch's adaptive_avg_pool2d(1) for every size. The width multiplier k makes every
 * channel count c (stem, block outputs, head) round(c·k), and a block's expansion t·C_in of its
 * scaled input; k = 1 is each repository's model (chenhang98's own alpha uses int(α·c) and keeps
 * the head at 1280; DFL_torch uses α = 1). Depthwise kernels are stored as HWIO [3, 3, 1, C]
 * (PyTorch's grouped-conv weight [C, 1, 3, 3] in our generic layout) and applied as [3, 3, C, 1].
 *
 * Layer groups: each conv with its BN (`conv1`, `layers.3.conv2`, `layers.3.shortcut`, …) and the
 * classifier. With k = 1 and 10 classes pytorch-cifar's has 2,296,922 parameters, DFL_torch's
 * 2,237,770 (PyTorch's counts, recorded in the fixtures). Evaluation mode folds each BN into its conv.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, foldBatchNorm } from '../batch-norm.js';
import { configRecord, positiveIntField, positiveNumberField } from '../config-fields.js';
import { initFromSpec } from '../init.js';
import { affineLayer, applyForward, buildModelSpec, convBnLayer, denseForward, tensorOf, type LayerDecl } from '../model-spec.js';
import type { Architecture, ModelSpec, TensorMap } from '../types.js';

export interface MobileNetV2Config {
  /** Width multiplier k: every channel count c becomes round(c·k) (default 1). */
  readonly width: number;
  /** Input channels (default 3). */
  readonly inputChannels: number;
  /** Input height and width (default 32). */
  readonly inputSize: number;
  /** Number of classes (default 10). */
  readonly classes: number;
}

const DEFAULTS: MobileNetV2Config = { width: 1, inputChannels: 3, inputSize: 32, classes: 10 };

/** One inverted residual block's geometry. */
export interface InvertedResidual {
  /** Name prefix: `layers.N` or `bottlenecks.N`. */
  readonly prefix: string;
  /** The (t, c, n, s) row of the table the block belongs to, 0–6. */
  readonly row: number;
  readonly inChannels: number;
  /** Expansion channels t·C_in. */
  readonly planes: number;
  readonly outChannels: number;
  readonly stride: 1 | 2;
  /** none, y + x, or y + BN(conv 1×1 (x)). */
  readonly shortcut: 'none' | 'identity' | 'conv';
}

/** How one port names and builds the network. */
export interface MobileNetV2Variant {
  readonly name: 'mobilenetv2' | 'mobilenetv2-dfl';
  readonly stem: { readonly conv: string; readonly bn: string };
  readonly head: { readonly conv: string; readonly bn: string };
  readonly classifier: string;
  readonly activation: 'relu' | 'relu6';
  /** Blocks prefix (`layers`, `bottlenecks`). */
  readonly blocks: string;
  /** Stride of block j of row r at k = 1 (rows as in the table above). */
  stride(row: number, j: number): 1 | 2;
  /** The shortcut of a block with these channels and stride. */
  shortcut(inChannels: number, outChannels: number, stride: 1 | 2): InvertedResidual['shortcut'];
}

/** (t, c, n) of the seven rows; strides are the variant's. */
const ROWS: readonly (readonly [number, number, number])[] = [
  [1, 16, 1],
  [6, 24, 2],
  [6, 32, 3],
  [6, 64, 4],
  [6, 96, 3],
  [6, 160, 3],
  [6, 320, 1],
];
const PYTORCH_CIFAR_STRIDES = [1, 1, 2, 2, 1, 2, 1] as const;
/** Rows whose first block DFL_torch downsamples (64 and 160 channels). */
const DFL_DOWNSAMPLE_ROWS = new Set([3, 5]);

export const PYTORCH_CIFAR_VARIANT: MobileNetV2Variant = {
  name: 'mobilenetv2',
  stem: { conv: 'conv1', bn: 'bn1' },
  head: { conv: 'conv2', bn: 'bn2' },
  classifier: 'linear',
  activation: 'relu',
  blocks: 'layers',
  stride: (row, j) => (j === 0 ? (PYTORCH_CIFAR_STRIDES[row] ?? 1) : 1),
  shortcut: (cin, cout, stride) => (stride !== 1 ? 'none' : cin === cout ? 'identity' : 'conv'),
};

export const DFL_VARIANT: MobileNetV2Variant = {
  name: 'mobilenetv2-dfl',
  stem: { conv: 'conv0', bn: 'bn0' },
  head: { conv: 'conv1', bn: 'bn1' },
  classifier: 'fc',
  activation: 'relu6',
  blocks: 'bottlenecks',
  stride: (row, j) => (j === 0 && DFL_DOWNSAMPLE_ROWS.has(row) ? 2 : 1),
  shortcut: (cin, cout, stride) => (stride === 1 && cin === cout ? 'identity' : 'none'),
};

const scaled = (c: number, width: number) => Math.round(c * width);

/** The 17 blocks of a variant at width k, input side first. */
export function invertedResiduals(variant: MobileNetV2Variant, width: number): InvertedResidual[] {
  const out: InvertedResidual[] = [];
  let inChannels = scaled(32, width);
  ROWS.forEach(([t, c, n], row) => {
    const outChannels = scaled(c, width);
    for (let j = 0; j < n; j++) {
      const stride = variant.stride(row, j);
      out.push({ prefix: `${variant.blocks}.${out.length}`, row, inChannels, planes: t * inChannels, outChannels, stride, shortcut: variant.shortcut(inChannels, outChannels, stride) });
      inChannels = outChannels;
    }
  });
  return out;
}

/** The block row (0–6) of block index N, the same at every width. */
export function rowOfBlock(index: number): number | undefined {
  let seen = 0;
  for (let row = 0; row < ROWS.length; row++) {
    seen += (ROWS[row] as readonly number[])[2] as number;
    if (index < seen) return row;
  }
  return undefined;
}

/** Head channels round(1280·k). */
export function headChannels(width: number): number {
  return scaled(1280, width);
}

function specOf(variant: MobileNetV2Variant, config: MobileNetV2Config): ModelSpec {
  const stem = scaled(32, config.width);
  const layers: LayerDecl[] = [convBnLayer(variant.stem.conv, variant.stem.conv, variant.stem.bn, [3, 3, config.inputChannels, stem])];
  const blocks = invertedResiduals(variant, config.width);
  for (const b of blocks) {
    const p = b.prefix;
    layers.push(convBnLayer(`${p}.conv1`, `${p}.conv1`, `${p}.bn1`, [1, 1, b.inChannels, b.planes]));
    layers.push(convBnLayer(`${p}.conv2`, `${p}.conv2`, `${p}.bn2`, [3, 3, 1, b.planes]));
    layers.push(convBnLayer(`${p}.conv3`, `${p}.conv3`, `${p}.bn3`, [1, 1, b.planes, b.outChannels]));
    if (b.shortcut === 'conv') layers.push(convBnLayer(`${p}.shortcut`, `${p}.shortcut.0`, `${p}.shortcut.1`, [1, 1, b.inChannels, b.outChannels]));
  }
  const head = headChannels(config.width);
  layers.push(convBnLayer(variant.head.conv, variant.head.conv, variant.head.bn, [1, 1, (blocks.at(-1) as InvertedResidual).outChannels, head]));
  const fc = variant.classifier;
  layers.push(affineLayer(fc, [head, config.classes]));
  return buildModelSpec(layers, [config.inputSize, config.inputSize, config.inputChannels], config.classes);
}

type Activation = 'relu' | 'relu6' | 'linear';

/**
 * conv (or depthwise conv) → BN (→ activation). Training: BN with batch statistics, recorded under
 * the BN's buffer names. Evaluation: BN folded into one fused conv with bias and activation.
 */
function convBnForward(
  x: tf.Tensor4D,
  state: { params: TensorMap; buffers: TensorMap },
  conv: string,
  bn: string,
  stride: 1 | 2,
  depthwise: boolean,
  activation: Activation,
  stats: Record<string, tf.Tensor> | undefined,
): tf.Tensor4D {
  const kernel = tensorOf<tf.Rank.R4>(state.params, `${conv}.weight`);
  // PyTorch pads 3×3 convs by 1 on every side; for stride 1 that is 'same', for stride 2 it is not.
  const pad = kernel.shape[0] === 1 ? 'valid' : stride === 1 ? 'same' : 1;
  const gamma = tensorOf<tf.Rank.R1>(state.params, `${bn}.weight`);
  const beta = tensorOf<tf.Rank.R1>(state.params, `${bn}.bias`);
  const asDepthwise = (k: tf.Tensor4D) => tf.reshape<tf.Rank.R4>(k, [k.shape[0], k.shape[1], k.shape[3], 1]);
  if (stats !== undefined) {
    const h = depthwise ? tf.depthwiseConv2d(x, asDepthwise(kernel), stride, pad) : tf.conv2d(x, kernel, stride, pad);
    const { y, mean, variance } = batchNormTrain(h, gamma, beta, bn);
    stats[`${bn}.running_mean`] = mean;
    stats[`${bn}.running_var`] = variance;
    return activation === 'relu' ? tf.relu(y) : activation === 'relu6' ? tf.relu6(y) : y;
  }
  const folded = foldBatchNorm(kernel, gamma, beta, tensorOf(state.buffers, `${bn}.running_mean`), tensorOf(state.buffers, `${bn}.running_var`));
  if (depthwise) return tf.fused.depthwiseConv2d({ x, filter: asDepthwise(folded.kernel), strides: stride, pad, bias: folded.bias, activation });
  return tf.fused.conv2d({ x, filter: folded.kernel, strides: stride, pad, bias: folded.bias, activation });
}

/** MobileNetV2 of one port, the model (spec, init, apply); index.ts adds the capabilities. */
export function mobileNetV2Model(variant: MobileNetV2Variant): Architecture<MobileNetV2Config> {
  const name = variant.name;
  const spec = (config: MobileNetV2Config) => specOf(variant, config);
  return {
    name,
    defaultConfig: DEFAULTS,

    parseConfig(raw) {
      const r = configRecord(raw, name, Object.keys(DEFAULTS));
      const config: MobileNetV2Config = {
        width: positiveNumberField(r, 'width', DEFAULTS.width, name),
        inputChannels: positiveIntField(r, 'inputChannels', DEFAULTS.inputChannels, name),
        inputSize: positiveIntField(r, 'inputSize', DEFAULTS.inputSize, name),
        classes: positiveIntField(r, 'classes', DEFAULTS.classes, name),
      };
      if (scaled(16, config.width) < 1) throw new Error(`${name} config: width ${config.width} gives round(16·k) = 0 channels; use k ≥ 1/32`);
      if (config.inputSize < 8) throw new Error(`${name} config: inputSize must be at least 8, found ${config.inputSize}`);
      return config;
    },

    spec,

    init: initFromSpec(spec),

    apply(config, state, x, options) {
      const act = variant.activation;
      return applyForward(spec(config), name, state, x, options, ({ stats, sequence }) => {
        let h = convBnForward(x, state, variant.stem.conv, variant.stem.bn, 1, false, act, stats);
        h = sequence(h, invertedResiduals(variant, config.width), (input, b) => {
          const p = b.prefix;
          // Spec order (conv1, conv2, conv3, shortcut) so that batchStats lists buffers in spec order.
          const expanded = convBnForward(input, state, `${p}.conv1`, `${p}.bn1`, 1, false, act, stats);
          const filtered = convBnForward(expanded, state, `${p}.conv2`, `${p}.bn2`, b.stride, true, act, stats);
          const projected = convBnForward(filtered, state, `${p}.conv3`, `${p}.bn3`, 1, false, 'linear', stats);
          if (b.shortcut === 'identity') return tf.add(projected, input);
          if (b.shortcut === 'conv') return tf.add(projected, convBnForward(input, state, `${p}.shortcut.0`, `${p}.shortcut.1`, 1, false, 'linear', stats));
          return projected;
        });
        h = convBnForward(h, state, variant.head.conv, variant.head.bn, 1, false, act, stats);
        return denseForward(tf.mean<tf.Tensor2D>(h, [1, 2]), state.params, variant.classifier);
      });
    },
  };
}
