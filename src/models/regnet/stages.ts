/**
 * RegNet's stages. Blocks: `layer{s}.{b}.conv1`, `.conv2`, `.se.se1`, `.se.se2`, `.conv3`,
 * `.shortcut` form the block `layer{s}.{b}`; the stem `conv1` and `linear` are stages of their own.
 * LLPF (Tian et al.), as their ResNet schedule: the stem moves from tick 0, layer s from
 * s·stageTicks, linear from 5·stageTicks (default stageTicks 2000).
 */
import type { LlpfStages } from '../capabilities.js';

export function regNetBlockOf(group: string): string | undefined {
  return /^(layer\d+\.\d+)\./.exec(group)?.[1];
}

export const regNetLlpfStages: LlpfStages = {
  defaultStageTicks: 2000,
  stageOf(group) {
    const stage = /^layer(\d+)\./.exec(group)?.[1];
    return group === 'linear' ? 5 : stage === undefined ? 0 : Number(stage);
  },
};
