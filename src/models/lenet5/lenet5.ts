/**
 * LeNet-5 (LeCun et al. 1998, "Gradient-based learning applied to document recognition"), in the
 * modern ReLU/max-pool form used in mode-connectivity studies:
 *
 *   x → conv1 6@5×5 pad 2 → ReLU → maxpool 2 → conv2 16@5×5 valid → ReLU → maxpool 2
 *     → flatten (H·W·C order, NHWC) → fc1 → ReLU → fc2 84 → ReLU → fc3 classes.
 *
 * For 28×28 inputs the flattened size is 5·5·16 = 400 and the model has 61,706 parameters with one
 * input channel. No BatchNorm, so training and evaluation mode are the same function.
 */
import * as tf from '@tensorflow/tfjs-core';
import { configRecord, positiveIntField } from '../config-fields.js';
import { initFromSpec } from '../init.js';
import { convRelu, denseRelu } from '../fused-relu.js';
import { buildModelSpec, checkApplyInputs, tensorOf } from '../model-spec.js';
import type { Architecture, ModelSpec } from '../types.js';

export interface LeNet5Config {
  /** Input channels (default 1). */
  readonly inputChannels: number;
  /** Input height and width (default 28; at least 12). */
  readonly inputSize: number;
  /** Number of classes (default 10). */
  readonly classes: number;
}

const DEFAULTS: LeNet5Config = { inputChannels: 1, inputSize: 28, classes: 10 };

/** Side of the feature map entering fc1: ⌊(⌊s/2⌋ − 4)/2⌋. */
function featureSide(inputSize: number): number {
  return Math.floor((Math.floor(inputSize / 2) - 4) / 2);
}

function spec(config: LeNet5Config): ModelSpec {
  const c = config.inputChannels;
  const side = featureSide(config.inputSize);
  const flat = side * side * 16;
  const dense = (name: string, nIn: number, nOut: number) => ({
    name,
    tensors: [
      { name: `${name}.weight`, shape: [nIn, nOut], kind: 'weight' as const },
      { name: `${name}.bias`, shape: [nOut], kind: 'bias' as const },
    ],
  });
  return buildModelSpec(
    [
      {
        name: 'conv1',
        tensors: [
          { name: 'conv1.weight', shape: [5, 5, c, 6], kind: 'weight' },
          { name: 'conv1.bias', shape: [6], kind: 'bias' },
        ],
      },
      {
        name: 'conv2',
        tensors: [
          { name: 'conv2.weight', shape: [5, 5, 6, 16], kind: 'weight' },
          { name: 'conv2.bias', shape: [16], kind: 'bias' },
        ],
      },
      dense('fc1', flat, 120),
      dense('fc2', 120, 84),
      dense('fc3', 84, config.classes),
    ],
    [config.inputSize, config.inputSize, c],
    config.classes,
  );
}

/** LeNet5 the model (spec, init, apply); `lenet5` in index.ts adds its capabilities and is what gets registered. */
export const lenet5Model: Architecture<LeNet5Config> = {
  name: 'lenet5',
  defaultConfig: DEFAULTS,

  parseConfig(raw) {
    const r = configRecord(raw, 'lenet5', Object.keys(DEFAULTS));
    const config: LeNet5Config = {
      inputChannels: positiveIntField(r, 'inputChannels', DEFAULTS.inputChannels, 'lenet5'),
      inputSize: positiveIntField(r, 'inputSize', DEFAULTS.inputSize, 'lenet5'),
      classes: positiveIntField(r, 'classes', DEFAULTS.classes, 'lenet5'),
    };
    if (featureSide(config.inputSize) < 1) throw new Error(`lenet5 config: inputSize must be at least 12, found ${config.inputSize}`);
    return config;
  },

  spec,

  init: initFromSpec(spec),

  apply(config, state, x, _options) {
    checkApplyInputs(spec(config), state, x, 'lenet5', false);
    const p = state.params;
    const logits = tf.tidy(() => {
      const conv = (input: tf.Tensor4D, name: string, pad: 'same' | 'valid') =>
        convRelu({ x: input, filter: tensorOf<tf.Rank.R4>(p, `${name}.weight`), strides: 1, pad, bias: tensorOf<tf.Rank.R1>(p, `${name}.bias`) });
      const dense = (input: tf.Tensor2D, name: string, relu: boolean) => {
        const [weight, bias] = [tensorOf<tf.Rank.R2>(p, `${name}.weight`), tensorOf<tf.Rank.R1>(p, `${name}.bias`)];
        return relu ? denseRelu(input, weight, bias) : (tf.fused.matMul({ a: input, b: weight, bias }) as tf.Tensor2D);
      };
      // 5×5 with pad 2 at stride 1 is exactly 'same'.
      let h = tf.maxPool(conv(x, 'conv1', 'same'), 2, 2, 'valid');
      h = tf.maxPool(conv(h, 'conv2', 'valid'), 2, 2, 'valid');
      let f = tf.reshape<tf.Rank.R2>(h, [x.shape[0], -1]);
      f = dense(f, 'fc1', true);
      f = dense(f, 'fc2', true);
      return dense(f, 'fc3', false);
    });
    return { logits, batchStats: new Map() };
  },
};
