/**
 * ShuffleNetV2's stages. Blocks: the conv → BN units `layer{s}.{b}.conv{i}` form the block
 * `layer{s}.{b}` (b = 0 the DownBlock); the stem `conv1`, the head `conv2` and `linear` are stages
 * of their own. LLPF (Tian et al.), by analogy with their ResNet schedule: the stem moves from tick
 * 0, layer s from s·stageTicks, the head conv from 4·stageTicks and linear from 5·stageTicks
 * (default stageTicks 2000).
 */
import type { LlpfStages } from '../capabilities.js';

export function shuffleNetV2BlockOf(group: string): string | undefined {
  return /^(layer\d+\.\d+)\./.exec(group)?.[1];
}

export const shuffleNetV2LlpfStages: LlpfStages = {
  defaultStageTicks: 2000,
  stageOf(group) {
    const stage = /^layer(\d+)\./.exec(group)?.[1];
    if (stage !== undefined) return Number(stage);
    return group === 'conv2' ? 4 : group === 'linear' ? 5 : 0;
  },
};
