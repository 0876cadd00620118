/**
 * ResNet18's stages. Blocks: `layer{s}.{b}.conv1`, `.conv2`, `.downsample` form the BasicBlock
 * `layer{s}.{b}`; the stem `conv1` and `fc` are stages of their own. LLPF (Tian et al.): the stem
 * moves from tick 0, layer s from s·stageTicks, fc from 5·stageTicks (default stageTicks 2000: the
 * paper's 2k, 4k, …, 10k).
 */
import type { LlpfStages } from '../capabilities.js';

export function resnet18BlockOf(group: string): string | undefined {
  return /^(layer\d+\.\d+)\./.exec(group)?.[1];
}

export const resnet18LlpfStages: LlpfStages = {
  defaultStageTicks: 2000,
  stageOf(group) {
    const stage = /^layer(\d+)\./.exec(group)?.[1];
    return group === 'fc' ? 5 : stage === undefined ? 0 : Number(stage);
  },
};
