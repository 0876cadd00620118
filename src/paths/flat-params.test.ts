import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { disposeTensors } from '../models/tensor-map.js';
import { flatLayout, flattenParams, unflattenParams } from './flat-params.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('flattenParams / unflattenParams', () => {
  it('pack tensors row-major in map order and unpack them exactly', async () => {
    const params = new Map<string, tf.Tensor>([
      ['w', tf.tensor2d([[1, 2, 3], [4, 5, 6]])],
      ['b', tf.tensor1d([7, 8])],
    ]);
    const layout = flatLayout(params);
    expect(layout).toEqual({ names: ['w', 'b'], shapes: [[2, 3], [2]], sizes: [6, 2], total: 8 });
    const flat = flattenParams(params, layout);
    expect(Array.from(flat.dataSync())).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const back = unflattenParams(flat, layout);
    expect(back.get('w')!.arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(back.get('b')!.arraySync()).toEqual([7, 8]);
    const short = tf.zeros<tf.Rank.R1>([3]);
    expect(() => unflattenParams(short, layout)).toThrow(/length 8, found 3/);
    short.dispose();
    await expectNoLeakedTensors(() => {
      const f = flattenParams(params, layout);
      disposeTensors(unflattenParams(f, layout));
      f.dispose();
    });
    disposeTensors(params, back);
    flat.dispose();
  });
});
