/**
 * `mode-connectivity/align`: permutation alignment of two modes (Git Re-Basin weight matching,
 * activation matching), the permutation specs of each architecture, the assignment solver, and
 * REPAIR of interpolated BatchNorm-free models.
 *
 * @module mode-connectivity/align
 */
export { linearSumAssignment } from '../align/lsap.js';
export { applyPermutation, permutationSpecFor, invertPermutation, type PermutationGroup, type PermutedAxis, type PermutationSpec, type Permutations } from '../align/permutation-spec.js';
export { lenet5PermutationSpec } from '../models/lenet5/index.js';
export { resnet18PermutationSpec } from '../models/resnet18/index.js';
export { weightMatching, type WeightMatchingOptions, type WeightMatchingResult } from '../align/weight-matching.js';
export { activationMatching } from '../align/activation-matching.js';
export { repairInterpolated, type RepairInput } from '../align/repair.js';
