/**
 * RegNet (pytorch-cifar's CIFAR forms RegNetX_200MF and RegNetY_400MF as the config field
 * `variant`, with a width multiplier), everything the toolkit knows about it: the model
 * (regnet.ts), its PyTorch names and layouts (pytorch.ts), its permutation spec with the grouped
 * conv's tied groups (permutation-spec.ts) and its blocks and LLPF stage order (stages.ts). No
 * activation hooks: with BatchNorm, REPAIR is a BN reset.
 */
import type { Architecture } from '../types.js';
import { regNetPermutationSpec } from './permutation-spec.js';
import { regNetPyTorch } from './pytorch.js';
import { regNetModel, type RegNetConfig } from './regnet.js';
import { regNetBlockOf, regNetLlpfStages } from './stages.js';

export { regNetWidths, roundHalfEven, REGNET_VARIANTS, type RegNetConfig, type RegNetVariant } from './regnet.js';
export { inferRegNetWidth } from './pytorch.js';
export { regNetPermutationSpec } from './permutation-spec.js';

/** The RegNet architecture as registered. */
export const regnet: Architecture<RegNetConfig> = {
  ...regNetModel,
  pytorch: regNetPyTorch,
  permutationSpec: regNetPermutationSpec,
  llpfStages: regNetLlpfStages,
  blockOf: regNetBlockOf,
};
