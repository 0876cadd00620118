/**
 * ResNet18, everything the toolkit knows about it: the model (resnet18.ts), its PyTorch names and
 * layouts in torchvision's and pytorch-cifar's naming (pytorch.ts), its permutation spec for weight
 * matching (permutation-spec.ts), and its blocks and LLPF stage order (stages.ts). No activation
 * hooks: with BatchNorm, REPAIR is a BN reset.
 */
import type { Architecture } from '../types.js';
import { resnet18PermutationSpec } from './permutation-spec.js';
import { resnet18PyTorch } from './pytorch.js';
import { resnet18Model, type ResNet18Config } from './resnet18.js';
import { resnet18BlockOf, resnet18LlpfStages } from './stages.js';

export { resnet18Widths, type ResNet18Config } from './resnet18.js';
export { inferResNetWidth } from './pytorch.js';
export { resnet18PermutationSpec } from './permutation-spec.js';

/** The ResNet18 architecture as registered. */
export const resnet18: Architecture<ResNet18Config> = {
  ...resnet18Model,
  pytorch: resnet18PyTorch,
  permutationSpec: resnet18PermutationSpec,
  llpfStages: resnet18LlpfStages,
  blockOf: resnet18BlockOf,
};
