/**
 * EfficientNet-B0 (pytorch-cifar's CIFAR form), everything the toolkit knows about it: the model
 * (efficientnet.ts), its PyTorch names and layouts (pytorch.ts), its permutation spec for weight
 * matching (permutation-spec.ts), and its blocks and LLPF stage order (stages.ts). Registered as
 * `efficientnet-b0`; config fields width, inputChannels, inputSize, classes, dropoutRate,
 * dropConnectRate, dropSeed. No activation hooks: with BatchNorm, REPAIR is a BN reset.
 */
import type { Architecture } from '../types.js';
import { efficientNetModel, type EfficientNetConfig } from './efficientnet.js';
import { efficientNetPermutationSpec } from './permutation-spec.js';
import { efficientNetPyTorch } from './pytorch.js';
import { efficientNetBlockOf, efficientNetLlpfStages } from './stages.js';

export { efficientNetBlocks, type EfficientNetConfig } from './efficientnet.js';

/** The EfficientNet-B0 architecture as registered. */
export const efficientNetB0: Architecture<EfficientNetConfig> = {
  ...efficientNetModel,
  pytorch: efficientNetPyTorch,
  permutationSpec: efficientNetPermutationSpec,
  llpfStages: efficientNetLlpfStages,
  blockOf: efficientNetBlockOf,
};
