/**
 * Deep Layer Aggregation in its CIFAR form (Yu, Wang, Shelhamer, Darrell 2018, "Deep Layer
 * Aggregation"), as kuangliu/pytorch-cifar's `DLA` (models/dla.py; twoentartian/DFL_torch's
 * dla_cifar.py is the same file) and `SimpleDLA` (models/dla_simple.py), chosen by the config field
 * `variant: 'dla' | 'simple'` of the one registered architecture `dla`:
 *
 *   x → base, layer1, layer2 (conv 3×3 → BN → ReLU; 16, 16, 32 channels)
 *     → layer3 Tree(32→64, level 1) → layer4 Tree(64→128, level 2, stride 2)
 *     → layer5 Tree(128→256, level 2, stride 2) → layer6 Tree(256→512, level 1, stride 2)
 *     → average pool → linear
 *   BasicBlock (left_node, right_node, prev_root; SimpleDLA's leaves): ResNet's,
 *     y = ReLU(BN(conv 3×3 (ReLU(BN(conv 3×3/s (x))))) + shortcut(x)), shortcut = BN(conv 1×1/s) when
 *     the stride or the width changes
 *   Root: ReLU(BN(conv 1×1 (concat of its inputs along channels)))
 *   DLA Tree, level 1: h₁ = left_node(x), h₂ = right_node(h₁), root[h₁, h₂];
 *            level L > 1: root[prev_root(x), level_{L−1}(x) … level_1(…), left_node(·), right_node(·)]
 *            where level_i is a Tree of level i and each later node reads the one before it
 *   SimpleDLA Tree: h₁ = left_tree(x), h₂ = right_tree(h₁), root[h₁, h₂], the subtrees of level L − 1
 *            (BasicBlocks at level 1)
 *
 * Width multiplier k: every channel count c becomes max(1, round(c·k)). pytorch-cifar pools with
 * avg_pool2d(·, 4), which for its 32×32 inputs (any input size 25–32) is the global average over the
 * last 4×4 map; other sizes, which its linear layer would reject, get the global average too.
 * k = 1 with 10 classes: DLA 16,291,386 and SimpleDLA 15,142,970 parameters.
 *
 * Evaluation mode folds each BatchNorm into the convolution before it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain, foldBatchNorm } from '../batch-norm.js';
import { configRecord, positiveIntField, positiveNumberField } from '../config-fields.js';
import { initFromSpec } from '../init.js';
import { affineLayer, applyForward, buildModelSpec, convBnLayer, denseForward, tensorOf, type ForwardPass, type LayerDecl } from '../model-spec.js';
import type { Architecture, ModelSpec } from '../types.js';
import { scaledWidth } from '../width-multiplier.js';

/** pytorch-cifar's `DLA` or `SimpleDLA`. */
export type DlaVariant = 'dla' | 'simple';
export const DLA_VARIANTS: readonly DlaVariant[] = ['dla', 'simple'];

export interface DlaConfig {
  /** `dla` (pytorch-cifar's DLA, default) or `simple` (its SimpleDLA). */
  readonly variant: DlaVariant;
  /** Width multiplier k: every channel count c becomes max(1, round(c·k)) (default 1). */
  readonly width: number;
  /** Input channels (default 3). */
  readonly inputChannels: number;
  /** Input height and width (default 32). */
  readonly inputSize: number;
  /** Number of classes (default 10). */
  readonly classes: number;
}

const DEFAULTS: DlaConfig = { variant: 'dla', width: 1, inputChannels: 3, inputSize: 32, classes: 10 };

/** The channels at k = 1 of base, layer1, layer2, layer3 … layer6. */
export const DLA_WIDTHS = [16, 16, 32, 64, 128, 256, 512] as const;
/** Level and stride of the trees layer3 … layer6. */
const TREES = [
  [1, 1],
  [2, 2],
  [2, 2],
  [1, 2],
] as const;

/** A BasicBlock. */
export interface DlaBlock {
  readonly kind: 'block';
  readonly prefix: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly stride: 1 | 2;
  /** A conv + BN shortcut (stride ≠ 1 or in ≠ out); else the identity. */
  readonly projection: boolean;
}

/** A Tree; `children` in execution order, each reading the one before it (prev_root reads the tree's input). */
export interface DlaTree {
  readonly kind: 'tree';
  readonly prefix: string;
  readonly outChannels: number;
  /** DLA's prev_root (levels > 1), which reads the tree's input beside the first child. */
  readonly prevRoot?: DlaBlock;
  readonly children: readonly DlaNode[];
}

export type DlaNode = DlaBlock | DlaTree;

function block(prefix: string, inChannels: number, outChannels: number, stride: 1 | 2): DlaBlock {
  return { kind: 'block', prefix, inChannels, outChannels, stride, projection: stride !== 1 || inChannels !== outChannels };
}

function tree(variant: DlaVariant, prefix: string, inChannels: number, outChannels: number, level: number, stride: 1 | 2): DlaTree {
  if (variant === 'simple') {
    const children =
      level === 1
        ? [block(`${prefix}.left_tree`, inChannels, outChannels, stride), block(`${prefix}.right_tree`, outChannels, outChannels, 1)]
        : [tree(variant, `${prefix}.left_tree`, inChannels, outChannels, level - 1, stride), tree(variant, `${prefix}.right_tree`, outChannels, outChannels, level - 1, 1)];
    return { kind: 'tree', prefix, outChannels, children };
  }
  const children: DlaNode[] = [];
  // level_{L−1} … level_1 all read the tree's input x in PyTorch's loop, each then feeding x onward.
  for (let i = level - 1; i >= 1; i--) children.push(tree(variant, `${prefix}.level_${i}`, i === level - 1 ? inChannels : outChannels, outChannels, i, i === level - 1 ? stride : 1));
  const first = children.length === 0 ? inChannels : outChannels;
  children.push(block(`${prefix}.left_node`, first, outChannels, children.length === 0 ? stride : 1));
  children.push(block(`${prefix}.right_node`, outChannels, outChannels, 1));
  return level > 1 ? { kind: 'tree', prefix, outChannels, prevRoot: block(`${prefix}.prev_root`, inChannels, outChannels, stride), children } : { kind: 'tree', prefix, outChannels, children };
}

/** The stem widths (base, layer1, layer2) and the trees layer3 … layer6 of a config. */
export function dlaStructure(variant: DlaVariant, width: number): { stem: [number, number, number]; trees: DlaTree[]; out: number } {
  const w = DLA_WIDTHS.map((c) => scaledWidth(c, width));
  const trees = TREES.map(([level, stride], i) => tree(variant, `layer${i + 3}`, w[i + 2] as number, w[i + 3] as number, level, stride));
  return { stem: [w[0] as number, w[1] as number, w[2] as number], trees, out: w[6] as number };
}

/** The concatenated width of a tree's root input: the outputs of prev_root (if any) and of every child. */
function rootInputs(t: DlaTree): number {
  return t.outChannels * (t.children.length + (t.prevRoot === undefined ? 0 : 1));
}

function blockLayers(b: DlaBlock): LayerDecl[] {
  const p = b.prefix;
  const layers = [convBnLayer(`${p}.conv1`, `${p}.conv1`, `${p}.bn1`, [3, 3, b.inChannels, b.outChannels]), convBnLayer(`${p}.conv2`, `${p}.conv2`, `${p}.bn2`, [3, 3, b.outChannels, b.outChannels])];
  if (b.projection) layers.push(convBnLayer(`${p}.shortcut`, `${p}.shortcut.0`, `${p}.shortcut.1`, [1, 1, b.inChannels, b.outChannels]));
  return layers;
}

function nodeLayers(n: DlaNode): LayerDecl[] {
  if (n.kind === 'block') return blockLayers(n);
  const layers = n.prevRoot === undefined ? [] : blockLayers(n.prevRoot);
  for (const c of n.children) layers.push(...nodeLayers(c));
  layers.push(convBnLayer(`${n.prefix}.root`, `${n.prefix}.root.conv`, `${n.prefix}.root.bn`, [1, 1, rootInputs(n), n.outChannels]));
  return layers;
}

function spec(config: DlaConfig): ModelSpec {
  const { stem, trees, out } = dlaStructure(config.variant, config.width);
  const layers: LayerDecl[] = [
    convBnLayer('base', 'base.0', 'base.1', [3, 3, config.inputChannels, stem[0]]),
    convBnLayer('layer1', 'layer1.0', 'layer1.1', [3, 3, stem[0], stem[1]]),
    convBnLayer('layer2', 'layer2.0', 'layer2.1', [3, 3, stem[1], stem[2]]),
  ];
  for (const t of trees) layers.push(...nodeLayers(t));
  layers.push(affineLayer('linear', [out, config.classes]));
  return buildModelSpec(layers, [config.inputSize, config.inputSize, config.inputChannels], config.classes);
}

/** conv → BN (→ ReLU): batch statistics in training (recorded), BN folded into the conv in evaluation. */
function convBnForward(pass: ForwardPass, x: tf.Tensor4D, conv: string, bn: string, stride: 1 | 2, relu: boolean): tf.Tensor4D {
  const kernel = tensorOf<tf.Rank.R4>(pass.params, `${conv}.weight`);
  // PyTorch pads 3×3 convs by 1: 'same' at stride 1, not at stride 2.
  const pad = kernel.shape[0] === 1 ? 'valid' : stride === 1 ? 'same' : 1;
  const gamma = tensorOf<tf.Rank.R1>(pass.params, `${bn}.weight`);
  const beta = tensorOf<tf.Rank.R1>(pass.params, `${bn}.bias`);
  if (pass.stats !== undefined) {
    const r = batchNormTrain(tf.conv2d(x, kernel, stride, pad), gamma, beta, bn);
    pass.stats[`${bn}.running_mean`] = r.mean;
    pass.stats[`${bn}.running_var`] = r.variance;
    return relu ? tf.relu(r.y) : r.y;
  }
  const folded = foldBatchNorm(kernel, gamma, beta, tensorOf(pass.buffers, `${bn}.running_mean`), tensorOf(pass.buffers, `${bn}.running_var`));
  return tf.fused.conv2d({ x, filter: folded.kernel, strides: stride, pad, bias: folded.bias, activation: relu ? 'relu' : 'linear' });
}

function blockForward(pass: ForwardPass, b: DlaBlock, x: tf.Tensor4D): tf.Tensor4D {
  const p = b.prefix;
  const mid = convBnForward(pass, x, `${p}.conv1`, `${p}.bn1`, b.stride, true);
  const main = convBnForward(pass, mid, `${p}.conv2`, `${p}.bn2`, 1, false);
  const shortcut = b.projection ? convBnForward(pass, x, `${p}.shortcut.0`, `${p}.shortcut.1`, b.stride, false) : x;
  return tf.relu(tf.add(main, shortcut));
}

function nodeForward(pass: ForwardPass, n: DlaNode, x: tf.Tensor4D): tf.Tensor4D {
  if (n.kind === 'block') return blockForward(pass, n, x);
  const xs: tf.Tensor4D[] = n.prevRoot === undefined ? [] : [blockForward(pass, n.prevRoot, x)];
  let h = x;
  for (const c of n.children) {
    h = nodeForward(pass, c, h);
    xs.push(h);
  }
  return convBnForward(pass, tf.concat4d(xs, 3), `${n.prefix}.root.conv`, `${n.prefix}.root.bn`, 1, true);
}

/** DLA the model (spec, init, apply); `dla` in index.ts adds its capabilities. */
export const dlaModel: Architecture<DlaConfig> = {
  name: 'dla',
  defaultConfig: DEFAULTS,

  parseConfig(raw) {
    const r = configRecord(raw, 'dla', Object.keys(DEFAULTS));
    const variant = r['variant'] ?? DEFAULTS.variant;
    if (typeof variant !== 'string' || !(DLA_VARIANTS as readonly string[]).includes(variant)) {
      throw new Error(`dla config: variant must be one of ${DLA_VARIANTS.join(', ')}, found ${JSON.stringify(variant)}`);
    }
    const config: DlaConfig = {
      variant: variant as DlaVariant,
      width: positiveNumberField(r, 'width', DEFAULTS.width, 'dla'),
      inputChannels: positiveIntField(r, 'inputChannels', DEFAULTS.inputChannels, 'dla'),
      inputSize: positiveIntField(r, 'inputSize', DEFAULTS.inputSize, 'dla'),
      classes: positiveIntField(r, 'classes', DEFAULTS.classes, 'dla'),
    };
    if (config.inputSize < 8) throw new Error(`dla config: inputSize must be at least 8 (three stride-2 trees), found ${config.inputSize}`);
    return config;
  },

  spec,

  init: initFromSpec(spec),

  apply(config, state, x, options) {
    const { trees } = dlaStructure(config.variant, config.width);
    return applyForward(spec(config), 'dla', state, x, options, (pass) => {
      let h = convBnForward(pass, x, 'base.0', 'base.1', 1, true);
      h = convBnForward(pass, h, 'layer1.0', 'layer1.1', 1, true);
      h = convBnForward(pass, h, 'layer2.0', 'layer2.1', 1, true);
      h = pass.sequence(h, trees, (input, t) => nodeForward(pass, t, input));
      return denseForward(tf.mean<tf.Tensor2D>(h, [1, 2]), pass.params, 'linear');
    });
  },
};
