import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import type { ImageSplit } from '../data/types.js';
import { splitBatchSource, tensorBatchSource } from './batch-source.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('tensorBatchSource', () => {
  it('drops the incomplete batch, covers each example once per epoch, reshuffles per epoch, deterministically', async () => {
    const x = tf.tensor4d(Array.from({ length: 10 }, (_, i) => i), [10, 1, 1, 1]);
    const y = tf.tensor1d(Array.from({ length: 10 }, (_, i) => i));
    const source = tensorBatchSource(x, y, { batchSize: 3, seed: 4 });
    expect(source.batchesPerEpoch).toBe(3);
    const epochLabels = (epoch: number): number[] =>
      [0, 1, 2].flatMap((i) => {
        const b = source.batch(epoch, i);
        const xs = Array.from(b.x.dataSync());
        const ys = Array.from(b.y.dataSync());
        expect(xs).toEqual(ys); // x and y stay paired
        tf.dispose([b.x, b.y]);
        return ys;
      });
    const e0 = epochLabels(0);
    expect(new Set(e0).size).toBe(9);
    expect(epochLabels(0)).toEqual(e0);
    expect(epochLabels(1)).not.toEqual(e0);
    await expectNoLeakedTensors(() => epochLabels(2));
    expect(() => source.batch(0, 3)).toThrow(/0 ≤ index < 3, found 3/);
    tf.dispose([x, y]);
  });
});

describe('splitBatchSource', () => {
  it('converts full batches of an ImageSplit with its labels', () => {
    const split: ImageSplit = {
      dataset: 'toy',
      split: 'train',
      images: Uint8Array.from({ length: 5 * 4 }, (_, i) => Math.floor(i / 4) * 50),
      labels: Uint8Array.from([0, 1, 2, 3, 4]),
      count: 5,
      height: 2,
      width: 2,
      channels: 1,
      classes: 5,
    };
    const source = splitBatchSource(split, { normalize: 'unit' }, { batchSize: 2, seed: 1 });
    expect(source.batchesPerEpoch).toBe(2);
    const b = source.batch(0, 1);
    expect(b.x.shape).toEqual([2, 2, 2, 1]);
    const labels = Array.from(b.y.dataSync());
    const pixels = Array.from(b.x.dataSync());
    // image n has every pixel 50·n/255 under unit normalization
    labels.forEach((label, k) => expect(pixels[4 * k]).toBeCloseTo((50 * label) / 255, 6));
    // Its indices (what a gradient pool holding the split takes) are the batch's examples.
    expect(source.indexed?.split).toBe(split);
    expect(Array.from(source.indexed?.indices(0, 1) ?? [])).toEqual(labels);
    tf.dispose([b.x, b.y]);
  });
});
