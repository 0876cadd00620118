/**
 * A linear softmax classifier on flattened images, as an `Architecture`: small enough that its
 * loss and gradients have closed forms in plain JS, for tests of generic machinery.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture, ModelSpec, ModelState } from '../src/models/types.js';
import { createRandom, uniformArray } from '../src/util/random.js';

export interface ToyConfig {
  readonly size: number;
  readonly classes: number;
}

export const toyLinear: Architecture<ToyConfig> = {
  name: 'toy-linear',
  defaultConfig: { size: 2, classes: 3 },
  parseConfig: (raw) => raw as ToyConfig,
  spec(config): ModelSpec {
    const d = config.size * config.size;
    return {
      params: [
        { name: 'fc.weight', shape: [d, config.classes], kind: 'weight', layer: 'fc' },
        { name: 'fc.bias', shape: [config.classes], kind: 'bias', layer: 'fc' },
      ],
      buffers: [],
      layers: [{ name: 'fc', params: ['fc.weight', 'fc.bias'], buffers: [] }],
      inputShape: [config.size, config.size, 1],
      classes: config.classes,
    };
  },
  init(config, seed): ModelState {
    const random = createRandom(seed);
    const d = config.size * config.size;
    return {
      params: new Map<string, tf.Tensor>([
        ['fc.weight', tf.tensor2d(uniformArray(d * config.classes, -0.5, 0.5, random), [d, config.classes])],
        ['fc.bias', tf.tensor1d(uniformArray(config.classes, -0.5, 0.5, random))],
      ]),
      buffers: new Map(),
    };
  },
  apply(_config, state, x) {
    const logits = tf.tidy(() => {
      const flat = tf.reshape<tf.Rank.R2>(x, [x.shape[0], -1]);
      return tf.add<tf.Tensor2D>(tf.matMul(flat, state.params.get('fc.weight') as tf.Tensor2D), state.params.get('fc.bias') as tf.Tensor1D);
    });
    return { logits, batchStats: new Map() };
  },
};
