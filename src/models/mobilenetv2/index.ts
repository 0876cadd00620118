/**
 * MobileNetV2 in its two CIFAR ports, everything the toolkit knows about them: the models
 * (mobilenetv2.ts; `mobilenetv2` is pytorch-cifar's, `mobilenetv2-dfl` DFL_torch's, two registered
 * names because their structures differ), their PyTorch names (pytorch.ts), permutation specs for
 * weight matching (permutation-spec.ts) and blocks and LLPF stage order (stages.ts). No activation
 * hooks: with BatchNorm, REPAIR is a BN reset.
 */
import type { Architecture } from '../types.js';
import { DFL_VARIANT, mobileNetV2Model, PYTORCH_CIFAR_VARIANT, type MobileNetV2Config, type MobileNetV2Variant } from './mobilenetv2.js';
import { mobileNetV2PermutationSpec } from './permutation-spec.js';
import { mobileNetV2PyTorch } from './pytorch.js';
import { mobileNetV2BlockOf, mobileNetV2LlpfStages } from './stages.js';

export { invertedResiduals, type InvertedResidual, type MobileNetV2Config } from './mobilenetv2.js';
export { inferWidth } from './pytorch.js';

function architecture(variant: MobileNetV2Variant): Architecture<MobileNetV2Config> {
  return {
    ...mobileNetV2Model(variant),
    pytorch: mobileNetV2PyTorch(variant),
    permutationSpec: mobileNetV2PermutationSpec(variant),
    llpfStages: mobileNetV2LlpfStages(variant),
    blockOf: mobileNetV2BlockOf(variant),
  };
}

/** pytorch-cifar's MobileNetV2 as registered (`mobilenetv2`, config `{ width, inputChannels, inputSize, classes }`). */
export const mobilenetv2 = architecture(PYTORCH_CIFAR_VARIANT);

/** DFL_torch's MobileNetV2 (after chenhang98/mobileNet-v2_cifar10) as registered (`mobilenetv2-dfl`). */
export const mobilenetv2Dfl = architecture(DFL_VARIANT);
