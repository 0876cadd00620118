/**
 * CCT (Compact Convolutional Transformer), everything the toolkit knows about it: the model
 * (cct.ts), its PyTorch names and layouts (pytorch.ts), and its blocks and LLPF stage order
 * (stages.ts). No permutation spec (attention heads and the residual stream would need one of
 * their own; not defined yet) and no activation hooks.
 */
import type { Architecture } from '../types.js';
import { cctModel, type CctConfig } from './cct.js';
import { cctPyTorch } from './pytorch.js';
import { cctBlockOf, cctLlpfStages } from './stages.js';

export { CCT_PRESETS, cctGeometry, cctTokenize, cctClassify, type CctConfig, type CctPresetName, type CctShape } from './cct.js';

/** The CCT architecture as registered. */
export const cct: Architecture<CctConfig> = {
  ...cctModel,
  pytorch: cctPyTorch,
  llpfStages: cctLlpfStages,
  blockOf: cctBlockOf,
};
