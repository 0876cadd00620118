/**
 * ShuffleNet (v1; DFL_torch's `ShuffleNet(output_size, scale_factor, g)`, the "ShuffleNet" of Tian
 * et al. at g = 1), everything the toolkit knows about it: the model (shufflenet.ts; `groups` and
 * `scaleFactor` as config fields), its PyTorch names and layouts (pytorch.ts), its permutation spec
 * (permutation-spec.ts; the bottlenecks only: the concatenating pool units and the grouped
 * convolutions tie the stage streams, see there) and its units and LLPF stage order (stages.ts).
 * No activation hooks: with BatchNorm, REPAIR is a BN reset.
 *
 * ShuffleNetV2 (pytorch-cifar's) is another network: src/models/shufflenetv2/.
 */
import type { Architecture } from '../types.js';
import { shuffleNetPermutationSpec } from './permutation-spec.js';
import { shuffleNetPyTorch } from './pytorch.js';
import { shuffleNetModel, type ShuffleNetConfig } from './shufflenet.js';
import { shuffleNetBlockOf, shuffleNetLlpfStages } from './stages.js';

export { shuffleNetWidths, SHUFFLENET_GROUPS, SHUFFLENET_STAGE2_WIDTHS, SHUFFLENET_UNITS, SHUFFLENET_STEM, type ShuffleNetConfig, type ShuffleNetGroups } from './shufflenet.js';
export { inferShuffleNetScaleFactor } from './pytorch.js';
export { shuffleNetPermutationSpec } from './permutation-spec.js';

/** The ShuffleNet (v1) architecture as registered. */
export const shufflenet: Architecture<ShuffleNetConfig> = {
  ...shuffleNetModel,
  pytorch: shuffleNetPyTorch,
  permutationSpec: shuffleNetPermutationSpec,
  llpfStages: shuffleNetLlpfStages,
  blockOf: shuffleNetBlockOf,
};
