/**
 * DLA and SimpleDLA state dicts in PyTorch: kuangliu/pytorch-cifar's names, which are ours and
 * twoentartian/DFL_torch's (its dla_cifar.py is pytorch-cifar's dla.py): `base.0/1`, `layer1.0/1`,
 * `layer2.0/1`, trees `layerN.{prev_root,level_1,left_node,right_node,root}` (DLA) or
 * `layerN.{left_tree,right_tree,root}` (SimpleDLA), blocks `….conv1/bn1/conv2/bn2/shortcut.0/1`,
 * roots `….root.conv/bn`, `linear`. Layouts are the generic ones (conv OIHW ↔ HWIO, Linear
 * [out, in] ↔ [in, out]).
 *
 * Detection and config inference: the variant from the tree names (`left_node` or `left_tree`),
 * input channels and classes from `base.0` and `linear`, the width multiplier from the channels of
 * base, layer1, layer2 and the four roots.
 */
import type { PyTorchFormat } from '../capabilities.js';
import { inferWidthMultiplier } from '../width-multiplier.js';
import { DLA_WIDTHS } from './dla.js';

export const dlaPyTorch: PyTorchFormat = {
  matches: (names) => names.includes('base.0.weight') && names.some((n) => /^layer3\.(left_node|left_tree)\.conv1\.weight$/.test(n)),

  inferConfig(tensors, shapeOf, source) {
    const base = shapeOf('base.0.weight', 4);
    const linear = shapeOf('linear.weight', 2);
    const variant = tensors.has('layer3.left_tree.conv1.weight') ? 'simple' : 'dla';
    const found = [base[0], tensors.get('layer1.0.weight')?.shape[0], tensors.get('layer2.0.weight')?.shape[0], ...[3, 4, 5, 6].map((i) => tensors.get(`layer${i}.root.conv.weight`)?.shape[0])];
    const width = inferWidthMultiplier(found, DLA_WIDTHS);
    if (width === undefined) {
      throw new Error(`${source}: the channel counts ${found.map((w) => w ?? '?').join(', ')} of base, layer1 … layer6 are no width multiple of DLA's ${DLA_WIDTHS.join(', ')}`);
    }
    return { variant, width, inputChannels: base[1], classes: linear[0] };
  },
};
