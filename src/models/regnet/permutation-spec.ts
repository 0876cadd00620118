/**
 * RegNet's permutation symmetries (Ainsworth et al. 2023, "Git Re-Basin"; pytorch-cifar names).
 *
 * Residual streams, as ResNet's: the stem's output until layer1.0 (whose shortcut conv starts a new
 * stream), then one stream per stage — its first block's shortcut conv writes it, every block's
 * conv3 (+ bn3) adds to it, every block's conv1 and the next stage's shortcut read it, and
 * `linear` reads the last one.
 *
 * Inside a block the grouped conv2 (g groups of c_g = w/g channels) admits only permutations that
 * keep its groups: channel γ·c_g + j may move to σ(γ)·c_g + τ(j). So each block has
 * - `{block}.groups` — σ over the g groups, acting on conv1's outputs (+ bn1) and conv2's inputs
 *   (as blocks of c_g channels, `stride` c_g), and on conv2's outputs, bn2, SE and conv3's inputs;
 *   conv2's input axis holds only the c_g channels of one group, so σ does not act on it;
 * - `{block}.in` — τ over the c_g channels within every group at conv2's input (conv1 out, bn1,
 *   conv2's input axis), the same τ for all groups;
 * - `{block}.out` — the same within groups at conv2's output (conv2 out, bn2, se1 in, se2 out,
 *   conv3 in);
 * - `{block}.se` — SE's hidden units (se1 out, se2 in), for RegNetY.
 * Permutations that differ from group to group are symmetries too, but one permutation per group
 * of the spec cannot say so; groups of size 1 are left out.
 */
import type { PermutationGroup, PermutationSpec, PermutedAxis } from '../capabilities.js';
import { batchNormTensors, outputUnits, specHasTensor, specShape } from '../permutation-axes.js';
import type { ModelSpec } from '../types.js';

export function regNetPermutationSpec(spec: ModelSpec): PermutationSpec {
  const channels = (name: string): number => specShape(spec, name).at(-1) as number;
  const groups: PermutationGroup[] = [];
  const withStride = (axes: readonly PermutedAxis[], stride: number): PermutedAxis[] => axes.map((a) => (stride === 1 ? a : { ...a, stride }));
  const blocks = spec.params
    .map((p) => /^(layer\d+\.\d+)\.conv1\.weight$/.exec(p.name)?.[1])
    .filter((p): p is string => p !== undefined);
  let stream: { name: string; size: number; axes: PermutedAxis[] } = {
    name: 'stream0',
    size: channels('conv1.weight'),
    axes: outputUnits(spec, 'conv1.weight', batchNormTensors('bn1')),
  };
  let streams = 0;
  for (const p of blocks) {
    stream.axes.push({ tensor: `${p}.conv1.weight`, axis: 2 });
    if (specHasTensor(spec, `${p}.shortcut.0.weight`)) {
      stream.axes.push({ tensor: `${p}.shortcut.0.weight`, axis: 2 });
      groups.push(stream);
      streams += 1;
      stream = { name: `stream${streams}`, size: channels(`${p}.shortcut.0.weight`), axes: outputUnits(spec, `${p}.shortcut.0.weight`, batchNormTensors(`${p}.shortcut.1`)) };
    }
    const width = channels(`${p}.conv2.weight`);
    const perGroup = specShape(spec, `${p}.conv2.weight`)[2] as number;
    const g = width / perGroup;
    const se = specHasTensor(spec, `${p}.se.se1.weight`);
    const inputSide = outputUnits(spec, `${p}.conv1.weight`, batchNormTensors(`${p}.bn1`));
    const outputSide: PermutedAxis[] = [
      ...outputUnits(spec, `${p}.conv2.weight`, batchNormTensors(`${p}.bn2`)),
      ...(se ? [{ tensor: `${p}.se.se1.weight`, axis: 2 }, ...outputUnits(spec, `${p}.se.se2.weight`, [`${p}.se.se2.bias`])] : []),
      { tensor: `${p}.conv3.weight`, axis: 2 },
    ];
    if (g > 1) groups.push({ name: `${p}.groups`, size: g, axes: [...withStride(inputSide, perGroup), ...withStride(outputSide, perGroup)] });
    if (perGroup > 1) {
      groups.push({ name: `${p}.in`, size: perGroup, axes: [...inputSide, { tensor: `${p}.conv2.weight`, axis: 2 }] });
      groups.push({ name: `${p}.out`, size: perGroup, axes: outputSide });
    }
    if (se) groups.push({ name: `${p}.se`, size: channels(`${p}.se.se1.weight`), axes: [...outputUnits(spec, `${p}.se.se1.weight`, [`${p}.se.se1.bias`]), { tensor: `${p}.se.se2.weight`, axis: 2 }] });
    stream.axes.push(...outputUnits(spec, `${p}.conv3.weight`, batchNormTensors(`${p}.bn3`)));
  }
  stream.axes.push({ tensor: 'linear.weight', axis: 0 });
  groups.push(stream);
  return { groups };
}
