/**
 * VGG (11, 13, 16, 19 with BatchNorm, pytorch-cifar's), everything the toolkit knows about it: the
 * model (vgg.ts), its PyTorch names (pytorch.ts), its permutation spec for weight matching
 * (permutation-spec.ts) and its LLPF stage order (stages.ts). No activation hooks: with BatchNorm,
 * REPAIR is a BN reset.
 */
import type { Architecture } from '../types.js';
import { vggPermutationSpec } from './permutation-spec.js';
import { vggPyTorch } from './pytorch.js';
import { vggLlpfStages } from './stages.js';
import { vggModel, type VggConfig } from './vgg.js';

export { vggConvs, VGG_DEPTHS, type VggConfig, type VggConv, type VggDepth } from './vgg.js';
export { vggPermutationSpec } from './permutation-spec.js';

/** The VGG architecture as registered (`vgg`, config `{ depth: 11 | 13 | 16 | 19, width, … }`). */
export const vgg: Architecture<VggConfig> = {
  ...vggModel,
  pytorch: vggPyTorch,
  permutationSpec: vggPermutationSpec,
  llpfStages: vggLlpfStages,
};
