/**
 * EfficientNet-B0's permutation symmetries (Ainsworth et al. 2023, "Git Re-Basin"; pytorch-cifar
 * names). One permutation per residual stream — the stem starts one, and each block without an
 * identity shortcut (stride 2 or in ≠ out) starts a new one at its conv3; blocks with the shortcut
 * read and write the same stream — plus, per block, one for the `planes` expanded channels (conv1's
 * outputs, the depthwise conv2's channels, which it maps one to one, the SE gate se2's outputs
 * and conv3's inputs) and one for the SE bottleneck (se1's outputs, se2's inputs). BatchNorm
 * parameters and running statistics permute with their conv, biases with their kernel.
 *
 * The expansion-1 block (layers.0) has no expansion: its depthwise conv acts on the stream itself,
 * so its channels are the stream's; its unused conv1/bn1 permute with the stream too.
 */
import type { PermutationGroup, PermutationSpec, PermutedAxis } from '../capabilities.js';
import { batchNormTensors, outputUnits, specShape } from '../permutation-axes.js';
import type { ModelSpec } from '../types.js';
import { efficientNetBlocks } from './efficientnet.js';

// Strides and expansions of the blocks by index do not depend on the width.
const GEOMETRY = efficientNetBlocks(1);

export function efficientNetPermutationSpec(spec: ModelSpec): PermutationSpec {
  const blocks = spec.params.map((p) => /^(layers\.\d+)\.conv3\.weight$/.exec(p.name)?.[1]).filter((p): p is string => p !== undefined);
  const channels = (name: string): number => specShape(spec, name).at(-1) as number;
  const groups: PermutationGroup[] = [];
  let streams = 0;
  let stream: { name: string; size: number; axes: PermutedAxis[] } = {
    name: 'stream0',
    size: channels('conv1.weight'),
    axes: outputUnits(spec, 'conv1.weight', batchNormTensors('bn1')),
  };
  blocks.forEach((p, i) => {
    const geometry = GEOMETRY[i];
    if (geometry === undefined) throw new Error(`efficientnet-b0 permutation spec: block ${p} is beyond the ${GEOMETRY.length} blocks of EfficientNet-B0`);
    const inChannels = specShape(spec, `${p}.conv1.weight`)[2] as number;
    const planes = channels(`${p}.conv1.weight`);
    const outChannels = channels(`${p}.conv3.weight`);
    const expanded = geometry.expansion !== 1;
    const skip = geometry.stride === 1 && inChannels === outChannels;
    const conv1Axes: PermutedAxis[] = [{ tensor: `${p}.conv1.weight`, axis: 2 }, ...outputUnits(spec, `${p}.conv1.weight`, batchNormTensors(`${p}.bn1`))];
    const planeAxes: PermutedAxis[] = [
      ...outputUnits(spec, `${p}.conv2.weight`, batchNormTensors(`${p}.bn2`)),
      { tensor: `${p}.se.se1.weight`, axis: 2 },
      ...outputUnits(spec, `${p}.se.se2.weight`, [`${p}.se.se2.bias`]),
      { tensor: `${p}.conv3.weight`, axis: 2 },
    ];
    if (expanded) {
      stream.axes.push({ tensor: `${p}.conv1.weight`, axis: 2 });
      groups.push({ name: `${p}.planes`, size: planes, axes: [...outputUnits(spec, `${p}.conv1.weight`, batchNormTensors(`${p}.bn1`)), ...planeAxes] });
    } else {
      stream.axes.push(...conv1Axes, ...planeAxes);
    }
    groups.push({
      name: `${p}.se`,
      size: channels(`${p}.se.se1.weight`),
      axes: [...outputUnits(spec, `${p}.se.se1.weight`, [`${p}.se.se1.bias`]), { tensor: `${p}.se.se2.weight`, axis: 2 }],
    });
    if (!skip) {
      groups.push(stream);
      streams += 1;
      stream = { name: `stream${streams}`, size: outChannels, axes: [] };
    }
    stream.axes.push(...outputUnits(spec, `${p}.conv3.weight`, batchNormTensors(`${p}.bn3`)));
  });
  stream.axes.push({ tensor: 'linear.weight', axis: 0 });
  groups.push(stream);
  return { groups };
}
