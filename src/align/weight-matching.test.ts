import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { lenet5, lenet5PermutationSpec, type LeNet5Config } from '../models/lenet5/index.js';
import { resnet18, resnet18PermutationSpec, type ResNet18Config } from '../models/resnet18/index.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { createRandom, normalArray, permutation } from '../util/random.js';
import { applyPermutation, invertPermutation, permuteAxis, type PermutationSpec } from './permutation-spec.js';
import { weightMatching } from './weight-matching.js';

beforeAll(async () => {
  await useTestBackend();
});

function randomPerms(spec: PermutationSpec, seed: number): Map<string, Int32Array> {
  const random = createRandom(seed);
  return new Map(spec.groups.map((g) => [g.name, permutation(g.size, random)]));
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b)))).dataSync()[0] as number;
}

function images(n: number, size: number, channels: number, seed: number): tf.Tensor4D {
  return tf.tensor4d(normalArray(n * size * size * channels, 0, 1, createRandom(seed)), [n, size, size, channels]);
}

/** Randomizes BN buffers so that a wrong permutation of running stats would change the function. */
function withRandomBuffers(state: ModelState, seed: number): ModelState {
  const random = createRandom(seed);
  const buffers = new Map<string, tf.Tensor>();
  for (const [name, t] of state.buffers) {
    const values = normalArray(t.size, name.endsWith('running_var') ? 1 : 0, 0.3, random).map((v) => (name.endsWith('running_var') ? Math.abs(v) + 0.1 : v));
    buffers.set(name, tf.tensor(values, t.shape));
    t.dispose();
  }
  return { params: state.params, buffers };
}

describe('permuteAxis', () => {
  it('permutes channel c inside each spatial block of an NHWC flatten (stride 1)', () => {
    // 2 spatial positions × 3 channels flattened: index = pos·3 + c
    const x = tf.tensor2d([10, 11, 12, 20, 21, 22], [6, 1]);
    const out = permuteAxis(x, 0, Int32Array.from([2, 0, 1]));
    expect([...out.dataSync()]).toEqual([12, 10, 11, 22, 20, 21]);
    tf.dispose([x, out]);
  });
});

describe('applyPermutation', () => {
  const config: LeNet5Config = { inputChannels: 1, inputSize: 28, classes: 10 };

  it('a randomly permuted LeNet5 computes the same function (logits to 1e-5)', () => {
    const spec = lenet5PermutationSpec(lenet5.spec(config));
    const a = lenet5.init(config, 1);
    const perms = randomPerms(spec, 9);
    const b = applyPermutation(a, spec, perms);
    expect(maxAbsDiff(a.params.get('fc1.weight') as tf.Tensor, b.params.get('fc1.weight') as tf.Tensor)).toBeGreaterThan(0.01);
    const x = images(8, 28, 1, 3);
    const la = lenet5.apply(config, a, x, { training: false }).logits;
    const lb = lenet5.apply(config, b, x, { training: false }).logits;
    expect(maxAbsDiff(la, lb)).toBeLessThan(1e-5);
    tf.dispose([x, la, lb]);
    disposeTensors(a, b);
  });

  it('a randomly permuted ResNet18 (width 1/16) computes the same function, BN buffers included', () => {
    const rconfig: ResNet18Config = { width: 1 / 16, inputChannels: 3, inputSize: 8, classes: 10 };
    const spec = resnet18PermutationSpec(resnet18.spec(rconfig));
    // stem+layer1, layer2, layer3, layer4 streams and one hidden permutation per block
    expect(spec.groups.filter((g) => g.name.startsWith('stream')).length).toBe(4);
    expect(spec.groups.length).toBe(12);
    const a = withRandomBuffers(resnet18.init(rconfig, 2), 5);
    const perms = randomPerms(spec, 4);
    const b = applyPermutation(a, spec, perms);
    const stream1 = perms.get('stream1') as Int32Array;
    const rm = (a.buffers.get('layer2.0.downsample.1.running_mean') as tf.Tensor).dataSync();
    const rmB = (b.buffers.get('layer2.0.downsample.1.running_mean') as tf.Tensor).dataSync();
    for (let i = 0; i < stream1.length; i++) expect(rmB[i]).toBe(rm[stream1[i] as number]);
    const x = images(4, 8, 3, 6);
    const la = resnet18.apply(rconfig, a, x, { training: false }).logits;
    const lb = resnet18.apply(rconfig, b, x, { training: false }).logits;
    expect(maxAbsDiff(la, lb)).toBeLessThan(1e-5);
    // with the buffers left unpermuted, the function changes: the buffers must move with their conv
    const wrong = { params: b.params, buffers: a.buffers };
    const lw = resnet18.apply(rconfig, wrong, x, { training: false }).logits;
    expect(maxAbsDiff(la, lw)).toBeGreaterThan(1e-3);
    tf.dispose([x, la, lb, lw]);
    disposeTensors(a, b);
  });

  it('rejects a non-permutation and names the group', () => {
    const spec = lenet5PermutationSpec(lenet5.spec(config));
    const a = lenet5.init(config, 1);
    expect(() => applyPermutation(a, spec, new Map([['conv1', Int32Array.from([0, 0, 1, 2, 3, 4])]]))).toThrow(/"conv1" is not a permutation/);
    disposeTensors(a);
  });
});

describe('weightMatching', () => {
  const config: LeNet5Config = { inputChannels: 1, inputSize: 28, classes: 10 };

  it('recovers a known random permutation of LeNet5 exactly (B = π(A) ⇒ perms = π⁻¹)', () => {
    const spec = lenet5PermutationSpec(lenet5.spec(config));
    const a = lenet5.init(config, 3);
    const pi = randomPerms(spec, 21);
    const b = applyPermutation(a, spec, pi);
    const { perms, iterations } = weightMatching(a, b, spec, { seed: 1 });
    for (const g of spec.groups) expect([...(perms.get(g.name) as Int32Array)]).toEqual([...invertPermutation(pi.get(g.name) as Int32Array)]);
    expect(iterations).toBeLessThanOrEqual(100);
    const aligned = applyPermutation(b, spec, perms);
    for (const [name, t] of a.params) expect(maxAbsDiff(t, aligned.params.get(name) as tf.Tensor)).toBe(0);
    disposeTensors(a, b, aligned);
  });

  it('recovers a known permutation of a small ResNet18, BN buffers aligned too', () => {
    const rconfig: ResNet18Config = { width: 1 / 8, inputChannels: 3, inputSize: 8, classes: 10 };
    const spec = resnet18PermutationSpec(resnet18.spec(rconfig));
    const a = withRandomBuffers(resnet18.init(rconfig, 7), 8);
    const pi = randomPerms(spec, 22);
    const b = applyPermutation(a, spec, pi);
    const { perms } = weightMatching(a, b, spec, { seed: 2 });
    const aligned = applyPermutation(b, spec, perms);
    for (const [name, t] of a.params) expect(maxAbsDiff(t, aligned.params.get(name) as tf.Tensor), name).toBe(0);
    for (const [name, t] of a.buffers) expect(maxAbsDiff(t, aligned.buffers.get(name) as tf.Tensor), name).toBe(0);
    disposeTensors(a, b, aligned);
  });

  it('does not leak tensors', async () => {
    const spec = lenet5PermutationSpec(lenet5.spec(config));
    const a = lenet5.init(config, 3);
    const b = lenet5.init(config, 4);
    await expectNoLeakedTensors(() => {
      weightMatching(a, b, spec, { seed: 1, maxIterations: 2 });
    });
    disposeTensors(a, b);
  });
});
