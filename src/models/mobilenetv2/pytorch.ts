/**
 * MobileNetV2 state dicts in PyTorch, one naming per port, which are ours: pytorch-cifar's
 * (`conv1, bn1, layers.N.*, conv2, bn2, linear`) for `mobilenetv2`, DFL_torch's (`conv0, bn0,
 * bottlenecks.N.*, conv1, bn1, fc`) for `mobilenetv2-dfl`. Layouts are the generic ones (conv
 * OIHW ↔ HWIO, so a depthwise weight [C, 1, 3, 3] ↔ [3, 3, 1, C]; Linear [out, in] ↔ [in, out]).
 *
 * Config inference: input channels from the stem, classes from the classifier, the width
 * multiplier from the channel counts (`inferWidth`).
 */
import type { PyTorchFormat } from '../capabilities.js';
import { invertedResiduals, type MobileNetV2Variant } from './mobilenetv2.js';

/**
 * The width multiplier k whose channel counts round(c·k) are the `found` ones (pairs [c, found]):
 * the exact ratio of the widest pair if it fits all, else the shortest decimal that does, else the
 * widest ratio.
 */
export function inferWidth(pairs: readonly (readonly [number, number])[]): number {
  const fits = (k: number) => pairs.every(([c, w]) => Math.round(c * k) === w);
  const sorted = [...pairs].sort((a, b) => b[0] - a[0]);
  for (const [c, w] of sorted) if (fits(w / c)) return w / c;
  let low = 0;
  let high = Infinity;
  for (const [c, w] of pairs) {
    low = Math.max(low, (w - 0.5) / c);
    high = Math.min(high, (w + 0.5) / c);
  }
  for (let digits = 0; digits <= 12 && low < high; digits++) {
    const k = Math.ceil(low * 10 ** digits) / 10 ** digits;
    if (k < high && k > 0 && fits(k)) return k;
  }
  const widest = sorted[0];
  return widest === undefined ? 1 : widest[1] / widest[0];
}

export function mobileNetV2PyTorch(variant: MobileNetV2Variant): PyTorchFormat {
  const blockConv3 = new RegExp(`^${variant.blocks}\\.\\d+\\.conv3\\.weight$`);
  // EfficientNet's blocks (pytorch-cifar) have the same conv1–conv3 names; only they carry squeeze-and-excitation.
  const squeezeExcitation = new RegExp(`^${variant.blocks}\\.\\d+\\.se\\.`);
  return {
    matches: (names) =>
      names.includes(`${variant.classifier}.weight`) && names.includes(`${variant.stem.conv}.weight`) && names.some((n) => blockConv3.test(n)) && !names.some((n) => squeezeExcitation.test(n)),

    inferConfig(tensors, shapeOf) {
      const stem = shapeOf(`${variant.stem.conv}.weight`, 4);
      const fc = shapeOf(`${variant.classifier}.weight`, 2);
      const pairs: [number, number][] = [
        [32, stem[0] as number],
        [1280, fc[1] as number],
      ];
      for (const b of invertedResiduals(variant, 1)) {
        const w = tensors.get(`${b.prefix}.conv3.weight`)?.shape[0];
        if (w !== undefined) pairs.push([b.outChannels, w]);
      }
      return { width: inferWidth(pairs), inputChannels: stem[1], classes: fc[0] };
    },
  };
}

