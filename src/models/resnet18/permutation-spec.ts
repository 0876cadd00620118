/**
 * ResNet18's permutation symmetries (Ainsworth et al. 2023, "Git Re-Basin"; torchvision names): one
 * permutation per residual stream — the stem and layer1 share one, and each stage whose first block
 * has a downsample shortcut starts a new one (the downsample conv ties its output to the stream) —
 * plus one per block for the hidden units between conv1 and conv2. BatchNorm affine parameters and
 * running statistics permute with their conv.
 */
import type { PermutationGroup, PermutationSpec, PermutedAxis } from '../capabilities.js';
import { batchNormTensors, outputUnits, specHasTensor, specShape } from '../permutation-axes.js';
import type { ModelSpec } from '../types.js';

export function resnet18PermutationSpec(spec: ModelSpec): PermutationSpec {
  const blocks = spec.params
    .map((p) => /^(layer\d+\.\d+)\.conv1\.weight$/.exec(p.name)?.[1])
    .filter((p): p is string => p !== undefined);
  const groups: PermutationGroup[] = [];
  const channels = (name: string): number => specShape(spec, name).at(-1) as number;
  let streams = 0;
  let stream: { name: string; size: number; axes: PermutedAxis[] } = {
    name: 'stream0',
    size: channels('conv1.weight'),
    axes: outputUnits(spec, 'conv1.weight', batchNormTensors('bn1')),
  };
  for (const p of blocks) {
    // The block reads the current stream.
    stream.axes.push({ tensor: `${p}.conv1.weight`, axis: 2 });
    const downsample = specHasTensor(spec, `${p}.downsample.0.weight`);
    if (downsample) {
      stream.axes.push({ tensor: `${p}.downsample.0.weight`, axis: 2 });
      groups.push(stream);
      streams += 1;
      stream = {
        name: `stream${streams}`,
        size: channels(`${p}.downsample.0.weight`),
        axes: outputUnits(spec, `${p}.downsample.0.weight`, batchNormTensors(`${p}.downsample.1`)),
      };
    }
    groups.push({
      name: `${p}.hidden`,
      size: channels(`${p}.conv1.weight`),
      axes: [...outputUnits(spec, `${p}.conv1.weight`, batchNormTensors(`${p}.bn1`)), { tensor: `${p}.conv2.weight`, axis: 2 }],
    });
    // The block writes the stream (its residual sum).
    stream.axes.push(...outputUnits(spec, `${p}.conv2.weight`, batchNormTensors(`${p}.bn2`)));
  }
  stream.axes.push({ tensor: 'fc.weight', axis: 0 });
  groups.push(stream);
  return { groups };
}
