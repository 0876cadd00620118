/**
 * VGG's stages. VGG has no blocks (`blockOf` is absent: every conv is its own stage for block-wise
 * schedules). LLPF (Tian et al.) moves a network stage by stage, as in ResNet18's schedule: here
 * the convs of pooling stage s (the convs before the s-th max-pool) move from tick s·stageTicks,
 * s = 0 … 4, and the classifier from 5·stageTicks (default stageTicks 2000, as ResNet18's).
 *
 * The stage is read off the conv's module index. An index means the same stage at every depth
 * where it is a conv (features.24 is stage 3 in VGG-13 and VGG-16; the test checks all depths), so
 * no config is needed.
 */
import type { LlpfStages } from '../capabilities.js';
import { vggConvs, VGG_DEPTHS } from './vgg.js';

/** The pooling stage of conv module `index` at any depth where it is a conv. */
function stageOfIndex(index: number): number | undefined {
  for (const depth of VGG_DEPTHS) {
    const conv = vggConvs({ depth, width: 1, inputChannels: 3 }).find((c) => c.index === index);
    if (conv !== undefined) return conv.stage;
  }
  return undefined;
}

export const vggLlpfStages: LlpfStages = {
  defaultStageTicks: 2000,
  stageOf(group) {
    if (group === 'classifier') return 5;
    const index = /^features\.(\d+)$/.exec(group)?.[1];
    return index === undefined ? 0 : (stageOfIndex(Number(index)) ?? 0);
  },
};
