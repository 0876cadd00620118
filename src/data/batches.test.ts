import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { createRandom } from '../util/random.js';
import { batchIndices, disposeBatches, loadBatches, toTensors } from './batches.js';
import { loadDataset } from './datasets.js';
import { createPreprocessing } from './preprocess.js';
import { takeSubset } from './subset.js';
import type { ImageSplit } from './types.js';

beforeAll(async () => {
  await useTestBackend();
});

/** 4 grey 3×3 images; image n has byte 10·n + (3·row + col) + 1 at (row, col), label n. */
function greySplit(): ImageSplit {
  const images = new Uint8Array(4 * 9);
  for (let n = 0; n < 4; n++) for (let p = 0; p < 9; p++) images[n * 9 + p] = 10 * n + p + 1;
  return { dataset: 'grey', split: 'test', images, labels: Uint8Array.from([0, 1, 2, 3]), count: 4, height: 3, width: 3, channels: 1, classes: 4 };
}

describe('batchIndices', () => {
  it('covers every index exactly once per epoch, with the requested sizes', () => {
    const batches = batchIndices(103, { batchSize: 10, seed: 7 });
    expect(batches.map((b) => b.length)).toEqual([...new Array<number>(10).fill(10), 3]);
    const seen = batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(batchIndices(103, { batchSize: 10, seed: 7, dropLast: true }).length).toBe(10);
  });

  it('is reproducible for a seed and epoch, and differs across seeds and epochs', () => {
    const flat = (options: { seed: number; epoch?: number }): number[] =>
      batchIndices(50, { batchSize: 8, ...options }).flatMap((b) => Array.from(b));
    expect(flat({ seed: 1 })).toEqual(flat({ seed: 1 }));
    expect(flat({ seed: 1 })).not.toEqual(flat({ seed: 2 }));
    expect(flat({ seed: 1, epoch: 1 })).not.toEqual(flat({ seed: 1, epoch: 2 }));
    expect(flat({ seed: 1, epoch: 3 })).toEqual(flat({ seed: 1, epoch: 3 }));
  });

  it('without shuffle keeps the natural order; bad sizes are refused', () => {
    expect(batchIndices(5, { batchSize: 2, shuffle: false }).map((b) => Array.from(b))).toEqual([[0, 1], [2, 3], [4]]);
    expect(() => batchIndices(5, { batchSize: 0 })).toThrow('batchIndices: batchSize must be a positive integer, found 0');
  });
});

describe('toTensors', () => {
  it('unit scaling: x = byte/255 in NHWC order, y = labels as int32', async () => {
    const split = greySplit();
    const { x, y } = toTensors(split, [2, 0], { normalize: 'unit' });
    expect(x.shape).toEqual([2, 3, 3, 1]);
    expect(x.dtype).toBe('float32');
    expect(y.dtype).toBe('int32');
    const expected = [...Array.from({ length: 9 }, (_, p) => (21 + p) / 255), ...Array.from({ length: 9 }, (_, p) => (1 + p) / 255)];
    const values = await x.data();
    expected.forEach((v, i) => expect(values[i]).toBeCloseTo(v, 6));
    expect(Array.from(await y.data())).toEqual([2, 0]);
    disposeBatches([{ x, y }]);
  });

  it('padding puts the image in the centre with zeros around; channels repeat the grey value', async () => {
    const split = greySplit();
    // 3 → 6: one row/column before, two after.
    const { x, y } = toTensors(split, [1], { normalize: 'unit', padTo: 6, channels: 3 });
    expect(x.shape).toEqual([1, 6, 6, 3]);
    const values = await x.data();
    for (let row = 0; row < 6; row++) {
      for (let col = 0; col < 6; col++) {
        const inside = row >= 1 && row <= 3 && col >= 1 && col <= 3;
        const want = inside ? (10 + 3 * (row - 1) + (col - 1) + 1) / 255 : 0;
        for (let c = 0; c < 3; c++) expect(values[(row * 6 + col) * 3 + c]).toBeCloseTo(want, 6);
      }
    }
    disposeBatches([{ x, y }]);
  });

  it('28→32 padding puts 2 black rows/columns on each side; under standardize the border is −mean/std', async () => {
    const split = greySplit();
    const padded = { ...split, images: new Uint8Array(28 * 28).fill(255), count: 1, labels: Uint8Array.from([0]), height: 28, width: 28 };
    const { x, y } = toTensors(padded, [0], { normalize: 'standardize', mean: [0.25], std: [0.5], padTo: 32 });
    const values = await x.data();
    const at = (row: number, col: number): number => values[row * 32 + col] as number;
    expect([at(0, 0), at(1, 16), at(16, 1), at(30, 16), at(16, 31)].every((v) => Math.abs(v - -0.5) < 1e-6)).toBe(true);
    expect([at(2, 2), at(29, 29), at(16, 16)].every((v) => Math.abs(v - 1.5) < 1e-6)).toBe(true);
    disposeBatches([{ x, y }]);
  });

  it('standardize gives ~0 mean and ~1 std per channel on the training split', async () => {
    const train = takeSubset(await loadDataset('fashion-mnist-small', 'train'), 2000, 0);
    const preprocessing = createPreprocessing(train, { normalize: 'standardize' });
    const { x, y } = toTensors(train, Array.from({ length: train.count }, (_, i) => i), preprocessing);
    const values = await x.data();
    let sum = 0;
    let sumSquares = 0;
    for (const v of values) {
      sum += v;
      sumSquares += v * v;
    }
    const mean = sum / values.length;
    expect(Math.abs(mean)).toBeLessThan(1e-5);
    expect(Math.sqrt(sumSquares / values.length - mean * mean)).toBeCloseTo(1, 4);
    disposeBatches([{ x, y }]);
  });

  it('standardize gives ~0 mean and ~1 std in each of 3 channels with different statistics', async () => {
    const random = createRandom(11);
    const count = 200;
    const images = new Uint8Array(count * 4 * 4 * 3);
    // Channel c spans bytes [40c, 40c + 60·(c+1)): different means and spreads.
    for (let i = 0; i < images.length; i++) images[i] = 40 * (i % 3) + random.int(60 * ((i % 3) + 1));
    const split: ImageSplit = { dataset: 'rgb', split: 'train', images, labels: new Uint8Array(count), count, height: 4, width: 4, channels: 3, classes: 1 };
    const preprocessing = createPreprocessing(split, { normalize: 'standardize' });
    const { x, y } = toTensors(split, Array.from({ length: count }, (_, i) => i), preprocessing);
    const values = await x.data();
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      let sumSquares = 0;
      for (let i = c; i < values.length; i += 3) {
        sum += values[i] as number;
        sumSquares += (values[i] as number) ** 2;
      }
      const n = values.length / 3;
      expect(Math.abs(sum / n)).toBeLessThan(1e-5);
      expect(Math.sqrt(sumSquares / n - (sum / n) ** 2)).toBeCloseTo(1, 4);
    }
    disposeBatches([{ x, y }]);
  });

  it('an index outside the split names the split', () => {
    expect(() => toTensors(greySplit(), [0, 4], { normalize: 'unit' })).toThrow('grey/test: index 4 at position 1 is outside 0‥3');
  });

  it('creates exactly two tensors per batch and leaks none', async () => {
    const split = greySplit();
    const before = tf.memory().numTensors;
    const batch = toTensors(split, [0, 1], { normalize: 'unit' });
    expect(tf.memory().numTensors - before).toBe(2);
    disposeBatches([batch]);
    await expectNoLeakedTensors(() => disposeBatches([toTensors(split, [3, 2, 1], { normalize: 'unit', padTo: 5, channels: 3 })]));
  });

  it('loadBatches + disposeBatches: batches in order, no leaks; a failing batch releases the earlier ones', async () => {
    const split = greySplit();
    const order = batchIndices(4, { batchSize: 3, seed: 4 });
    const before = tf.memory().numTensors;
    const batches = loadBatches(split, order, { normalize: 'unit' });
    expect(batches.map((b) => b.x.shape[0])).toEqual([3, 1]);
    expect(Array.from(await batches[0]!.y.data())).toEqual(Array.from(order[0]!));
    disposeBatches(batches);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => loadBatches(split, [[0], [9]], { normalize: 'unit' })).toThrow(/index 9/);
    expect(tf.memory().numTensors).toBe(before);
    await expectNoLeakedTensors(() => disposeBatches(loadBatches(split, order, { normalize: 'unit' })));
  });
});
