import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { reestimateBatchNorm } from '../evaluate/bn-reset.js';
import { LENET5_HIDDEN, lenet5, lenet5Activations, lenet5PermutationSpec, lenet5PreActivations, type LeNet5Config } from '../models/lenet5/index.js';
import { resnet18, type ResNet18Config } from '../models/resnet18/index.js';
import { disposeTensors, interpolateTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { createRandom, normalArray, permutation } from '../util/random.js';
import { activationMatching } from './activation-matching.js';
import { applyPermutation } from './permutation-spec.js';
import { channelStats, repairInterpolated } from './repair.js';

const config: LeNet5Config = { inputChannels: 1, inputSize: 28, classes: 10 };
let batches: { x: tf.Tensor4D }[];

beforeAll(async () => {
  await useTestBackend();
  const random = createRandom(5);
  batches = [0, 1].map(() => ({ x: tf.tensor4d(normalArray(32 * 28 * 28, 0.3, 1, random), [32, 28, 28, 1]) }));
});

function interpolate(a: ModelState, b: ModelState, t: number): ModelState {
  return { params: interpolateTensors(a.params, b.params, t), buffers: new Map() };
}

describe('lenet5PreActivations', () => {
  it('recomputes the same logits as lenet5.apply', () => {
    const a = lenet5.init(config, 1);
    const x = batches[0]!.x;
    const { hidden, logits } = lenet5PreActivations(a, x);
    const ref = lenet5.apply(config, a, x, { training: false }).logits;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(logits, ref)))).dataSync()[0]).toBeLessThan(1e-5);
    expect([...hidden.keys()]).toEqual([...LENET5_HIDDEN]);
    expect(hidden.get('conv1')?.shape).toEqual([32 * 28 * 28, 6]);
    tf.dispose([logits, ref, ...hidden.values()]);
    disposeTensors(a);
  });
});

describe('repairInterpolated (LeNet5 statistics correction)', () => {
  it('sets every hidden channel mean/std to (1−t)·stats_A + t·stats_B', () => {
    const a = lenet5.init(config, 1);
    const b = lenet5.init(config, 2);
    const t = 0.3;
    const mid = interpolate(a, b, t);
    const repaired = repairInterpolated(lenet5, config, { interpolated: mid, a, b, t }, batches);
    const [sa, sb, sr] = [a, b, repaired].map((s) => channelStats(lenet5Activations, s, batches));
    let checked = 0;
    for (const layer of LENET5_HIDDEN) {
      const A = sa!.get(layer)!;
      const B = sb!.get(layer)!;
      const R = sr!.get(layer)!;
      for (let c = 0; c < A.mean.length; c++) {
        const goalStd = (1 - t) * A.std[c]! + t * B.std[c]!;
        const goalMean = (1 - t) * A.mean[c]! + t * B.mean[c]!;
        expect(Math.abs(R.std[c]! - goalStd)).toBeLessThan(1e-3 * Math.max(1, goalStd));
        expect(Math.abs(R.mean[c]! - goalMean)).toBeLessThan(1e-3 * Math.max(1, goalStd));
        checked++;
      }
    }
    expect(checked).toBe(6 + 16 + 120 + 84);
    disposeTensors(a, b, mid, repaired);
  });

  it('leaves an endpoint unchanged (t = 0, θ = θ_A)', () => {
    const a = lenet5.init(config, 1);
    const b = lenet5.init(config, 2);
    const repaired = repairInterpolated(lenet5, config, { interpolated: a, a, b, t: 0 }, batches);
    for (const [n, p] of a.params) {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(p, repaired.params.get(n) as tf.Tensor)))).dataSync()[0] as number;
      expect(diff, n).toBeLessThan(1e-4);
    }
    disposeTensors(a, b, repaired);
  });

  it('does not leak tensors', async () => {
    const a = lenet5.init(config, 1);
    const b = lenet5.init(config, 2);
    await expectNoLeakedTensors(() => disposeTensors(repairInterpolated(lenet5, config, { interpolated: a, a, b, t: 0.5 }, batches.slice(0, 1))), 2);
    disposeTensors(a, b);
  });
});

describe('repairInterpolated (BatchNorm models)', () => {
  it('is the barrier module BN reset', () => {
    const rconfig: ResNet18Config = { width: 1 / 16, inputChannels: 3, inputSize: 8, classes: 10 };
    const a = resnet18.init(rconfig, 1);
    const b = resnet18.init(rconfig, 2);
    const mid: ModelState = { params: interpolateTensors(a.params, b.params, 0.5), buffers: interpolateTensors(a.buffers, b.buffers, 0.5) };
    const data = [{ x: tf.tensor4d(normalArray(16 * 8 * 8 * 3, 0, 1, createRandom(2)), [16, 8, 8, 3]) }];
    const repaired = repairInterpolated(resnet18, rconfig, { interpolated: mid, a, b, t: 0.5 }, data);
    const expected = reestimateBatchNorm(resnet18, rconfig, mid, data);
    for (const [n, v] of expected) expect([...(repaired.buffers.get(n) as tf.Tensor).dataSync()]).toEqual([...v.dataSync()]);
    tf.dispose([data[0]!.x, ...expected.values()]);
    disposeTensors(a, b, mid, repaired);
  });
});

describe('activationMatching (LeNet5)', () => {
  it('aligns a permuted copy: every hidden activation of aligned B equals A', () => {
    const spec = lenet5PermutationSpec(lenet5.spec(config));
    const a = lenet5.init(config, 3);
    const random = createRandom(8);
    const pi = new Map(spec.groups.map((g) => [g.name, permutation(g.size, random)]));
    const b = applyPermutation(a, spec, pi);
    const perms = activationMatching('lenet5', a, b, batches);
    const aligned = applyPermutation(b, spec, perms);
    const ra = lenet5PreActivations(a, batches[0]!.x);
    const rb = lenet5PreActivations(aligned, batches[0]!.x);
    for (const layer of LENET5_HIDDEN) {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.relu(ra.hidden.get(layer)!), tf.relu(rb.hidden.get(layer)!))))).dataSync()[0] as number;
      expect(diff, layer).toBeLessThan(1e-5);
    }
    tf.dispose([ra.logits, rb.logits, ...ra.hidden.values(), ...rb.hidden.values()]);
    expect(() => activationMatching('resnet18', a, b, batches)).toThrow(/lenet5 only/);
    disposeTensors(a, b, aligned);
  });
});
