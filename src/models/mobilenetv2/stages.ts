/**
 * MobileNetV2's stages, for both ports. Blocks: the convs of inverted residual N
 * (`layers.N.*` / `bottlenecks.N.*`) form the block `layers.N`. LLPF (Tian et al.) moves the
 * network stage by stage as in ResNet18's schedule: the stem from tick 0, the blocks of table row
 * r (the 16-, 24-, 32-, 64-, 96-, 160- and 320-channel rows, r = 0 … 6) from (r + 1)·stageTicks,
 * the head conv from 8·stageTicks and the classifier from 9·stageTicks (default stageTicks 2000).
 */
import type { LlpfStages } from '../capabilities.js';
import { rowOfBlock, type MobileNetV2Variant } from './mobilenetv2.js';

export function mobileNetV2BlockOf(variant: MobileNetV2Variant): (group: string) => string | undefined {
  const pattern = new RegExp(`^(${variant.blocks}\\.\\d+)\\.`);
  return (group) => pattern.exec(group)?.[1];
}

export function mobileNetV2LlpfStages(variant: MobileNetV2Variant): LlpfStages {
  const pattern = new RegExp(`^${variant.blocks}\\.(\\d+)\\.`);
  return {
    defaultStageTicks: 2000,
    stageOf(group) {
      if (group === variant.classifier) return 9;
      if (group === variant.head.conv) return 8;
      const index = pattern.exec(group)?.[1];
      const row = index === undefined ? undefined : rowOfBlock(Number(index));
      return row === undefined ? 0 : row + 1;
    },
  };
}
