import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRandom, normalArray } from '../../util/random.js';
import { expectEveryGradientNonZero, expectNoLeakedTensors, maxRelativeError, useTestBackend } from '../../../test/helpers.js';
import { lenet5 } from './index.js';
import { countSpecScalars } from '../model-spec.js';
import { disposeTensors } from '../tensor-map.js';

beforeAll(async () => {
  await useTestBackend();
});

/** A feature map in NHWC as a flat array with its dimensions. */
interface Maps { data: Float64Array; n: number; h: number; w: number; c: number }

/** Naive NHWC convolution with an HWIO kernel, stride 1, zero padding `pad`, then ReLU. */
function naiveConvRelu(x: Maps, k: Float32Array, kSize: number, out: number, bias: Float32Array, pad: number): Maps {
  const h = x.h + 2 * pad - kSize + 1, w = x.w + 2 * pad - kSize + 1;
  const data = new Float64Array(x.n * h * w * out);
  for (let n = 0; n < x.n; n++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let o = 0; o < out; o++) {
          let s = bias[o] as number;
          for (let di = 0; di < kSize; di++)
            for (let dj = 0; dj < kSize; dj++) {
              const yi = i + di - pad, xj = j + dj - pad;
              if (yi < 0 || yi >= x.h || xj < 0 || xj >= x.w) continue;
              for (let c = 0; c < x.c; c++) {
                s += (x.data[((n * x.h + yi) * x.w + xj) * x.c + c] as number) * (k[((di * kSize + dj) * x.c + c) * out + o] as number);
              }
            }
          data[((n * h + i) * w + j) * out + o] = Math.max(0, s);
        }
  return { data, n: x.n, h, w, c: out };
}

function naiveMaxPool2(x: Maps): Maps {
  const h = Math.floor(x.h / 2), w = Math.floor(x.w / 2);
  const data = new Float64Array(x.n * h * w * x.c);
  for (let n = 0; n < x.n; n++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let c = 0; c < x.c; c++) {
          let m = -Infinity;
          for (let di = 0; di < 2; di++)
            for (let dj = 0; dj < 2; dj++) m = Math.max(m, x.data[((n * x.h + 2 * i + di) * x.w + 2 * j + dj) * x.c + c] as number);
          data[((n * h + i) * w + j) * x.c + c] = m;
        }
  return { data, n: x.n, h, w, c: x.c };
}

function naiveDense(x: Float64Array, n: number, k: Float32Array, bias: Float32Array, relu: boolean): Float64Array {
  const nOut = bias.length, nIn = x.length / n;
  const out = new Float64Array(n * nOut);
  for (let r = 0; r < n; r++)
    for (let o = 0; o < nOut; o++) {
      let s = bias[o] as number;
      for (let i = 0; i < nIn; i++) s += (x[r * nIn + i] as number) * (k[i * nOut + o] as number);
      out[r * nOut + o] = relu ? Math.max(0, s) : s;
    }
  return out;
}

describe('lenet5', () => {
  const config = lenet5.parseConfig({});

  it('has the classic shapes and 61,706 parameters for 28×28×1 (spec only, no allocation)', () => {
    const spec = lenet5.spec(config);
    expect(spec.params.map((p) => `${p.name}:${p.shape.join('x')}`)).toEqual([
      'conv1.weight:5x5x1x6', 'conv1.bias:6', 'conv2.weight:5x5x6x16', 'conv2.bias:16',
      'fc1.weight:400x120', 'fc1.bias:120', 'fc2.weight:120x84', 'fc2.bias:84', 'fc3.weight:84x10', 'fc3.bias:10',
    ]);
    // 6·(25+1) + 16·(150+1) + 120·401 + 84·121 + 10·85
    expect(countSpecScalars(spec.params)).toBe(156 + 2416 + 48120 + 10164 + 850);
    expect(countSpecScalars(spec.params)).toBe(61706);
    expect(spec.layers.map((l) => l.name)).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'fc3']);
    expect(spec.layers[2]).toEqual({ name: 'fc1', params: ['fc1.weight', 'fc1.bias'], buffers: [] });
    expect(spec.buffers).toEqual([]);
    // 32×32×3 (CIFAR): 6·6·16 = 576 features into fc1
    expect(lenet5.spec(lenet5.parseConfig({ inputChannels: 3, inputSize: 32 })).params[4]!.shape).toEqual([576, 120]);
  });

  it('parseConfig fills defaults and names bad fields', () => {
    expect(config).toEqual({ inputChannels: 1, inputSize: 28, classes: 10 });
    expect(() => lenet5.parseConfig({ classes: 0 })).toThrow(/lenet5 config: classes must be a positive integer/);
    expect(() => lenet5.parseConfig({ width: 2 })).toThrow(/unknown field\(s\) width/);
    expect(() => lenet5.parseConfig({ inputSize: 8 })).toThrow(/at least 12/);
  });

  it('logits equal an independent naive JS forward pass (2 channels, 28×28, random weights and input)', () => {
    const cfg = lenet5.parseConfig({ inputChannels: 2, classes: 7 });
    const state = lenet5.init(cfg, 11);
    const random = createRandom(12);
    const n = 2;
    const xData = normalArray(n * 28 * 28 * 2, 0, 1, random);
    const x = tf.tensor4d(xData, [n, 28, 28, 2]);
    const logits = lenet5.apply(cfg, state, x, { training: false }).logits;
    expect(logits.shape).toEqual([n, 7]);

    const w = (name: string) => state.params.get(name)!.dataSync() as Float32Array;
    let h: Maps = { data: Float64Array.from(xData), n, h: 28, w: 28, c: 2 };
    h = naiveMaxPool2(naiveConvRelu(h, w('conv1.weight'), 5, 6, w('conv1.bias'), 2));
    h = naiveMaxPool2(naiveConvRelu(h, w('conv2.weight'), 5, 16, w('conv2.bias'), 0));
    expect([h.h, h.w, h.c]).toEqual([5, 5, 16]);
    let f = naiveDense(h.data, n, w('fc1.weight'), w('fc1.bias'), true);
    f = naiveDense(f, n, w('fc2.weight'), w('fc2.bias'), true);
    f = naiveDense(f, n, w('fc3.weight'), w('fc3.bias'), false);
    expect(maxRelativeError(logits.dataSync(), f)).toBeLessThan(1e-4);
    disposeTensors(state);
    tf.dispose([x, logits]);
  });

  it('is deterministic in the seed; training and evaluation mode agree (no BatchNorm)', () => {
    const a = lenet5.init(config, 3), b = lenet5.init(config, 3), c = lenet5.init(config, 4);
    const x = tf.randomNormal<tf.Rank.R4>([3, 28, 28, 1], 0, 1, 'float32', 5);
    const la = lenet5.apply(config, a, x, { training: false }).logits.dataSync();
    const lb = lenet5.apply(config, b, x, { training: true });
    expect(Array.from(lb.logits.dataSync())).toEqual(Array.from(la));
    expect(lb.batchStats.size).toBe(0);
    const lc = lenet5.apply(config, c, x, { training: false }).logits.dataSync();
    expect(maxRelativeError(lc, la)).toBeGreaterThan(1e-3);
    disposeTensors(a, b, c);
    tf.dispose([x]);
  });

  it('rejects a wrong input shape and a missing or misshapen parameter, naming them', () => {
    const state = lenet5.init(config, 1);
    const bad = tf.zeros<tf.Rank.R4>([2, 32, 32, 1]);
    expect(() => lenet5.apply(config, state, bad, { training: false })).toThrow(/input x has shape \[2, 32, 32, 1\], expected \[N, 28, 28, 1\]/);
    const params = new Map(state.params);
    params.delete('fc2.bias');
    const x = tf.zeros<tf.Rank.R4>([1, 28, 28, 1]);
    expect(() => lenet5.apply(config, { params, buffers: state.buffers }, x, { training: false })).toThrow(/parameter tensor "fc2.bias" is missing/);
    const wrong = tf.zeros([84]);
    params.set('fc2.bias', wrong);
    params.set('fc3.bias', wrong);
    expect(() => lenet5.apply(config, { params, buffers: state.buffers }, x, { training: false })).toThrow(/"fc3.bias" has shape \[84\], expected \[10\]/);
    disposeTensors(state);
    tf.dispose([bad, x, wrong]);
  });

  it('does not leak tensors or change its inputs across repeated apply calls', async () => {
    const state = lenet5.init(config, 1);
    const before = new Map([...state.params].map(([k, t]) => [k, Array.from(t.dataSync())]));
    const x = tf.randomNormal<tf.Rank.R4>([4, 28, 28, 1], 0, 1, 'float32', 1);
    const xBefore = Array.from(x.dataSync());
    await expectNoLeakedTensors(() => lenet5.apply(config, state, x, { training: true }).logits.dispose());
    for (const [k, t] of state.params) expect(Array.from(t.dataSync()), k).toEqual(before.get(k));
    expect(Array.from(x.dataSync())).toEqual(xBefore);
    disposeTensors(state);
    x.dispose();
  });

  it('gradients exist and are non-zero for every parameter', () => {
    const state = lenet5.init(config, 2);
    const x = tf.randomNormal<tf.Rank.R4>([4, 28, 28, 1], 0, 1, 'float32', 3);
    expectEveryGradientNonZero(lenet5, config, state, x, [0, 1, 2, 3], 10);
    disposeTensors(state);
    x.dispose();
  });
});
