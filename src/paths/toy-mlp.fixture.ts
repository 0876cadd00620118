/**
 * Test fixture (not part of the public API): a 2-8-2 ReLU network on 2D points stored as 1×1×2
 * images, and an XOR problem whose hand-built solution A and its hidden-unit permutation B compute
 * the same function while the straight line between them has a barrier.
 *
 * A: hidden units 0..3 are relu(x₁+x₂), relu(−x₁−x₂), relu(x₁−x₂), relu(x₂−x₁) with output
 * weights k·(+1, +1, −1, −1) on the "same sign" logit, so logit₁ − logit₀ = k·(|x₁+x₂| − |x₁−x₂|),
 * positive exactly when x₁·x₂ > 0. B swaps units 0↔2 and 1↔3. At t = ½ every output weight of
 * units 0..3 is (+k − k)/2 = 0, so the logits are constant and the loss is log 2. That midpoint
 * is a stationary point of the curve objective, so curve training uses `trainXorModel` instead:
 * two seeds trained by full-batch SGD, whose straight line has a barrier (≈ 0.85 nats for seeds
 * 1 and 2 against ≈ 0.05 at the ends).
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeTensors } from '../models/tensor-map.js';
import type { Architecture, Model, ModelSpec, ModelState } from '../models/types.js';
import { crossEntropy } from '../train/loss.js';
import { createOptimizer } from '../train/optimizer.js';
import { createRandom, uniformArray } from '../util/random.js';

export interface ToyMlpConfig {
  readonly hidden: number;
}

export const toyMlp: Architecture<ToyMlpConfig> = {
  name: 'lenet5', // any known name: the toy never reaches the registry
  defaultConfig: { hidden: 8 },
  parseConfig: (raw) => raw as ToyMlpConfig,
  spec(config): ModelSpec {
    const h = config.hidden;
    return {
      params: [
        { name: 'fc1.weight', shape: [2, h], kind: 'weight', layer: 'fc1' },
        { name: 'fc1.bias', shape: [h], kind: 'bias', layer: 'fc1' },
        { name: 'fc2.weight', shape: [h, 2], kind: 'weight', layer: 'fc2' },
        { name: 'fc2.bias', shape: [2], kind: 'bias', layer: 'fc2' },
      ],
      buffers: [],
      layers: [
        { name: 'fc1', params: ['fc1.weight', 'fc1.bias'], buffers: [] },
        { name: 'fc2', params: ['fc2.weight', 'fc2.bias'], buffers: [] },
      ],
      inputShape: [1, 1, 2],
      classes: 2,
    };
  },
  init(config, seed): ModelState {
    const random = createRandom(seed);
    const h = config.hidden;
    return {
      params: new Map<string, tf.Tensor>([
        ['fc1.weight', tf.tensor2d(uniformArray(2 * h, -0.7, 0.7, random), [2, h])],
        ['fc1.bias', tf.zeros([h])],
        ['fc2.weight', tf.tensor2d(uniformArray(2 * h, -0.3, 0.3, random), [h, 2])],
        ['fc2.bias', tf.zeros([2])],
      ]),
      buffers: new Map(),
    };
  },
  apply(_config, state, x) {
    const p = (name: string): tf.Tensor => {
      const t = state.params.get(name);
      if (t === undefined) throw new Error(`toyMlp: missing parameter ${name}`);
      return t;
    };
    const logits = tf.tidy(() => {
      const flat = tf.reshape<tf.Rank.R2>(x, [x.shape[0], 2]);
      const hidden = tf.relu(tf.add(tf.matMul(flat, p('fc1.weight') as tf.Tensor2D), p('fc1.bias')));
      return tf.add<tf.Tensor2D>(tf.matMul(hidden, p('fc2.weight')), p('fc2.bias'));
    });
    return { logits, batchStats: new Map() };
  },
};

/** Hand-built XOR solution A (extra hidden units small and seeded) and its permutation B. */
export function xorModels(k = 4, hidden = 8, seed = 1): { a: Model<ToyMlpConfig>; b: Model<ToyMlpConfig> } {
  const random = createRandom(seed);
  const w1 = [1, -1, 1, -1, 1, -1, -1, 1]; // [2, 4] row-major: x₁ row then x₂ row
  const w2 = [0, k, 0, k, 0, -k, 0, -k]; // [4, 2]: units 0,1 vote "same sign", 2,3 "different"
  const extra1 = uniformArray(2 * (hidden - 4), -0.3, 0.3, random);
  const extra2 = uniformArray(2 * (hidden - 4), -0.1, 0.1, random);
  const build = (perm: readonly number[]): Model<ToyMlpConfig> => {
    const fc1 = new Float32Array(2 * hidden);
    const fc2 = new Float32Array(hidden * 2);
    for (let j = 0; j < hidden; j++) {
      const src = perm[j] ?? j;
      for (let r = 0; r < 2; r++) {
        fc1[r * hidden + j] = src < 4 ? (w1[r * 4 + src] as number) : (extra1[r * (hidden - 4) + src - 4] as number);
        fc2[j * 2 + r] = src < 4 ? (w2[src * 2 + r] as number) : (extra2[(src - 4) * 2 + r] as number);
      }
    }
    return {
      architecture: 'lenet5',
      config: { hidden },
      params: new Map<string, tf.Tensor>([
        ['fc1.weight', tf.tensor2d(fc1, [2, hidden])],
        ['fc1.bias', tf.zeros([hidden])],
        ['fc2.weight', tf.tensor2d(fc2, [hidden, 2])],
        ['fc2.bias', tf.zeros([2])],
      ]),
      buffers: new Map(),
    };
  };
  return { a: build([0, 1, 2, 3]), b: build([2, 3, 0, 1]) };
}

/** `count` points uniform in [−1, 1]², label 1 when x₁·x₂ > 0; x is [count, 1, 1, 2]. */
export function xorData(count: number, seed = 7): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const random = createRandom(seed);
  const points = uniformArray(2 * count, -1, 1, random);
  const labels = new Float32Array(count);
  for (let n = 0; n < count; n++) labels[n] = (points[2 * n] as number) * (points[2 * n + 1] as number) > 0 ? 1 : 0;
  return { x: tf.tensor4d(points, [count, 1, 1, 2]), y: tf.tensor1d(labels) };
}

/** A toy MLP trained from `seed` by full-batch SGD (lr 0.1, momentum 0.9) on `data`. */
export function trainXorModel(seed: number, data: { x: tf.Tensor4D; y: tf.Tensor1D }, steps = 300, hidden = 8): Model<ToyMlpConfig> {
  const config = { hidden };
  let params = toyMlp.init(config, seed).params as Map<string, tf.Tensor>;
  const names = [...params.keys()];
  const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9 });
  for (let s = 0; s < steps; s++) {
    const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => {
      const state = { params: new Map(names.map((n, i) => [n, ps[i] as tf.Tensor])), buffers: new Map() };
      return crossEntropy(toyMlp.apply(config, state, data.x, { training: true }).logits, data.y);
    })(names.map((n) => params.get(n) as tf.Tensor));
    const next = optimizer.step(params, new Map(names.map((n, i) => [n, grads[i] as tf.Tensor])), 0.1);
    disposeTensors(params);
    for (const g of grads) g.dispose();
    value.dispose();
    params = next;
  }
  optimizer.dispose();
  return { architecture: 'lenet5', config, params, buffers: new Map() };
}
