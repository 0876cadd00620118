/**
 * RegNet state dicts in PyTorch: kuangliu/pytorch-cifar's names (DFL_torch's regnet_cifar.py is
 * the same module), which are ours, and the generic layouts (conv OIHW ↔ HWIO, grouped conv
 * [O, C/g, 3, 3] ↔ [3, 3, C/g, O], SE 1×1 convs [out, in, 1, 1] ↔ [1, 1, in, out], Linear
 * [out, in] ↔ [in, out]). Detected by a block's conv3 in four stages (pytorch-cifar's ShuffleNetG2
 * has three) without ShuffleNetV2's conv5.
 *
 * Config inference: the variant from the SE layers (present: y400mf), classes and input channels
 * from the stem and `linear`, the width multiplier from the stem, group and stage widths
 * (`inferRegNetWidth`).
 */
import type { PyTorchFormat } from '../capabilities.js';
import { regNetWidths, type RegNetVariant } from './regnet.js';

export const regNetPyTorch: PyTorchFormat = {
  matches: (names) =>
    names.some((n) => /^layer\d+\.\d+\.conv3\.weight$/.test(n)) && names.some((n) => n.startsWith('layer4.')) && !names.some((n) => /^layer\d+\.\d+\.conv5\./.test(n)),

  inferConfig(tensors, shapeOf) {
    const stem = shapeOf('conv1.weight', 4);
    const linear = shapeOf('linear.weight', 2);
    const variant: RegNetVariant = tensors.has('layer1.0.se.se1.weight') ? 'y400mf' : 'x200mf';
    const stages = [1, 2, 3, 4].map((s) => shapeOf(`layer${s}.0.conv3.weight`, 4)[0] as number);
    const groupWidth = shapeOf('layer1.0.conv2.weight', 4)[1] as number;
    return { variant, width: inferRegNetWidth(variant, stem[0] as number, groupWidth, stages), inputChannels: stem[1], classes: linear[0] };
  },
};

/**
 * The width multiplier k whose stem, group width and stage widths (regNetWidths) are the ones
 * found: 1 first, then the shortest decimal near stem/64, then stem/64 itself (for the shape
 * check to report when nothing fits).
 */
export function inferRegNetWidth(variant: RegNetVariant, stem: number, groupWidth: number, stages: readonly number[]): number {
  const fits = (k: number) => {
    const w = regNetWidths(variant, k);
    return w.stem === stem && w.groupWidth === groupWidth && w.stages.every((c, i) => c === stages[i]);
  };
  if (fits(1)) return 1;
  const ratios = [stem / 64, ...stages.map((c, i) => c / (regNetWidths(variant, 1).stages[i] as number))];
  for (let digits = 1; digits <= 6; digits++) {
    for (const r of ratios) {
      const k = Math.round(r * 10 ** digits) / 10 ** digits;
      if (k > 0 && fits(k)) return k;
    }
  }
  return stem / 64;
}
