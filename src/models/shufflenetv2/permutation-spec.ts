/**
 * ShuffleNetV2's permutation symmetries (Ainsworth et al. 2023, "Git Re-Basin"; pytorch-cifar
 * names). Defined, each a free permutation of the units between two 1×1 convolutions (a depthwise
 * conv between them permutes with its channels, its kernel's axis 3, and BN with it):
 *
 * - `conv1` — the stem's output: conv1 + bn1, and layer1.0's two readers of it, the left branch's
 *   depthwise conv1 (+ bn1) with the 1×1 conv2's input axis, and the right branch's conv3 input;
 * - `layer{s}.0.right` — a DownBlock's right branch: conv3 out (+ bn3), depthwise conv4 (+ bn4),
 *   conv5 in;
 * - `layer{s}.{b}.hidden` — a BasicBlock's branch: conv1 out (+ bn1), depthwise conv2 (+ bn2),
 *   conv3 in;
 * - `conv2` — the head: conv2 out (+ bn2), linear in.
 *
 * Not defined: the channels a block writes (its branch outputs bn2/bn5 of a DownBlock, bn3 of a
 * BasicBlock). The split and channel shuffle thread them on: a BasicBlock passes its first half
 * through unchanged and interleaves it with its branch output, so output channel i of a block
 * reaches later blocks at positions set by the shuffle, partly through their pass-through halves
 * and partly into their convolutions. A permutation of those channels leaves the network invariant
 * only if it commutes with every later split and shuffle up to the next DownBlock (which reads the
 * whole stream); those permutations form a small nested group, not one free permutation per
 * layer, so weight matching leaves these channels in place.
 */
import type { PermutationGroup, PermutationSpec } from '../capabilities.js';
import { batchNormTensors, outputUnits, specHasTensor, specShape } from '../permutation-axes.js';
import type { ModelSpec } from '../types.js';

export function shuffleNetV2PermutationSpec(spec: ModelSpec): PermutationSpec {
  const channels = (name: string): number => specShape(spec, name).at(-1) as number;
  const groups: PermutationGroup[] = [
    {
      name: 'conv1',
      size: channels('conv1.weight'),
      axes: [
        ...outputUnits(spec, 'conv1.weight', batchNormTensors('bn1')),
        ...outputUnits(spec, 'layer1.0.conv1.weight', batchNormTensors('layer1.0.bn1')),
        { tensor: 'layer1.0.conv2.weight', axis: 2 },
        { tensor: 'layer1.0.conv3.weight', axis: 2 },
      ],
    },
  ];
  const blocks = spec.params
    .map((p) => /^(layer\d+\.\d+)\.conv1\.weight$/.exec(p.name)?.[1])
    .filter((p): p is string => p !== undefined);
  for (const p of blocks) {
    const down = specHasTensor(spec, `${p}.conv5.weight`);
    const [first, depthwise, last] = down ? ['conv3', 'conv4', 'conv5'] : ['conv1', 'conv2', 'conv3'];
    const [bnFirst, bnDepthwise] = down ? ['bn3', 'bn4'] : ['bn1', 'bn2'];
    groups.push({
      name: `${p}.${down ? 'right' : 'hidden'}`,
      size: channels(`${p}.${first}.weight`),
      axes: [
        ...outputUnits(spec, `${p}.${first}.weight`, batchNormTensors(`${p}.${bnFirst}`)),
        ...outputUnits(spec, `${p}.${depthwise}.weight`, batchNormTensors(`${p}.${bnDepthwise}`)),
        { tensor: `${p}.${last}.weight`, axis: 2 },
      ],
    });
  }
  groups.push({
    name: 'conv2',
    size: channels('conv2.weight'),
    axes: [...outputUnits(spec, 'conv2.weight', batchNormTensors('bn2')), { tensor: 'linear.weight', axis: 0 }],
  });
  return { groups };
}
