/**
 * ShuffleNetV2 (pytorch-cifar's CIFAR form), everything the toolkit knows about it: the model
 * (shufflenetv2.ts; `netSize` 0.5 | 1 | 1.5 | 2 and a width multiplier as config fields), its
 * PyTorch names and layouts (pytorch.ts), its permutation spec (permutation-spec.ts; the channels
 * the blocks write are not permuted, see there) and its blocks and LLPF stage order (stages.ts).
 * No activation hooks: with BatchNorm, REPAIR is a BN reset.
 *
 * DFL_torch's `ShuffleNet(10, g=1, scale_factor=1)` (what Tian et al. call ShuffleNet) is another
 * network, a ShuffleNet v1 port: src/models/shufflenet/.
 */
import type { Architecture } from '../types.js';
import { shuffleNetV2PermutationSpec } from './permutation-spec.js';
import { shuffleNetV2PyTorch } from './pytorch.js';
import { shuffleNetV2Model, type ShuffleNetV2Config } from './shufflenetv2.js';
import { shuffleNetV2BlockOf, shuffleNetV2LlpfStages } from './stages.js';

export { shuffleNetV2Widths, SHUFFLENETV2_NET_SIZES, SHUFFLENETV2_BLOCKS, type ShuffleNetV2Config, type ShuffleNetV2NetSize } from './shufflenetv2.js';
export { inferShuffleNetV2Size } from './pytorch.js';
export { shuffleNetV2PermutationSpec } from './permutation-spec.js';

/** The ShuffleNetV2 architecture as registered. */
export const shufflenetv2: Architecture<ShuffleNetV2Config> = {
  ...shuffleNetV2Model,
  pytorch: shuffleNetV2PyTorch,
  permutationSpec: shuffleNetV2PermutationSpec,
  llpfStages: shuffleNetV2LlpfStages,
  blockOf: shuffleNetV2BlockOf,
};
