import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelState, TensorKind } from '../models/types.js';
import { createRandom, normalArray } from '../util/random.js';
import { averageModels, meanAndVariance, projectToVariance, tensorVariances, varianceFactor } from './variance-correction.js';

beforeAll(async () => {
  await useTestBackend();
});

const SIZE = 200_000;

/** A model with one large weight of N(mean, σ²), a 1-element tensor and a BN-like buffer. */
function randomModel(seed: number, sigma: number, mean = 0): ModelState {
  const random = createRandom(seed);
  return {
    params: new Map<string, tf.Tensor>([
      ['w', tf.tensor1d(normalArray(SIZE, mean, sigma, random))],
      ['scalar', tf.tensor1d([random.normal()])],
      ['bn.weight', tf.tensor1d(normalArray(64, 1, sigma, random))],
    ]),
    buffers: new Map<string, tf.Tensor>([['bn.running_var', tf.tensor1d(normalArray(64, 1, sigma, random))]]),
  };
}

const KINDS = new Map<string, TensorKind>([
  ['w', 'weight'],
  ['scalar', 'bias'],
  ['bn.weight', 'norm-scale'],
  ['bn.running_var', 'running-var'],
]);

function variance(t: tf.Tensor): number {
  return meanAndVariance(t.dataSync()).variance;
}

describe('averageModels', () => {
  it('plain averaging of K independent tensors of variance σ² gives σ²/K, and σ²·[c² + (1−c)²/K] with self weight c', () => {
    const sigma = 0.3;
    const models = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((s) => randomModel(100 + s, sigma));
    const plain = averageModels(models.slice(1), { kinds: KINDS });
    // Var of a mean of 8 iid N(0, σ²) is σ²/8; sampling error of the variance estimate ~ √(2/n) ≈ 0.3 %.
    expect(variance(plain.state.params.get('w') as tf.Tensor) / (sigma * sigma / 8)).toBeCloseTo(1, 1.5);
    const c = 0.5;
    const gossip = averageModels(models, { selfIndex: 0, selfWeight: c, kinds: KINDS });
    const expected = sigma * sigma * (c * c + (1 - c) ** 2 / 8);
    expect(Math.abs(variance(gossip.state.params.get('w') as tf.Tensor) / expected - 1)).toBeLessThan(0.02);
    expect(gossip.factors.size).toBe(0);
    disposeTensors(plain.state, gossip.state, ...models);
  });

  it('the correction restores the target variance (1e-5 relative) and preserves each tensor mean', () => {
    const models = [0, 1, 2, 3, 4].map((s) => randomModel(200 + s, 0.1 + 0.05 * s, 0.2));
    const vars = models.map((m) => variance(m.params.get('w') as tf.Tensor));
    const others = (vars[1]! + vars[2]! + vars[3]! + vars[4]!) / 4;
    const c = 0.5;
    const targets = { 'follow-others': others, conservative: c * vars[0]! + (1 - c) * others, self: vars[0]! } as const;
    for (const correction of ['follow-others', 'conservative', 'self'] as const) {
      const plain = averageModels(models, { selfIndex: 0, selfWeight: c, kinds: KINDS });
      // With ε = 0 the rescaled variance is the target, up to float32 rounding of the output.
      const exact = averageModels(models, { selfIndex: 0, selfWeight: c, correction, kinds: KINDS, epsilon: 0 });
      const vExact = variance(exact.state.params.get('w') as tf.Tensor);
      expect(Math.abs(vExact - targets[correction]) / targets[correction]).toBeLessThan(1e-5);
      // With ε = 1e-4: Var(w′) = Var(avg)·(target + ε)/(Var(avg) + ε).
      const fixed = averageModels(models, { selfIndex: 0, selfWeight: c, correction, kinds: KINDS });
      const w = fixed.state.params.get('w') as tf.Tensor;
      const v = variance(w);
      const vAvg = variance(plain.state.params.get('w') as tf.Tensor);
      const expected = (vAvg * (targets[correction] + 1e-4)) / (vAvg + 1e-4);
      expect(Math.abs(v - expected) / expected).toBeLessThan(1e-5);
      disposeTensors(exact.state);
      const meanPlain = meanAndVariance((plain.state.params.get('w') as tf.Tensor).dataSync()).mean;
      expect(meanAndVariance(w.dataSync()).mean).toBeCloseTo(meanPlain, 6);
      const f = fixed.factors.get('w') as number;
      expect(f).toBeCloseTo(varianceFactor(variance(plain.state.params.get('w') as tf.Tensor), targets[correction]), 6);
      expect(f).toBeGreaterThan(1.3); // uncorrelated models lose variance
      disposeTensors(plain.state, fixed.state);
    }
    disposeTensors(...models);
  });

  it('identical models give factor 1 exactly and return the model unchanged', () => {
    const m = randomModel(7, 0.2);
    const models = [m, m, m, m, m];
    const { state, factors } = averageModels(models, { selfIndex: 0, selfWeight: 0.5, correction: 'follow-others', kinds: KINDS });
    expect(factors.get('w')).toBe(1);
    expect(factors.get('bn.weight')).toBe(1);
    expect([...(state.params.get('w') as tf.Tensor).dataSync()]).toEqual([...(m.params.get('w') as tf.Tensor).dataSync()]);
    disposeTensors(state, m);
  });

  it('skips single-element tensors and BN running statistics (running stats averaged plainly)', () => {
    const models = [1, 2, 3].map((s) => randomModel(s, 0.5));
    const { state, factors } = averageModels(models, { correction: 'follow-others', kinds: KINDS });
    expect([...factors.keys()].sort()).toEqual(['bn.weight', 'w']);
    const scalars = models.map((m) => (m.params.get('scalar') as tf.Tensor).dataSync()[0] as number);
    expect((state.params.get('scalar') as tf.Tensor).dataSync()[0]).toBeCloseTo((scalars[0]! + scalars[1]! + scalars[2]!) / 3, 6);
    const rv = models.map((m) => (m.buffers.get('bn.running_var') as tf.Tensor).dataSync());
    const got = (state.buffers.get('bn.running_var') as tf.Tensor).dataSync();
    for (let i = 0; i < 64; i++) expect(got[i]).toBeCloseTo((rv[0]![i]! + rv[1]![i]! + rv[2]![i]!) / 3, 5);
    // correctedKinds narrows what is rescaled
    const onlyWeights = averageModels(models, { correction: 'follow-others', kinds: KINDS, correctedKinds: new Set(['weight']) });
    expect([...onlyWeights.factors.keys()]).toEqual(['w']);
    disposeTensors(state, onlyWeights.state, ...models);
  });

  it('rejects inconsistent options with messages naming them', () => {
    const m = randomModel(1, 0.1);
    expect(() => averageModels([m, m], { correction: 'self' })).toThrow(/needs selfIndex/);
    expect(() => averageModels([m, m], { selfIndex: 2 })).toThrow(/selfIndex/);
    expect(() => averageModels([m, m], { selfIndex: 0, selfWeight: 1.5 })).toThrow(/selfWeight/);
    expect(() => averageModels([m, m], { kinds: new Map() })).toThrow(/no kind given for tensor "w"/);
    const other: ModelState = { params: new Map([['w', tf.zeros([3])]]), buffers: new Map() };
    expect(() => averageModels([m, other])).toThrow(/tensor sets differ|tensor "w"/);
    disposeTensors(m, other);
  });

  it('does not leak tensors', async () => {
    const models = [1, 2, 3].map((s) => randomModel(s, 0.5));
    await expectNoLeakedTensors(() => {
      const { state } = averageModels(models, { selfIndex: 0, selfWeight: 0.5, correction: 'conservative', kinds: KINDS });
      disposeTensors(state);
    });
    disposeTensors(...models);
  });
});

describe('projectToVariance / tensorVariances', () => {
  it('rescales named tensors to the target variance, keeps their mean, copies the others', () => {
    const a = tf.tensor1d([1, 2, 3, 4, 5]); // mean 3, unbiased variance 2.5
    const b = tf.tensor1d([7]);
    const map = new Map<string, tf.Tensor>([['a', a], ['b', b]]);
    expect(tensorVariances(map)).toEqual(new Map([['a', 2.5]]));
    const out = projectToVariance(map, new Map([['a', 10]]), 0);
    // factor √(10/2.5) = 2 ⇒ 3 + (x − 3)·2
    expect([...(out.get('a') as tf.Tensor).dataSync()]).toEqual([-1, 1, 3, 5, 7]);
    expect([...(out.get('b') as tf.Tensor).dataSync()]).toEqual([7]);
    expect(() => projectToVariance(map, new Map([['zzz', 1]]))).toThrow(/"zzz"/);
    disposeTensors(map, out);
  });

  it('a variance measured once is reused for the same tensor, and a variable is measured again after assign', () => {
    const models = [1, 2, 3].map((seed) => randomModel(seed, 0.5));
    const options = { selfIndex: 0, selfWeight: 0.5, correction: 'conservative' as const };
    const first = averageModels(models, options);
    const again = averageModels(models, options);
    expect(again.factors).toEqual(first.factors);
    expect(Array.from((again.state.params.get('w') as tf.Tensor).dataSync())).toEqual(Array.from((first.state.params.get('w') as tf.Tensor).dataSync()));
    const v = tf.variable(tf.tensor1d([1, 2, 3, 4, 5]));
    expect(tensorVariances(new Map([['v', v]])).get('v')).toBe(2.5);
    const next = tf.tensor1d([0, 2, 4, 6, 8]);
    v.assign(next);
    next.dispose();
    expect(tensorVariances(new Map([['v', v]])).get('v')).toBe(10);
    disposeTensors(...models, first.state, again.state);
    v.dispose();
  });
});
