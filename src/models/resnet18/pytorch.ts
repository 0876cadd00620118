/**
 * ResNet18 state dicts in PyTorch: torchvision's names (ours) and kuangliu/pytorch-cifar's
 * (`layerN.M.shortcut.0/1` for `downsample.0/1`, `linear` for `fc`), both read, either written.
 * Layouts are the generic ones (conv OIHW ↔ HWIO, Linear [out, in] ↔ [in, out]).
 *
 * Config inference: classes and input channels from the stem and fc, the width multiplier from
 * the stage widths (`inferResNetWidth`).
 */
import type { PyTorchFormat } from '../capabilities.js';
import { resnet18Widths } from './resnet18.js';

export const resnet18PyTorch: PyTorchFormat = {
  // BasicBlocks have two convs: a conv3 in a block is another family's (ShuffleNetV2, RegNet).
  matches: (names) => names.some((n) => /^layer[1-4]\.\d+\.conv1\.weight$/.test(n)) && !names.some((n) => /^layer\d+\.\d+\.conv3\./.test(n)),

  namings: ['torchvision', 'pytorch-cifar'],

  canonicalName: (name) => name.replace(/^(layer\d+\.\d+\.)shortcut\./, '$1downsample.').replace(/^linear\./, 'fc.'),

  nameOf(name, naming) {
    if (naming !== 'pytorch-cifar') return name;
    return name.replace(/^(layer\d+\.\d+\.)downsample\./, '$1shortcut.').replace(/^fc\./, 'linear.');
  },

  inferConfig(tensors, shapeOf) {
    const stem = shapeOf('conv1.weight', 4);
    const fc = shapeOf('fc.weight', 2);
    const found = [stem[0], tensors.get('layer2.0.conv1.weight')?.shape[0], tensors.get('layer3.0.conv1.weight')?.shape[0], fc[1]];
    return { width: inferResNetWidth(found), inputChannels: stem[1], classes: fc[0] };
  },
};

/**
 * The width multiplier k whose stage widths round(64k), …, round(512k) are `found` (undefined:
 * unknown stage). A k read off one stage may round differently at another (k = 0.3 gives 19, 38,
 * 77, 154, but 19/64 gives 76 at stage 3), so take the shortest decimal in the intersection of the
 * intervals [(w − ½)/m, (w + ½)/m) of every stage, unless a stage's exact ratio w/m fits all (so
 * k = 1/16 stays 0.0625, not 0.062); fall back to the last stage's w/512.
 */
export function inferResNetWidth(found: readonly (number | undefined)[]): number {
  let low = 0;
  let high = Infinity;
  found.forEach((w, i) => {
    if (w === undefined) return;
    const m = 64 * 2 ** i;
    low = Math.max(low, (w - 0.5) / m);
    high = Math.min(high, (w + 0.5) / m);
  });
  const matches = (k: number) => resnet18Widths(k).every((w, i) => found[i] === undefined || found[i] === w);
  // Exact ratios first (k = 1/16 is 32/512), widest stage first; then the shortest decimal.
  for (let i = found.length - 1; i >= 0; i--) {
    const w = found[i];
    if (w !== undefined && matches(w / (64 * 2 ** i))) return w / (64 * 2 ** i);
  }
  for (let digits = 0; digits <= 12 && low < high; digits++) {
    const k = Math.ceil(low * 10 ** digits) / 10 ** digits;
    if (k < high && k > 0 && matches(k)) return k;
  }
  const last = [...found].reverse().findIndex((w) => w !== undefined);
  const i = found.length - 1 - last;
  return last < 0 ? 1 : (found[i] as number) / (64 * 2 ** i);
}
