/**
 * ShuffleNet's stages. Blocks: the conv → BN units `stage{s}.{b}.gconv1`, `.dwconv`, `.gconv2`
 * form the unit `stage{s}.{b}` (b = 0 the pool unit); the stem `conv1` and `fc` are stages of their
 * own. LLPF (Tian et al.), by analogy with their ResNet schedule: the stem moves from tick 0,
 * stage2, stage3, stage4 from 1, 2, 3·stageTicks and fc from 4·stageTicks (default stageTicks 2000).
 */
import type { LlpfStages } from '../capabilities.js';

export function shuffleNetBlockOf(group: string): string | undefined {
  return /^(stage\d+\.\d+)\./.exec(group)?.[1];
}

export const shuffleNetLlpfStages: LlpfStages = {
  defaultStageTicks: 2000,
  stageOf(group) {
    const stage = /^stage(\d+)\./.exec(group)?.[1];
    if (stage !== undefined) return Number(stage) - 1;
    return group === 'fc' ? 4 : 0;
  },
};
