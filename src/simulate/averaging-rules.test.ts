import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { meanAndVariance } from '../averaging/variance-correction.js';
import { lenet5 } from '../models/lenet5/index.js';
import { cloneTensors, disposeTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { createRandom, normalArray } from '../util/random.js';
import { createAveragingRule } from './averaging-rules.js';

beforeAll(async () => {
  await useTestBackend();
});

const SPEC = lenet5.spec(lenet5.defaultConfig);
const CONTEXT = { spec: SPEC };

/** A LeNet5-shaped state with every tensor iid N(mean, σ²). */
function randomState(seed: number, sigma: number, mean = 0): ModelState {
  const r = createRandom(seed);
  const params = new Map<string, tf.Tensor>();
  for (const t of SPEC.params) params.set(t.name, tf.tensor(normalArray(t.shape.reduce((a, b) => a * b, 1), mean, sigma, r), [...t.shape]));
  return { params, buffers: new Map() };
}

function varianceOf(state: ModelState, name: string): number {
  return meanAndVariance((state.params.get(name) as tf.Tensor).dataSync()).variance;
}

function meanOf(state: ModelState, name: string): number {
  return meanAndVariance((state.params.get(name) as tf.Tensor).dataSync()).mean;
}

describe('gossip averaging rules', () => {
  it('plain averaging of K = 8 independent models of variance σ² gives σ²·[c² + (1−c)²/K]', () => {
    const sigma = 0.2;
    const c = 0.5;
    const self = randomState(1, sigma);
    const received = [2, 3, 4, 5, 6, 7, 8, 9].map((s) => randomState(s, sigma));
    const { state, factors } = createAveragingRule('plain', { selfWeight: c })(self, received, CONTEXT);
    const expected = sigma * sigma * (c * c + (1 - c) ** 2 / 8); // 0.28125·σ²
    // fc1.weight has 48,000 entries: the variance estimate is within ~1 %.
    expect(Math.abs(varianceOf(state, 'fc1.weight') / expected - 1)).toBeLessThan(0.03);
    expect(factors.size).toBe(0);
    disposeTensors(state, self, ...received);
  });

  it('corrected averaging restores the mean variance of the received models and keeps each tensor mean', () => {
    const c = 0.5;
    const self = randomState(10, 0.3, 0.05);
    const received = [11, 12, 13, 14].map((s, i) => randomState(s, 0.1 + 0.05 * i, 0.05));
    const plain = createAveragingRule('plain', { selfWeight: c })(self, received, CONTEXT);
    const corrected = createAveragingRule('corrected', { selfWeight: c })(self, received, CONTEXT);
    for (const name of ['conv2.weight', 'fc1.weight']) {
      const target = received.reduce((s, m) => s + varianceOf(m, name), 0) / received.length;
      const vAvg = varianceOf(plain.state, name);
      // w′ = mean + (avg − mean)·√((target + ε)/(Var(avg) + ε)), ε = 1e-4.
      const expected = (vAvg * (target + 1e-4)) / (vAvg + 1e-4);
      expect(Math.abs(varianceOf(corrected.state, name) / expected - 1)).toBeLessThan(1e-4);
      expect(meanOf(corrected.state, name)).toBeCloseTo(meanOf(plain.state, name), 6);
      expect(corrected.factors.get(name)).toBeCloseTo(Math.sqrt((target + 1e-4) / (vAvg + 1e-4)), 5);
      expect(corrected.factors.get(name)).toBeGreaterThan(1.1); // the self model's larger variance is not the target
    }
    disposeTensors(plain.state, corrected.state, self, ...received);
  });

  it('identical models give a correction factor of 1 and return the model itself', () => {
    const self = randomState(20, 0.2);
    const received = [0, 1, 2].map(() => ({ params: cloneTensors(self.params), buffers: new Map<string, tf.Tensor>() }));
    const { state, factors } = createAveragingRule('corrected')(self, received, CONTEXT);
    for (const f of factors.values()) expect(f).toBeCloseTo(1, 6);
    expect(varianceOf(state, 'fc1.weight')).toBeCloseTo(varianceOf(self, 'fc1.weight'), 7);
    disposeTensors(state, self, ...received);
  });

  it('rejects unknown rules by name and leaks no tensors', async () => {
    expect(() => createAveragingRule('median')).toThrow(/averaging rule "median"/);
    const self = randomState(30, 0.1);
    const received = [randomState(31, 0.1)];
    const rule = createAveragingRule('conservative');
    await expectNoLeakedTensors(() => disposeTensors(rule(self, received, CONTEXT).state));
    disposeTensors(self, ...received);
  });
});
