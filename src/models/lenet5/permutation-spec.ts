/**
 * LeNet5's permutation symmetries (Ainsworth et al. 2023, "Git Re-Basin"): conv1 out ↔ conv2 in;
 * conv2 out ↔ fc1 in; fc1 out ↔ fc2 in; fc2 out ↔ fc3 in. The logits are not permuted.
 *
 * fc1's input is the NHWC flatten of 5×5×16, i = (h·5 + w)·16 + c, so conv2's permutation acts on
 * c with stride 1 in each of the 25 spatial blocks.
 */
import type { PermutationSpec } from '../capabilities.js';
import { outputUnits, specShape } from '../permutation-axes.js';
import type { ModelSpec } from '../types.js';

export function lenet5PermutationSpec(spec: ModelSpec): PermutationSpec {
  const size = (name: string): number => specShape(spec, name).at(-1) as number;
  const fc1In = specShape(spec, 'fc1.weight')[0] as number;
  const c2 = size('conv2.weight');
  if (fc1In % c2 !== 0) throw new Error(`lenet5 permutation spec: fc1.weight has ${fc1In} inputs, not a multiple of conv2's ${c2} channels`);
  return {
    groups: [
      { name: 'conv1', size: size('conv1.weight'), axes: [...outputUnits(spec, 'conv1.weight', ['conv1.bias']), { tensor: 'conv2.weight', axis: 2 }] },
      { name: 'conv2', size: c2, axes: [...outputUnits(spec, 'conv2.weight', ['conv2.bias']), { tensor: 'fc1.weight', axis: 0, stride: 1 }] },
      { name: 'fc1', size: size('fc1.weight'), axes: [...outputUnits(spec, 'fc1.weight', ['fc1.bias']), { tensor: 'fc2.weight', axis: 0 }] },
      { name: 'fc2', size: size('fc2.weight'), axes: [...outputUnits(spec, 'fc2.weight', ['fc2.bias']), { tensor: 'fc3.weight', axis: 0 }] },
    ],
  };
}
