/**
 * `mode-connectivity/models`: the architectures (LeNet5, ResNet18, CCT, ShuffleNet v1, ShuffleNetV2, RegNet) as
 * pure functions of named parameter maps, the registry that finds them by name, BatchNorm running statistics and
 * helpers on tensor maps.
 *
 * @module mode-connectivity/models
 */
export * from '../models/types.js';
export type { PyTorchFormat, ShapedTensor, ActivationHooks, HiddenLayer, LlpfStages, PermutedAxis, PermutationGroup } from '../models/capabilities.js';
export { lenet5, type LeNet5Config } from '../models/lenet5/index.js';
export { resnet18, resnet18Widths, type ResNet18Config } from '../models/resnet18/index.js';
export { cct, CCT_PRESETS, type CctConfig, type CctPresetName } from '../models/cct/index.js';
export { shufflenet, shuffleNetWidths, SHUFFLENET_GROUPS, type ShuffleNetConfig, type ShuffleNetGroups } from '../models/shufflenet/index.js';
export { shufflenetv2, shuffleNetV2Widths, SHUFFLENETV2_NET_SIZES, type ShuffleNetV2Config, type ShuffleNetV2NetSize } from '../models/shufflenetv2/index.js';
export { regnet, regNetWidths, REGNET_VARIANTS, type RegNetConfig, type RegNetVariant } from '../models/regnet/index.js';
export { registerArchitecture, getArchitecture, listArchitectures, hasArchitecture, createModel } from '../models/registry.js';
export { loadArchitectureModule, type LoadArchitectureModuleOptions } from '../models/architecture-module.js';
export { updateRunningStats, resetRunningStats, BATCH_NORM_EPSILON, DEFAULT_BATCH_NORM_MOMENTUM, type BatchNormMomentum } from '../models/batch-norm.js';
export { disposeTensors, mapTensors, cloneTensors, assertSameLayout, interpolateTensors, squaredNorm, countScalars } from '../models/tensor-map.js';
