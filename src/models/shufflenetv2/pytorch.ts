/**
 * ShuffleNetV2 state dicts in PyTorch: kuangliu/pytorch-cifar's names, which are ours, and the
 * generic layouts (conv OIHW ↔ HWIO, depthwise [C, 1, 3, 3] ↔ [3, 3, 1, C], Linear [out, in] ↔
 * [in, out]). Detected by the DownBlock's fifth conv, `layer1.0.conv5.weight`.
 *
 * Config inference: classes and input channels from the stem and `linear`; the net size and width
 * multiplier from the stem, stage and head widths (`inferShuffleNetV2Size`).
 */
import type { PyTorchFormat } from '../capabilities.js';
import { SHUFFLENETV2_NET_SIZES, shuffleNetV2Widths, type ShuffleNetV2NetSize } from './shufflenetv2.js';

export const shuffleNetV2PyTorch: PyTorchFormat = {
  matches: (names) => names.some((n) => /^layer\d+\.0\.conv5\.weight$/.test(n)),

  inferConfig(tensors, shapeOf) {
    const stem = shapeOf('conv1.weight', 4);
    const linear = shapeOf('linear.weight', 2);
    const stage = (s: number) => 2 * (shapeOf(`layer${s}.0.conv2.weight`, 4)[0] as number);
    const found = [stem[0] as number, stage(1), stage(2), stage(3), shapeOf('conv2.weight', 4)[0] as number];
    return { ...inferShuffleNetV2Size(found), inputChannels: stem[1], classes: linear[0] };
  },
};

/**
 * The net size and width multiplier k whose widths [stem, stage 1..3, head] are `found`: k = 1 at
 * any net size first (pytorch-cifar's own models), then the shortest decimal k read off any width,
 * then the exact ratios; the first (netSize, k) that reproduces every width. When none does, the
 * head's ratio at net size 1, so that the shape check names the first mismatching tensor.
 */
export function inferShuffleNetV2Size(found: readonly number[]): { netSize: ShuffleNetV2NetSize; width: number } {
  const fits = (netSize: ShuffleNetV2NetSize, k: number) => k > 0 && shuffleNetV2Widths(netSize, k).every((w, i) => w === found[i]);
  const base = (netSize: ShuffleNetV2NetSize) => shuffleNetV2Widths(netSize, 1);
  for (const netSize of SHUFFLENETV2_NET_SIZES) if (fits(netSize, 1)) return { netSize, width: 1 };
  for (let digits = 1; digits <= 6; digits++) {
    for (const netSize of SHUFFLENETV2_NET_SIZES) {
      for (let i = found.length - 1; i >= 0; i--) {
        const k = Math.round(((found[i] as number) / (base(netSize)[i] as number)) * 10 ** digits) / 10 ** digits;
        if (fits(netSize, k)) return { netSize, width: k };
      }
    }
  }
  for (const netSize of SHUFFLENETV2_NET_SIZES) {
    for (let i = found.length - 1; i >= 0; i--) {
      const k = (found[i] as number) / (base(netSize)[i] as number);
      if (fits(netSize, k)) return { netSize, width: k };
    }
  }
  return { netSize: 1, width: (found[4] as number) / 1024 };
}
