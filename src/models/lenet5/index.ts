/**
 * LeNet5, everything the toolkit knows about it: the model (lenet5.ts), its PyTorch names and
 * layouts (pytorch.ts), its permutation spec for weight matching (permutation-spec.ts) and its
 * activation hooks for activation matching and REPAIR (activations.ts). LLPF moves every layer
 * group from tick 0, and every layer group is its own stage (no `llpfStages`, no `blockOf`).
 */
import type { Architecture } from '../types.js';
import { lenet5Activations } from './activations.js';
import { lenet5Model, type LeNet5Config } from './lenet5.js';
import { lenet5PermutationSpec } from './permutation-spec.js';
import { lenet5PyTorch } from './pytorch.js';

export type { LeNet5Config } from './lenet5.js';
export { LENET5_HIDDEN, lenet5PreActivations, lenet5Activations, type LeNet5Hidden } from './activations.js';
export { lenet5PermutationSpec } from './permutation-spec.js';

/** The LeNet5 architecture as registered. */
export const lenet5: Architecture<LeNet5Config> = {
  ...lenet5Model,
  pytorch: lenet5PyTorch,
  permutationSpec: lenet5PermutationSpec,
  activations: lenet5Activations,
};
