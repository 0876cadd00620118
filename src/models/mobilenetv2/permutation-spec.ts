/**
 * MobileNetV2's permutation symmetries (Ainsworth et al. 2023, "Git Re-Basin"), for both ports:
 *
 * - inside each inverted residual, one permutation of the t·C_in expansion channels: the output of
 *   conv1 (+ bn1), the depthwise conv2 (its one filter per channel, axis 3 of [3, 3, 1, C], + bn2;
 *   a depthwise conv maps channel c to channel c, so it commutes with any permutation) and the
 *   input of conv3;
 * - one permutation per residual stream: the stem starts one; a block with an identity shortcut
 *   writes conv3 + bn3 into the stream it reads (y = BN₃(conv₃ h) + x ties them); a block without
 *   one (stride 2, or DFL_torch's C_in ≠ C_out) or with a conv shortcut (pytorch-cifar's, which
 *   writes conv3 and shortcut.0 + their BNs into the same sum) starts a new stream;
 * - the head conv's 1280·k output channels (+ BN), read by the classifier's rows.
 *
 * Each stream permutes the inputs of every conv that reads it (conv1 and shortcut.0 of the next
 * block, or the head conv).
 */
import type { PermutationGroup, PermutationSpec, PermutedAxis } from '../capabilities.js';
import { batchNormTensors, outputUnits, specHasTensor, specShape } from '../permutation-axes.js';
import type { ModelSpec } from '../types.js';
import { invertedResiduals, type MobileNetV2Variant } from './mobilenetv2.js';

export function mobileNetV2PermutationSpec(variant: MobileNetV2Variant): (spec: ModelSpec) => PermutationSpec {
  // Strides depend on the block index only, not on the width.
  const strides = new Map(invertedResiduals(variant, 1).map((b) => [b.prefix, b.stride]));
  return (spec) => {
    const channels = (name: string): number => specShape(spec, name).at(-1) as number;
    const blocks = spec.layers.map((l) => new RegExp(`^(${variant.blocks}\\.\\d+)\\.conv1$`).exec(l.name)?.[1]).filter((p): p is string => p !== undefined);
    const groups: PermutationGroup[] = [];
    const stem = `${variant.stem.conv}.weight`;
    let streams = 0;
    let stream: { name: string; size: number; axes: PermutedAxis[] } = { name: 'stream0', size: channels(stem), axes: outputUnits(spec, stem, batchNormTensors(variant.stem.bn)) };
    for (const p of blocks) {
      stream.axes.push({ tensor: `${p}.conv1.weight`, axis: 2 });
      const conv = specHasTensor(spec, `${p}.shortcut.0.weight`);
      if (conv) stream.axes.push({ tensor: `${p}.shortcut.0.weight`, axis: 2 });
      groups.push({
        name: `${p}.expansion`,
        size: channels(`${p}.conv1.weight`),
        axes: [...outputUnits(spec, `${p}.conv1.weight`, batchNormTensors(`${p}.bn1`)), ...outputUnits(spec, `${p}.conv2.weight`, batchNormTensors(`${p}.bn2`)), { tensor: `${p}.conv3.weight`, axis: 2 }],
      });
      const out = outputUnits(spec, `${p}.conv3.weight`, batchNormTensors(`${p}.bn3`));
      const shortcut = variant.shortcut(stream.size, channels(`${p}.conv3.weight`), strides.get(p) ?? 1);
      if (shortcut === 'identity') {
        stream.axes.push(...out);
        continue;
      }
      groups.push(stream);
      streams += 1;
      stream = { name: `stream${streams}`, size: channels(`${p}.conv3.weight`), axes: out };
      if (conv) stream.axes.push(...outputUnits(spec, `${p}.shortcut.0.weight`, batchNormTensors(`${p}.shortcut.1`)));
    }
    const head = `${variant.head.conv}.weight`;
    stream.axes.push({ tensor: head, axis: 2 });
    groups.push(stream);
    groups.push({ name: 'head', size: channels(head), axes: [...outputUnits(spec, head, batchNormTensors(variant.head.bn)), { tensor: `${variant.classifier}.weight`, axis: 0 }] });
    return { groups };
  };
}
