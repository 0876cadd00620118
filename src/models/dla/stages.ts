/**
 * DLA's stages. Blocks: a BasicBlock's groups (`….conv1`, `.conv2`, `.shortcut`) form the block
 * (`layer4.level_1.left_node`); roots, base, layer1, layer2 and `linear` are stages of their own.
 * LLPF (Tian et al.), module by module of pytorch-cifar's forward as for ResNet's layers: base moves
 * from tick 0, layer s (1 … 6) from s·stageTicks, `linear` from 7·stageTicks (default stageTicks
 * 2000, as ResNet18's).
 */
import type { LlpfStages } from '../capabilities.js';

export function dlaBlockOf(group: string): string | undefined {
  return /^(layer\d+(?:\.[a-z_0-9]+)*?)\.(?:conv1|conv2|shortcut)$/.exec(group)?.[1];
}

export const dlaLlpfStages: LlpfStages = {
  defaultStageTicks: 2000,
  stageOf(group) {
    if (group === 'linear') return 7;
    const layer = /^layer(\d+)(\.|$)/.exec(group)?.[1];
    return layer === undefined ? 0 : Number(layer);
  },
};
