/**
 * VGG's permutation symmetries (Ainsworth et al. 2023, "Git Re-Basin"): one permutation per conv,
 * acting on its output channels (kernel axis 3, conv bias, the BN's affine parameters and running
 * statistics) and on the input channels of the next conv (axis 2) or, for the last conv, on the
 * classifier's input rows (axis 0; the last feature map is 1×1, so a row is a channel). ReLU and
 * max-pooling act per channel, so they commute with every permutation.
 */
import type { PermutationGroup, PermutationSpec } from '../capabilities.js';
import { batchNormTensors, outputUnits, specShape } from '../permutation-axes.js';
import type { ModelSpec } from '../types.js';

export function vggPermutationSpec(spec: ModelSpec): PermutationSpec {
  const convs = spec.layers.map((l) => l.name).filter((name) => name.startsWith('features.'));
  const groups: PermutationGroup[] = convs.map((conv, i) => {
    const bn = conv.replace(/\d+$/, (j) => String(Number(j) + 1));
    const next = convs[i + 1];
    return {
      name: conv,
      size: specShape(spec, `${conv}.weight`).at(-1) as number,
      axes: [...outputUnits(spec, `${conv}.weight`, [`${conv}.bias`, ...batchNormTensors(bn)]), next === undefined ? { tensor: 'classifier.weight', axis: 0 } : { tensor: `${next}.weight`, axis: 2 }],
    };
  });
  return { groups };
}
