/**
 * LeNet5 state dicts in PyTorch (`conv1, conv2, fc1, fc2, fc3`, names as ours). Only fc1 differs
 * from the generic layout rules: it reads the 16×side×side output of conv2 + pool, which PyTorch
 * flattens channel-major and NHWC channel-minor, so the feature (c, h, w) sits at
 * p = (c·H + h)·W + w in PyTorch's vector and at n = (h·W + w)·C + c in ours, and
 * ours[n(c, h, w), o] = torch[o, p(c, h, w)].
 *
 * Config inference: input channels from conv1, classes from fc3, and the input size from fc1's
 * 16·side² inputs (see `inferConfig`).
 */
import type { PyTorchFormat } from '../capabilities.js';

export const lenet5PyTorch: PyTorchFormat = {
  matches: (names) => names.includes('fc3.weight') && names.includes('conv2.weight'),

  denseInputOrder(spec) {
    if (spec.name !== 'fc1.weight') return undefined;
    const side = Math.round(Math.sqrt((spec.shape[0] as number) / 16));
    return [16, side, side];
  },

  inferConfig(_tensors, shapeOf, source) {
    const inFeatures = shapeOf('fc1.weight', 2)[1] as number;
    const side = Math.sqrt(inFeatures / 16);
    if (!Number.isInteger(side) || side < 1) {
      throw new Error(`${source}: tensor "fc1.weight" reads ${inFeatures} features, which is not 16·side² for a LeNet5 feature map`);
    }
    // ⌊(⌊s/2⌋ − 4)/2⌋ = side holds for s = 4·side + 8 … 4·side + 11; the smallest is the usual one (28, 32).
    return { inputChannels: shapeOf('conv1.weight', 4)[1], inputSize: 4 * side + 8, classes: shapeOf('fc3.weight', 2)[0] };
  },
};
