/**
 * CCT state dicts in PyTorch (SHI-Labs/Compact-Transformers names, as ours). Layouts are the
 * generic ones, except that PyTorch keeps a leading batch axis of 1 on the positional embedding.
 *
 * Config inference: every size from the shapes; the number of attention heads leaves no trace in
 * them, so it is taken from a preset whose other fields all match, and otherwise must be given.
 */
import type { PyTorchFormat, ShapedTensor } from '../capabilities.js';
import { CCT_PRESETS, cctGeometry } from './cct.js';

const SHAPE_KEYS = ['layers', 'mlpRatio', 'embeddingDim', 'kernelSize', 'convLayers', 'convChannels'] as const;

export const cctPyTorch: PyTorchFormat = {
  matches: (names) => names.some((n) => n.startsWith('tokenizer.conv_layers.') || n.startsWith('classifier.blocks.')),

  pytorchShape: (spec) => (spec.name === 'classifier.positional_emb' && spec.shape.length === 2 ? [1, ...spec.shape] : undefined),

  inferConfig: (tensors, shapeOf) => inferCctConfig(tensors, shapeOf),

  checkConfig(inferred, given, source) {
    if (Object.keys(inferred).length > 0 && inferred.heads === undefined && given.heads === undefined && given.preset === undefined) {
      throw new Error(`${source}: the number of CCT attention heads cannot be read from the tensor shapes; give it in the config (heads)`);
    }
  },
};

/** CCT config fields from shapes (heads only when a preset matches the other fields). */
function inferCctConfig(tensors: ReadonlyMap<string, ShapedTensor>, shapeOf: (name: string, rank: number) => readonly number[]): Record<string, unknown> {
  let convLayers = 0;
  while (tensors.has(`tokenizer.conv_layers.${convLayers}.0.weight`)) convLayers++;
  let layers = 0;
  while (tensors.has(`classifier.blocks.${layers}.linear1.weight`)) layers++;
  const first = shapeOf('tokenizer.conv_layers.0.0.weight', 4);
  const fc = shapeOf('classifier.fc.weight', 2);
  const linear1 = shapeOf('classifier.blocks.0.linear1.weight', 2);
  const tokens = shapeOf('classifier.positional_emb', 3)[1] as number;
  const embeddingDim = fc[1] as number;
  const shape = {
    layers,
    mlpRatio: (linear1[0] as number) / embeddingDim,
    embeddingDim,
    kernelSize: first[2] as number,
    convLayers,
    // The first conv's width: the intermediate width when there are several, else D.
    convChannels: convLayers > 1 ? (first[0] as number) : CCT_PRESETS.cct_7_3x1_32.convChannels,
  };
  const base = { ...shape, inputChannels: first[1] as number, classes: fc[0] as number, heads: 1 };
  // The input size: 32 if it gives the file's token count, else the smallest size that does.
  const tokensFor = (inputSize: number) => cctGeometry({ ...base, inputSize }).sequenceLength;
  let inputSize = 32;
  if (tokensFor(inputSize) !== tokens) {
    inputSize = 1;
    while (inputSize < 4096 && tokensFor(inputSize) !== tokens) inputSize++;
  }
  const preset = Object.values(CCT_PRESETS).find((p) => SHAPE_KEYS.every((key) => p[key] === shape[key]));
  return { ...base, heads: preset?.heads, inputSize };
}
