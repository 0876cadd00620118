/**
 * ShuffleNet's permutation symmetries (Ainsworth et al. 2023, "Git Re-Basin"; DFL_torch names):
 * one per unit, on its bottleneck of m channels (gconv1 → BN → ReLU → shuffle_g → dwconv → BN →
 * gconv2), where the shuffle and the two grouped convs leave a smaller group than the m! of an
 * ungrouped bottleneck. Write gconv1's output channel as p = (a·g + β)·r₀ + r with r₀ = m/g², a the
 * gconv1 group, β the gconv2 group it is shuffled into, r < r₀: the shuffle sends it to
 * j = β·(m/g) + r·g + a, gconv2 group β at position r·g + a. A permutation σ of r, the same for
 * every (a, β), keeps every channel in its gconv1 and gconv2 group, so
 *
 * - `stage{s}.{b}.neck` (size r₀): gconv1's output axis and bn1 with stride 1, the depthwise dwconv
 *   and bn with stride g, gconv2's input axis (m/g per group) with stride g.
 *
 * With g = 1 (DFL_torch's model) r₀ = m: every bottleneck channel is free. Defined only where g²
 * divides m and r₀ ≥ 2 (for g = 3 at scale factor 0.25, no unit qualifies: m = 15, 30, 60).
 *
 * Not defined: the stem and the stage streams. Each pool unit concatenates its branch with its
 * (pooled) input, so a stage's stream carries the stem's and the earlier stages' channels at fixed
 * offsets, and every grouped gconv1 reads the stream in g contiguous groups: a permutation of the
 * stream would have to act on sub-ranges of an axis and respect those groups, which the spec's
 * axes (whole axes, in strided blocks) cannot say. Weight matching leaves these channels in place.
 */
import type { PermutationGroup, PermutationSpec, PermutedAxis } from '../capabilities.js';
import { batchNormTensors, specShape } from '../permutation-axes.js';
import type { ModelSpec } from '../types.js';

export function shuffleNetPermutationSpec(spec: ModelSpec): PermutationSpec {
  const groups: PermutationGroup[] = [];
  const units = spec.params.map((p) => /^(stage\d+\.\d+)\.gconv1\.weight$/.exec(p.name)?.[1]).filter((p): p is string => p !== undefined);
  for (const p of units) {
    const m = specShape(spec, `${p}.gconv1.weight`)[3] as number;
    const perGroup = specShape(spec, `${p}.gconv2.weight`)[2] as number;
    const g = m / perGroup;
    if (m % (g * g) !== 0 || m / (g * g) < 2) continue;
    const strided = (tensor: string, axis: number): PermutedAxis => (g === 1 ? { tensor, axis } : { tensor, axis, stride: g });
    groups.push({
      name: `${p}.neck`,
      size: m / (g * g),
      axes: [
        { tensor: `${p}.gconv1.weight`, axis: 3 },
        ...batchNormTensors(`${p}.bn1`).map((tensor) => ({ tensor, axis: 0 })),
        strided(`${p}.dwconv.weight`, 3),
        ...batchNormTensors(`${p}.bn`).map((tensor) => strided(tensor, 0)),
        strided(`${p}.gconv2.weight`, 2),
      ],
    });
  }
  return { groups };
}
