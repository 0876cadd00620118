import { describe, expect, it } from 'vitest';
import { classCounts, selectImages, subsetIndices, takeSubset } from './subset.js';
import type { ImageSplit } from './types.js';

/** 200 images of 2×2×1 pixels; image i has every pixel i mod 256 and label i mod 7 (sizes 29,29,...,28). */
function toySplit(): ImageSplit {
  const count = 200;
  const images = new Uint8Array(count * 4);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    images.fill(i % 256, i * 4, i * 4 + 4);
    labels[i] = i % 7;
  }
  return { dataset: 'toy', split: 'train', images, labels, count, height: 2, width: 2, channels: 1, classes: 7 };
}

describe('takeSubset', () => {
  it('balanced: ⌊n/K⌋ per class plus one for n mod K classes; ascending distinct indices', () => {
    const split = toySplit();
    const indices = subsetIndices(split, 23, 5);
    expect(indices.length).toBe(23);
    for (let i = 1; i < indices.length; i++) expect(indices[i]).toBeGreaterThan(indices[i - 1] as number);
    const perClass = new Array<number>(7).fill(0);
    for (const index of indices) perClass[index % 7]! += 1;
    // 23 = 7·3 + 2: five classes with 3, two with 4.
    expect([...perClass].sort()).toEqual([3, 3, 3, 3, 3, 4, 4]);
  });

  it('copies the chosen images and labels', () => {
    const split = toySplit();
    const subset = takeSubset(split, 14, 1);
    const indices = subsetIndices(split, 14, 1);
    expect(subset.count).toBe(14);
    expect(classCounts(subset)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    for (let i = 0; i < 14; i++) {
      const original = indices[i] as number;
      expect(subset.labels[i]).toBe(original % 7);
      expect(Array.from(subset.images.subarray(i * 4, i * 4 + 4))).toEqual([original, original, original, original]);
    }
  });

  it('the seed reproduces and changes the choice', () => {
    const split = toySplit();
    expect(Array.from(subsetIndices(split, 50, 3))).toEqual(Array.from(subsetIndices(split, 50, 3)));
    expect(Array.from(subsetIndices(split, 50, 3))).not.toEqual(Array.from(subsetIndices(split, 50, 4)));
    const random = subsetIndices(split, 50, 3, { balanced: false });
    expect(new Set(random).size).toBe(50);
    expect(Array.from(random)).not.toEqual(Array.from(subsetIndices(split, 50, 4, { balanced: false })));
  });

  it('errors: too many for a class, out-of-range size or index', () => {
    const split = toySplit();
    const keep = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 7 !== 6 || i < 14);
    const fewSixes = selectImages(split, keep);
    expect(() => subsetIndices(fewSixes, 21, 0)).toThrow('toy/train: a balanced subset of 21 needs 3 images of class 6, the split has 2');
    expect(() => subsetIndices(split, 201, 0)).toThrow('toy/train: subset size must be an integer in 0‥200, found 201');
    expect(() => selectImages(split, [0, 200])).toThrow('toy/train: index 200 at position 1 is outside 0‥199');
  });
});
