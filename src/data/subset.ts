/**
 * Seeded subsets of a split, for the embedded Fashion-MNIST subset and for fast tests and
 * evaluation on part of a data set.
 *
 * Class-balanced (default): each class c gets ⌊count/K⌋ images, and the count mod K remaining
 * images go one each to the first classes of a seeded permutation of the K classes; within a class
 * the images are a seeded uniform sample without replacement. Random: a seeded uniform sample of
 * `count` images. In both cases the chosen images keep their original order.
 */
import { createRandom, permutation } from '../util/random.js';
import type { ImageSplit } from './types.js';

export interface SubsetOptions {
  /** Equal counts per class (default true); false draws uniformly regardless of class. */
  readonly balanced?: boolean;
}

/** Indices (ascending) of a seeded subset of `count` images of `split`. */
export function subsetIndices(split: ImageSplit, count: number, seed: number, options: SubsetOptions = {}): Int32Array {
  const where = `${split.dataset}/${split.split}`;
  if (!Number.isInteger(count) || count < 0 || count > split.count) {
    throw new Error(`${where}: subset size must be an integer in 0‥${split.count}, found ${count}`);
  }
  const random = createRandom(seed);
  const chosen: number[] = [];
  if (options.balanced === false) {
    const order = permutation(split.count, random);
    for (let i = 0; i < count; i++) chosen.push(order[i] as number);
  } else {
    const byClass: number[][] = Array.from({ length: split.classes }, () => []);
    for (let i = 0; i < split.count; i++) byClass[split.labels[i] as number]?.push(i);
    const base = Math.floor(count / split.classes);
    const quota = new Array<number>(split.classes).fill(base);
    const classOrder = permutation(split.classes, random.fork('classes'));
    for (let r = 0; r < count % split.classes; r++) quota[classOrder[r] as number] = base + 1;
    for (let c = 0; c < split.classes; c++) {
      const members = byClass[c] as number[];
      const want = quota[c] as number;
      if (members.length < want) {
        throw new Error(`${where}: a balanced subset of ${count} needs ${want} images of class ${c}, the split has ${members.length}`);
      }
      const order = permutation(members.length, random.fork(`class ${c}`));
      for (let i = 0; i < want; i++) chosen.push(members[order[i] as number] as number);
    }
  }
  return Int32Array.from(chosen).sort();
}

/** A new split holding the images at `indices` (in that order); pixels and labels are copied. */
export function selectImages(split: ImageSplit, indices: ArrayLike<number>): ImageSplit {
  const pixels = split.height * split.width * split.channels;
  const images = new Uint8Array(indices.length * pixels);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i] as number;
    if (!Number.isInteger(index) || index < 0 || index >= split.count) {
      throw new Error(`${split.dataset}/${split.split}: index ${index} at position ${i} is outside 0‥${split.count - 1}`);
    }
    images.set(split.images.subarray(index * pixels, (index + 1) * pixels), i * pixels);
    labels[i] = split.labels[index] as number;
  }
  return { ...split, images, labels, count: indices.length };
}

/** A seeded subset of `count` images, class-balanced unless `balanced: false` (see module doc). */
export function takeSubset(split: ImageSplit, count: number, seed: number, options: SubsetOptions = {}): ImageSplit {
  return selectImages(split, subsetIndices(split, count, seed, options));
}

/** Number of images of each class, indexed by class. */
export function classCounts(split: ImageSplit): number[] {
  const counts = new Array<number>(split.classes).fill(0);
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i] as number;
    counts[label] = (counts[label] as number) + 1;
  }
  return counts;
}
