/**
 * CCT's stages. Blocks: `classifier.blocks.{j}.self_attn`, `.norm1`, `.mlp` form the encoder
 * layer `classifier.blocks.{j}`; each tokenizer conv, the positional embedding, `classifier.norm`,
 * `classifier.attention_pool` and `classifier.fc` are stages of their own. LLPF (Tian et al.): the
 * groups outside the blocks move from tick 0, block j from (j + 1)·stageTicks (default 5000).
 */
import type { LlpfStages } from '../capabilities.js';

export function cctBlockOf(group: string): string | undefined {
  return /^(classifier\.blocks\.\d+)\./.exec(group)?.[1];
}

export const cctLlpfStages: LlpfStages = {
  defaultStageTicks: 5000,
  stageOf(group) {
    const block = /(?:^|\.)blocks?\.(\d+)(?:\.|$)/.exec(group)?.[1];
    return block === undefined ? 0 : Number(block) + 1;
  },
};
