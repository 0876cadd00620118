import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray } from '../util/random.js';
import { groupedConv2d } from './grouped-conv.js';

beforeAll(async () => {
  await useTestBackend();
});

/** The grouped convolution by its definition: one tf.conv2d per group on its slice of channels, concatenated. */
function reference(x: tf.Tensor4D, kernel: tf.Tensor4D, groups: number, stride: number, pad: number): tf.Tensor4D {
  const c = x.shape[3] / groups;
  const o = kernel.shape[3] / groups;
  const parts = [];
  for (let g = 0; g < groups; g++) {
    const xs = tf.slice(x, [0, 0, 0, g * c], [-1, -1, -1, c]);
    const ks = tf.slice(kernel, [0, 0, 0, g * o], [-1, -1, -1, o]);
    parts.push(tf.conv2d(tf.pad(xs, [[0, 0], [pad, pad], [pad, pad], [0, 0]]), ks, stride, 'valid'));
  }
  return tf.concat(parts, 3);
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const CASES = [
  { name: 'groups of 2 → 2 channels, stride 1', x: [2, 6, 6, 8], k: [3, 3, 2, 8], groups: 4, stride: 1, pad: 1 },
  { name: 'groups of 3 → 2 channels, stride 2', x: [2, 7, 7, 6], k: [3, 3, 3, 4], groups: 2, stride: 2, pad: 1 },
  { name: 'depthwise with multiplier 2, stride 2', x: [3, 6, 6, 3], k: [3, 3, 1, 6], groups: 3, stride: 2, pad: 1 },
  { name: 'one group, 1×1', x: [2, 5, 5, 4], k: [1, 1, 4, 3], groups: 1, stride: 1, pad: 0 },
] as const;

describe('groupedConv2d', () => {
  for (const c of CASES) {
    it(`${c.name}: equals the per-group convolutions, and its gradients equal cpu's`, async () => {
      const random = createRandom(1);
      const xv = normalArray(size(c.x), 0, 1, random);
      const kv = normalArray(size(c.k), 0, 1, random);
      const x = tf.tensor4d(xv, [...c.x] as [number, number, number, number]);
      const k = tf.tensor4d(kv, [...c.k] as [number, number, number, number]);
      const y = groupedConv2d(x, k, c.groups, c.stride, c.pad);
      const r = reference(x, k, c.groups, c.stride, c.pad);
      expect(y.shape).toEqual(r.shape);
      expect(maxRelativeError(y.dataSync(), r.dataSync())).toBeLessThan(1e-5);
      const grads = () => {
        const xt = tf.tensor4d(xv, [...c.x] as [number, number, number, number]);
        const kt = tf.tensor4d(kv, [...c.k] as [number, number, number, number]);
        const weights = tf.tensor(normalArray(r.size, 0, 1, createRandom(2)), r.shape);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(groupedConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.groups, c.stride, c.pad), weights)))([xt, kt]);
        const out = g.map((t) => t.dataSync().slice());
        tf.dispose([xt, kt, weights, ...g]);
        return out;
      };
      const got = grads();
      const expected = await onBackend('cpu', grads);
      await useTestBackend();
      got.forEach((g, i) => expect(maxRelativeError(g, expected[i]!)).toBeLessThan(1e-5));
      await expectNoLeakedTensors(() => {
        grads();
      });
      tf.dispose([x, k, y, r]);
    });
  }

  it('a kernel that does not fit the groups is an error naming both shapes', () => {
    const x = tf.zeros<tf.Rank.R4>([1, 4, 4, 6]);
    const k = tf.zeros<tf.Rank.R4>([3, 3, 2, 6]);
    expect(() => groupedConv2d(x, k, 2, 1, 1)).toThrow(/kernel \[3, 3, 2, 6\] with 2 groups does not fit 6 input channels \(expected kernel \[kh, kw, 3, O\]/);
    tf.dispose([x, k]);
  });
});
