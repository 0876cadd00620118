/**
 * Building blocks for permutation specs (Ainsworth, Hayase, Srinivasa 2023, "Git Re-Basin"): the
 * axes a layer's hidden-unit permutation acts on. An architecture's `permutationSpec` (in its own
 * folder) assembles its groups from these; src/align/permutation-spec.ts applies them.
 */
import type { PermutedAxis } from './capabilities.js';
import type { ModelSpec } from './types.js';

/** The shape of tensor `name` in the spec; the error names the tensor. */
export function specShape(spec: ModelSpec, name: string): readonly number[] {
  const t = spec.params.find((p) => p.name === name) ?? spec.buffers.find((p) => p.name === name);
  if (t === undefined) throw new Error(`permutation spec: the model has no tensor "${name}"`);
  return t.shape;
}

/** Whether the spec has a parameter or buffer called `name`. */
export function specHasTensor(spec: ModelSpec, name: string): boolean {
  return spec.params.some((p) => p.name === name) || spec.buffers.some((p) => p.name === name);
}

/** Output channels of a layer (its kernel's last axis) and axis 0 of each extra that exists (bias, BN). */
export function outputUnits(spec: ModelSpec, weight: string, extras: readonly string[]): PermutedAxis[] {
  const rank = specShape(spec, weight).length;
  return [{ tensor: weight, axis: rank - 1 }, ...extras.filter((n) => specHasTensor(spec, n)).map((tensor) => ({ tensor, axis: 0 }))];
}

/** A BatchNorm's affine parameters and running statistics, PyTorch-named. */
export function batchNormTensors(bn: string): string[] {
  return [`${bn}.weight`, `${bn}.bias`, `${bn}.running_mean`, `${bn}.running_var`];
}
