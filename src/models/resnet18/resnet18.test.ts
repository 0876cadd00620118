import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRandom, normalArray, uniformArray } from '../../util/random.js';
import { expectEveryGradientNonZero, expectNoLeakedTensors, maxRelativeError, useTestBackend } from '../../../test/helpers.js';
import { countSpecScalars } from '../model-spec.js';
import { resnet18, resnet18Widths } from './index.js';
import { disposeTensors } from '../tensor-map.js';
import type { ModelState, TensorMap } from '../types.js';

beforeAll(async () => {
  await useTestBackend();
});

/**
 * An independent ResNet-18 forward pass: explicit zero padding + 'valid' convolutions and batch
 * norm written out from its formula, with none of resnet18.ts's helpers.
 */
function referenceForward(state: ModelState, x: tf.Tensor4D, training: boolean, stats: Map<string, number[]>): tf.Tensor {
  const get = (m: TensorMap, name: string) => m.get(name)!;
  const conv = (h: tf.Tensor4D, name: string, stride: number) => {
    const k = get(state.params, name) as tf.Tensor4D;
    const padded = k.shape[0] === 3 ? tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]]) : h;
    return tf.conv2d(padded, k, stride, 'valid');
  };
  const bn = (h: tf.Tensor4D, name: string) => {
    let mean: tf.Tensor, variance: tf.Tensor;
    if (training) {
      mean = tf.mean(h, [0, 1, 2]);
      variance = tf.mean(tf.square(tf.sub(h, mean)), [0, 1, 2]);
      const m = h.size / (h.shape[3]);
      stats.set(`${name}.running_mean`, Array.from(mean.dataSync()));
      stats.set(`${name}.running_var`, Array.from(variance.dataSync(), (v) => (v * m) / (m - 1)));
    } else {
      mean = get(state.buffers, `${name}.running_mean`);
      variance = get(state.buffers, `${name}.running_var`);
    }
    return tf.add<tf.Tensor4D>(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), get(state.params, `${name}.weight`)), get(state.params, `${name}.bias`));
  };
  return tf.tidy(() => {
    let h = tf.relu(bn(conv(x, 'conv1.weight', 1), 'bn1'));
    for (let stage = 1; stage <= 4; stage++) {
      for (let b = 0; b < 2; b++) {
        const p = `layer${stage}.${b}`;
        const stride = stage > 1 && b === 0 ? 2 : 1;
        const mid = tf.relu(bn(conv(h, `${p}.conv1.weight`, stride), `${p}.bn1`));
        const main = bn(conv(mid, `${p}.conv2.weight`, 1), `${p}.bn2`);
        const shortcut = state.params.has(`${p}.downsample.0.weight`) ? bn(conv(h, `${p}.downsample.0.weight`, stride), `${p}.downsample.1`) : h;
        h = tf.relu(tf.add(main, shortcut));
      }
    }
    return tf.add(tf.matMul(tf.mean(h, [1, 2]), get(state.params, 'fc.weight')), get(state.params, 'fc.bias'));
  });
}

/** The same state with running statistics drawn at random, so evaluation mode is not trivial. */
function withRandomBuffers(state: ModelState, seed: number): ModelState {
  const random = createRandom(seed);
  const buffers = new Map<string, tf.Tensor>();
  for (const [name, t] of state.buffers) {
    const values = name.endsWith('running_mean') ? normalArray(t.size, 0, 0.2, random) : uniformArray(t.size, 0.5, 1.5, random);
    buffers.set(name, tf.tensor(values, t.shape));
  }
  return { params: state.params, buffers };
}

describe('resnet18', () => {
  it('width 1 has the standard CIFAR ResNet-18 count of 11,173,962 parameters (spec only)', () => {
    const spec = resnet18.spec(resnet18.parseConfig({}));
    expect(countSpecScalars(spec.params)).toBe(11173962);
    // 20 BatchNorms (1 stem + 16 in blocks + 3 downsample), two buffers each
    expect(spec.buffers.length).toBe(40);
    expect(spec.layers.length).toBe(1 + 16 + 3 + 1);
    expect(spec.params.slice(0, 3).map((p) => p.name)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias']);
    expect(spec.layers.find((l) => l.name === 'layer2.0.downsample')).toEqual({
      name: 'layer2.0.downsample',
      params: ['layer2.0.downsample.0.weight', 'layer2.0.downsample.1.weight', 'layer2.0.downsample.1.bias'],
      buffers: ['layer2.0.downsample.1.running_mean', 'layer2.0.downsample.1.running_var'],
    });
    expect(spec.params.find((p) => p.name === 'layer3.0.conv1.weight')).toEqual({ name: 'layer3.0.conv1.weight', shape: [3, 3, 128, 256], kind: 'weight', layer: 'layer3.0.conv1' });
    expect(spec.params.find((p) => p.name === 'layer1.1.bn2.weight')!.kind).toBe('norm-scale');
    expect(spec.params.some((p) => p.name.includes('num_batches_tracked'))).toBe(false);
    expect(spec.params.at(-2)).toEqual({ name: 'fc.weight', shape: [512, 10], kind: 'weight', layer: 'fc' });
    expect(spec.layers.some((l) => l.name === 'layer1.0.downsample')).toBe(false);
  });

  it('width multiplier k: channels round(64k) … round(512k); config errors name the field', () => {
    expect(resnet18Widths(0.25)).toEqual([16, 32, 64, 128]);
    expect(resnet18Widths(1 / 8)).toEqual([8, 16, 32, 64]);
    const cfg = resnet18.parseConfig({ width: 0.25, classes: 100 });
    expect(cfg).toEqual({ width: 0.25, inputChannels: 3, inputSize: 32, classes: 100 });
    expect(resnet18.spec(cfg).params.at(-2)!.shape).toEqual([128, 100]);
    expect(() => resnet18.parseConfig({ width: -1 })).toThrow(/resnet18 config: width must be a positive number/);
    expect(() => resnet18.parseConfig({ width: 0.001 })).toThrow(/0 channels/);
  });

  const config = resnet18.parseConfig({ width: 1 / 8 });

  it('training mode matches an independent forward pass, logits and batch statistics (k = 1/8, wasm)', () => {
    const state = resnet18.init(config, 1);
    const x = tf.tensor4d(normalArray(4 * 32 * 32 * 3, 0, 1, createRandom(2)), [4, 32, 32, 3]);
    const result = resnet18.apply(config, state, x, { training: true });
    expect(result.logits.shape).toEqual([4, 10]);
    const expectedStats = new Map<string, number[]>();
    const reference = referenceForward(state, x, true, expectedStats);
    expect(maxRelativeError(result.logits.dataSync(), reference.dataSync())).toBeLessThan(2e-4);
    expect([...result.batchStats.keys()]).toEqual(resnet18.spec(config).buffers.map((b) => b.name));
    for (const [name, values] of expectedStats) {
      expect(maxRelativeError(result.batchStats.get(name)!.dataSync(), values), name).toBeLessThan(2e-4);
    }
    disposeTensors(state, result.batchStats);
    tf.dispose([x, result.logits, reference]);
  });

  it('evaluation mode (BN folded into the convs) matches the independent pass with random running statistics', () => {
    const fresh = resnet18.init(config, 3);
    const state = withRandomBuffers(fresh, 4);
    const x = tf.tensor4d(normalArray(3 * 32 * 32 * 3, 0, 1, createRandom(5)), [3, 32, 32, 3]);
    const result = resnet18.apply(config, state, x, { training: false });
    expect(result.batchStats.size).toBe(0);
    const reference = referenceForward(state, x, false, new Map());
    expect(maxRelativeError(result.logits.dataSync(), reference.dataSync())).toBeLessThan(2e-4);
    disposeTensors(fresh, state.buffers);
    tf.dispose([x, result.logits, reference]);
  });

  it('training and evaluation mode differ; evaluation is deterministic', () => {
    const state = resnet18.init(config, 6);
    const x = tf.randomNormal<tf.Rank.R4>([4, 32, 32, 3], 0, 1, 'float32', 7);
    const train = resnet18.apply(config, state, x, { training: true });
    const eval1 = resnet18.apply(config, state, x, { training: false }).logits;
    const eval2 = resnet18.apply(config, state, x, { training: false }).logits;
    expect(maxRelativeError(train.logits.dataSync(), eval1.dataSync())).toBeGreaterThan(1e-3);
    expect(Array.from(eval2.dataSync())).toEqual(Array.from(eval1.dataSync()));
    disposeTensors(state, train.batchStats);
    tf.dispose([x, train.logits, eval1, eval2]);
  });

  it('evaluation needs the running statistics and says which one is missing', () => {
    const state = resnet18.init(config, 1);
    const buffers = new Map(state.buffers);
    buffers.delete('layer3.1.bn2.running_var');
    const x = tf.zeros<tf.Rank.R4>([1, 32, 32, 3]);
    expect(() => resnet18.apply(config, { params: state.params, buffers }, x, { training: false })).toThrow(/buffer tensor "layer3.1.bn2.running_var" is missing/);
    // training mode does not read the running statistics
    const x2 = tf.randomNormal<tf.Rank.R4>([2, 32, 32, 3], 0, 1, 'float32', 2);
    const r = resnet18.apply(config, { params: state.params, buffers: new Map() }, x2, { training: true });
    expect(r.logits.shape).toEqual([2, 10]);
    disposeTensors(state, r.batchStats);
    tf.dispose([x, x2, r.logits]);
  });

  it('does not leak tensors or change its inputs across repeated apply calls', async () => {
    const state = resnet18.init(config, 1);
    const x = tf.randomNormal<tf.Rank.R4>([2, 32, 32, 3], 0, 1, 'float32', 1);
    const snapshot = (m: TensorMap) => [...m].map(([k, t]) => [k, Array.from(t.dataSync())]);
    const before = [snapshot(state.params), snapshot(state.buffers), Array.from(x.dataSync())];
    for (const training of [true, false]) {
      await expectNoLeakedTensors(() => {
        const r = resnet18.apply(config, state, x, { training });
        r.logits.dispose();
        disposeTensors(r.batchStats);
      });
    }
    expect([snapshot(state.params), snapshot(state.buffers), Array.from(x.dataSync())]).toEqual(before);
    disposeTensors(state);
    x.dispose();
  });

  it('gradients exist and are non-zero for every parameter in training mode (k = 1/16, 8×8 inputs)', () => {
    const small = resnet18.parseConfig({ width: 1 / 16, inputSize: 8, classes: 3 });
    const state = resnet18.init(small, 2);
    const x = tf.randomNormal<tf.Rank.R4>([4, 8, 8, 3], 0, 1, 'float32', 3);
    expectEveryGradientNonZero(resnet18, small, state, x, [0, 1, 2, 0], 3);
    disposeTensors(state);
    x.dispose();
  });
});
