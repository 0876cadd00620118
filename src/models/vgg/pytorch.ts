/**
 * VGG state dicts in PyTorch: kuangliu/pytorch-cifar's `VGG(name)` names (`features.j.*` for the
 * Sequential's conv j and BN j + 1, `classifier.*`), which are ours; twoentartian/DFL_torch uses
 * the same module (`ml_setup_base/vgg_cifar.py`). Layouts are the generic ones (conv OIHW ↔ HWIO,
 * Linear [out, in] ↔ [in, out]); the classifier reads a 1×1 map, so no reordering of its rows.
 *
 * Config inference: the depth from the number of convs (8, 10, 13, 16 → VGG-11, 13, 16, 19), the
 * width multiplier from the first conv of each pooling stage, input channels from the first conv,
 * classes from the classifier.
 */
import type { PyTorchFormat } from '../capabilities.js';
import { inferWidthMultiplier } from '../width-multiplier.js';
import { vggConvs, VGG_DEPTHS } from './vgg.js';

/** The widths at k = 1 of the first conv of pooling stages 0–3. */
const VGG_STAGE_BASES = [64, 128, 256, 512] as const;

export const vggPyTorch: PyTorchFormat = {
  matches: (names) => names.includes('classifier.weight') && names.includes('features.0.weight') && names.some((n) => /^features\.\d+\.running_var$/.test(n)),

  inferConfig(tensors, shapeOf, source) {
    const convIndices = [...tensors].filter(([n, t]) => /^features\.\d+\.weight$/.test(n) && t.shape.length === 4).map(([n]) => Number(n.split('.')[1]));
    const depth = VGG_DEPTHS.find((d) => vggConvs({ depth: d, width: 1, inputChannels: 3 }).length === convIndices.length);
    if (depth === undefined) {
      throw new Error(`${source}: a VGG has 8, 10, 13 or 16 convs (VGG-11, 13, 16, 19), found ${convIndices.length} 4-d tensors features.j.weight`);
    }
    const first = shapeOf('features.0.weight', 4);
    // The first conv of each pooling stage 0–3 has width 64k, 128k, 256k, 512k.
    const stageWidths = [0, 1, 2, 3].map((s) => {
      const conv = vggConvs({ depth, width: 1, inputChannels: 3 }).find((c) => c.stage === s);
      return conv === undefined ? undefined : tensors.get(`features.${conv.index}.weight`)?.shape[0];
    });
    // No fitting k: the last stage's ratio, so that the shape check names the first mismatching conv.
    const last = stageWidths.findLastIndex((w) => w !== undefined);
    const width = inferWidthMultiplier(stageWidths, VGG_STAGE_BASES) ?? (last < 0 ? 1 : (stageWidths[last] as number) / (VGG_STAGE_BASES[last] as number));
    return { depth, width, inputChannels: first[1], classes: shapeOf('classifier.weight', 2)[0] };
  },
};
