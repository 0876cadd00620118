/**
 * ShuffleNet (v1) state dicts in PyTorch: twoentartian/DFL_torch's names (py_src/models/shufflenet/,
 * after chenhang98/shuffleNet-cifar10), which are ours, and the generic layouts (conv OIHW ↔ HWIO,
 * grouped 1×1 conv [O, C/g, 1, 1] ↔ [1, 1, C/g, O], depthwise [m, 1, 3, 3] ↔ [3, 3, 1, m], Linear
 * [out, in] ↔ [in, out]). Detected by a unit's `stage{s}.{b}.gconv1.weight`.
 *
 * kuangliu/pytorch-cifar's `ShuffleNetG2`/`G3` is not another naming of this network (a 1×1 stem,
 * ReLU after the depthwise BN, 3×3 average-pool shortcuts, 4/8/4 units, stride 2 in every stage),
 * so it is not read here: detection names it (`lookalike`) instead of calling it a RegNet, whose
 * names it shares.
 *
 * Config inference: input channels and classes from `conv1` and `fc`; c₂ from stage2's first unit
 * (its gconv2 writes c₂ − 24 channels beside the stem), g from the input axis c₂/g of the first
 * identity unit's gconv1, and the scale factor from c₂ and g (`inferShuffleNetScaleFactor`).
 */
import type { PyTorchFormat } from '../capabilities.js';
import { SHUFFLENET_GROUPS, SHUFFLENET_STAGE2_WIDTHS, SHUFFLENET_STEM, shuffleNetWidths, type ShuffleNetGroups } from './shufflenet.js';

export const shuffleNetPyTorch: PyTorchFormat = {
  matches: (names) => names.some((n) => /^stage\d+\.\d+\.gconv1\.weight$/.test(n)),

  lookalike: (names) =>
    names.some((n) => /^layer3\.\d+\.conv3\.weight$/.test(n)) && names.includes('linear.weight') && !names.some((n) => n.startsWith('layer4.'))
      ? "the tensor names (layer1–3 of bottlenecks with conv1–conv3 and `linear`) are kuangliu/pytorch-cifar's ShuffleNetG2/G3, another network than shufflenet (DFL_torch's ShuffleNet: a 3×3 stem, `stage2`–`stage4` of `gconv1`/`dwconv`/`gconv2` units); it is not implemented, so it cannot be read"
      : undefined,

  inferConfig(_tensors, shapeOf, source) {
    const stem = shapeOf('conv1.weight', 4);
    const fc = shapeOf('fc.weight', 2);
    const c2 = (shapeOf('stage2.0.gconv2.weight', 4)[0] as number) + SHUFFLENET_STEM;
    const perGroup = shapeOf('stage2.1.gconv1.weight', 4)[1] as number;
    const groups = c2 / perGroup;
    if (!SHUFFLENET_GROUPS.includes(groups as ShuffleNetGroups)) {
      throw new Error(`${source}: stage2.1.gconv1.weight reads ${perGroup} of stage2's ${c2} channels per group, so ${groups} groups; DFL_torch's ShuffleNet has ${SHUFFLENET_GROUPS.join(', ')}`);
    }
    const g = groups as ShuffleNetGroups;
    return { groups: g, scaleFactor: inferShuffleNetScaleFactor(g, c2), inputChannels: stem[1], classes: fc[0] };
  },
};

/**
 * The scale factor k with ⌊k·w_g⌋ = c₂: 1 when it fits, else the shortest decimal near
 * [c₂/w_g, (c₂ + 1)/w_g) that fits in floating point (so a model trained with k = 0.29 at g = 2,
 * where 0.29·200 = 57.99…, reads back as 0.29), else c₂/w_g.
 */
export function inferShuffleNetScaleFactor(groups: ShuffleNetGroups, c2: number): number {
  const fits = (k: number) => shuffleNetWidths(groups, k)[0] === c2;
  if (fits(1)) return 1;
  const w = SHUFFLENET_STAGE2_WIDTHS[groups];
  for (let digits = 1; digits <= 12; digits++) {
    const scale = 10 ** digits;
    for (let j = Math.floor((c2 / w) * scale); j <= Math.ceil(((c2 + 1) / w) * scale); j++) {
      if (j > 0 && fits(j / scale)) return j / scale;
    }
  }
  return c2 / w;
}
