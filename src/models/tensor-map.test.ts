import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { assertSameLayout, countScalars, disposeTensors, interpolateTensors, squaredNorm } from './tensor-map.js';

beforeAll(async () => {
  await useTestBackend();
});

const a = () => new Map<string, tf.Tensor>([['w', tf.tensor2d([[1, 2], [3, 4]])], ['b', tf.tensor1d([0, 10])]]);
const b = () => new Map<string, tf.Tensor>([['w', tf.tensor2d([[5, 6], [7, 8]])], ['b', tf.tensor1d([4, -10])]]);

describe('tensor maps', () => {
  it('interpolateTensors gives (1−t)a + tb, and only the named tensors when asked', () => {
    const ma = a(), mb = b();
    const mid = interpolateTensors(ma, mb, 0.25);
    expect(Array.from(mid.get('w')!.dataSync())).toEqual([2, 3, 4, 5]);
    expect(Array.from(mid.get('b')!.dataSync())).toEqual([1, 5]);
    const partial = interpolateTensors(ma, mb, 0.5, new Set(['b']));
    expect(Array.from(partial.get('w')!.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(partial.get('b')!.dataSync())).toEqual([2, 0]);
    disposeTensors(ma, mb, mid, partial);
  });

  it('assertSameLayout names the tensor whose shape differs', () => {
    const ma = a();
    const other = new Map([['w', tf.zeros([2, 3])], ['b', tf.zeros([2])]]);
    expect(() => assertSameLayout(ma, other, 'endpoints')).toThrow(/endpoints: tensor "w" is float32\[2, 2\] in the first and float32\[2, 3\]/);
    const fewer = new Map([['w', tf.zeros([2, 2])]]);
    expect(() => assertSameLayout(ma, fewer, 'endpoints')).toThrow(/only in the first: b/);
    disposeTensors(ma, other, fewer);
  });

  it('squaredNorm and countScalars', () => {
    const ma = a();
    expect(squaredNorm(ma)).toBe(1 + 4 + 9 + 16 + 100);
    expect(squaredNorm(ma, new Set(['b']))).toBe(100);
    expect(countScalars(ma)).toBe(6);
    disposeTensors(ma);
  });

  it('interpolation and norms leak no tensors', async () => {
    const ma = a(), mb = b();
    await expectNoLeakedTensors(() => disposeTensors(interpolateTensors(ma, mb, 0.3)));
    await expectNoLeakedTensors(() => squaredNorm(ma));
    disposeTensors(ma, mb);
  });
});
