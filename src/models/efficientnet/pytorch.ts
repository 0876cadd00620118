/**
 * EfficientNet-B0 state dicts in PyTorch: kuangliu/pytorch-cifar's names (`conv1`, `bn1`,
 * `layers.{i}.conv1/bn1/conv2/bn2/se.se1/se.se2/conv3/bn3`, `linear`), which are ours and
 * twoentartian/DFL_torch's (its efficientnet_cifar.py is pytorch-cifar's file). Layouts are the
 * generic ones: conv OIHW ↔ HWIO, so a depthwise [C, 1, k, k] becomes [k, k, 1, C] and an SE
 * 1×1 conv [S, C, 1, 1] becomes [1, 1, C, S]; Linear [out, in] ↔ [in, out].
 *
 * Config inference: input channels and classes from the stem and `linear`, the width multiplier
 * from the stem and the output channels of each stage's first block. The dropout fields and the
 * input size are not in a state dict and keep their defaults unless given.
 */
import type { PyTorchFormat } from '../capabilities.js';
import { inferWidthMultiplier } from '../width-multiplier.js';
import { EFFICIENTNET_B0_STAGES, EFFICIENTNET_STEM } from './efficientnet.js';

/** Index of the first block of each stage: 0, 1, 3, 5, 8, 11, 15. */
function firstBlocks(): number[] {
  const out: number[] = [];
  let i = 0;
  for (const stage of EFFICIENTNET_B0_STAGES) {
    out.push(i);
    i += stage[2];
  }
  return out;
}

export const efficientNetPyTorch: PyTorchFormat = {
  matches: (names) => names.some((n) => /^layers\.\d+\.se\.se1\.weight$/.test(n)) && names.includes('linear.weight'),

  inferConfig(tensors, shapeOf, source) {
    const stem = shapeOf('conv1.weight', 4);
    const linear = shapeOf('linear.weight', 2);
    const found = [stem[0], ...firstBlocks().map((i) => tensors.get(`layers.${i}.conv3.weight`)?.shape[0])];
    const bases = [EFFICIENTNET_STEM, ...EFFICIENTNET_B0_STAGES.map((s) => s[1])];
    const width = inferWidthMultiplier(found, bases);
    if (width === undefined) {
      throw new Error(`${source}: the channel counts ${found.map((w) => w ?? '?').join(', ')} of the stem and stages are no width multiple of EfficientNet-B0's ${bases.join(', ')}`);
    }
    return { width, inputChannels: stem[1], classes: linear[0] };
  },
};
