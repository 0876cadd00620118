/**
 * DLA and SimpleDLA (pytorch-cifar's CIFAR forms, config field `variant: 'dla' | 'simple'`),
 * everything the toolkit knows about them: the model (dla.ts), PyTorch names and layouts
 * (pytorch.ts), the permutation spec for weight matching (permutation-spec.ts), and the blocks and
 * LLPF stage order (stages.ts). Registered as `dla`; config fields variant, width, inputChannels,
 * inputSize, classes. No activation hooks: with BatchNorm, REPAIR is a BN reset.
 */
import type { Architecture } from '../types.js';
import { dlaModel, type DlaConfig } from './dla.js';
import { dlaPermutationSpec } from './permutation-spec.js';
import { dlaPyTorch } from './pytorch.js';
import { dlaBlockOf, dlaLlpfStages } from './stages.js';

export { dlaStructure, DLA_VARIANTS, type DlaConfig, type DlaVariant } from './dla.js';

/** The DLA architecture as registered. */
export const dla: Architecture<DlaConfig> = {
  ...dlaModel,
  pytorch: dlaPyTorch,
  permutationSpec: dlaPermutationSpec,
  llpfStages: dlaLlpfStages,
  blockOf: dlaBlockOf,
};
