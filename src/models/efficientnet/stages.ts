/**
 * EfficientNet-B0's stages. Blocks: the groups `layers.{i}.conv1`, `.conv2`, `.se.se1`, `.se.se2`,
 * `.conv3` form the MBConv block `layers.{i}`; the stem `conv1` and `linear` are stages of their
 * own. LLPF (Tian et al.), stage by stage of pytorch-cifar's cfg as for ResNet's layers: the stem
 * moves from tick 0, the blocks of cfg stage s (1 … 7) from s·stageTicks, `linear` from
 * 8·stageTicks (default stageTicks 2000, as ResNet18's).
 */
import type { LlpfStages } from '../capabilities.js';
import { efficientNetBlocks } from './efficientnet.js';

// The cfg stage of each block index does not depend on the width.
const STAGE_OF_BLOCK = efficientNetBlocks(1).map((b) => b.stage);

export function efficientNetBlockOf(group: string): string | undefined {
  return /^(layers\.\d+)\./.exec(group)?.[1];
}

export const efficientNetLlpfStages: LlpfStages = {
  defaultStageTicks: 2000,
  stageOf(group) {
    if (group === 'linear') return 8;
    const block = /^layers\.(\d+)\./.exec(group)?.[1];
    return block === undefined ? 0 : (STAGE_OF_BLOCK[Number(block)] ?? 0);
  },
};
