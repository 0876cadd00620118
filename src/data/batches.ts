/**
 * Mini-batches: seeded index orders (pure, no tensors) and the conversion of raw bytes to input
 * tensors.
 *
 * Order: with shuffle, epoch e of a run with seed s visits the images in the Fisher–Yates
 * permutation drawn from createRandom(s) forked by e (src/util/random.ts), cut into batches of
 * `batchSize`; the same (s, e) always gives the same batches, any other (s, e) an independent
 * order. Without shuffle the order is 0, 1, …, N−1.
 *
 * Conversion: one Float32Array is filled in JavaScript through per-channel lookup tables
 * (preprocess.ts) and becomes one tensor, so converting a batch costs one tfjs allocation, not a
 * chain of per-image tf ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRandom, permutation } from '../util/random.js';
import type { Preprocessing } from './preprocess.js';
import { pixelTables, preprocessedShape } from './preprocess.js';
import type { ImageSplit } from './types.js';

export interface BatchIndicesOptions {
  /** Images per batch (the last batch may be smaller unless dropLast). */
  readonly batchSize: number;
  /** Seed of the order (default 0). */
  readonly seed?: number;
  /** Epoch number; with shuffle, each epoch gets its own order (default 0). */
  readonly epoch?: number;
  /** Shuffle (default true); false keeps 0‥N−1 in order. */
  readonly shuffle?: boolean;
  /** Drop a last batch smaller than batchSize (default false). */
  readonly dropLast?: boolean;
}

/** Splits 0‥count−1 into batches, in a seeded order (see module doc). */
export function batchIndices(count: number, options: BatchIndicesOptions): Int32Array[] {
  const { batchSize } = options;
  if (!Number.isInteger(count) || count < 0) throw new Error(`batchIndices: count must be a non-negative integer, found ${count}`);
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new Error(`batchIndices: batchSize must be a positive integer, found ${batchSize}`);
  }
  let order: Int32Array;
  if (options.shuffle === false) {
    order = new Int32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
  } else {
    order = permutation(count, createRandom(options.seed ?? 0).fork(options.epoch ?? 0));
  }
  const batches: Int32Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    if (end - start < batchSize && options.dropLast === true) break;
    batches.push(order.slice(start, end));
  }
  return batches;
}

/** Network inputs and integer class labels of one batch. */
export interface Batch {
  /** float32 [n, H', W', C'] after preprocessing. */
  readonly x: tf.Tensor4D;
  /** int32 [n]. */
  readonly y: tf.Tensor1D;
}

/** The preprocessed float inputs of the images at `indices`, as a plain NHWC array. */
export function toFloatArray(split: ImageSplit, indices: ArrayLike<number>, preprocessing: Preprocessing): Float32Array {
  const where = `${split.dataset}/${split.split}`;
  const { height: outH, width: outW, channels: outC } = preprocessedShape(preprocessing, split, `${where} preprocessing`);
  const { height: h, width: w, channels: c } = split;
  const tables = pixelTables(preprocessing, c);
  const out = new Float32Array(indices.length * outH * outW * outC);
  const top = Math.floor((outH - h) / 2);
  const left = Math.floor((outW - w) / 2);
  if (outH !== h || outW !== w) {
    // Border = the input value of a black pixel in each channel.
    const border = Array.from({ length: outC }, (_, k) => (tables[c === 1 ? 0 : k] as Float32Array)[0] as number);
    if (border.every((v) => v === 0)) {
      // Float32Array starts zeroed.
    } else if (outC === 1) {
      out.fill(border[0] as number);
    } else {
      for (let p = 0; p < out.length; p += outC) for (let k = 0; k < outC; k++) out[p + k] = border[k] as number;
    }
  }
  const imageBytes = h * w * c;
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i] as number;
    if (!Number.isInteger(index) || index < 0 || index >= split.count) {
      throw new Error(`${where}: index ${index} at position ${i} is outside 0‥${split.count - 1}`);
    }
    const src = index * imageBytes;
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) {
        const pixel = src + (row * w + col) * c;
        const dst = ((i * outH + row + top) * outW + col + left) * outC;
        if (c === outC) {
          for (let k = 0; k < c; k++) out[dst + k] = (tables[k] as Float32Array)[split.images[pixel + k] as number] as number;
        } else {
          const value = (tables[0] as Float32Array)[split.images[pixel] as number] as number;
          for (let k = 0; k < outC; k++) out[dst + k] = value;
        }
      }
    }
  }
  return out;
}

/**
 * The batch of images at `indices`: x float32 [n, H', W', C'] preprocessed, y int32 [n].
 * The caller owns (and disposes) both tensors.
 */
export function toTensors(split: ImageSplit, indices: ArrayLike<number>, preprocessing: Preprocessing): Batch {
  const shape = preprocessedShape(preprocessing, split, `${split.dataset}/${split.split} preprocessing`);
  const data = toFloatArray(split, indices, preprocessing);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) labels[i] = split.labels[indices[i] as number] as number;
  const x = tf.tensor4d(data, [indices.length, shape.height, shape.width, shape.channels], 'float32');
  const y = tf.tensor1d(labels, 'int32');
  return { x, y };
}

/**
 * Converts every batch once, for evaluation code that reuses the same data at many points of a
 * path. The caller owns the tensors: release them with {@link disposeBatches}.
 */
export function loadBatches(split: ImageSplit, batches: readonly ArrayLike<number>[], preprocessing: Preprocessing): Batch[] {
  const loaded: Batch[] = [];
  try {
    for (const indices of batches) loaded.push(toTensors(split, indices, preprocessing));
  } catch (error) {
    disposeBatches(loaded);
    throw error;
  }
  return loaded;
}

/** Disposes the tensors of batches made by {@link loadBatches} or {@link toTensors}. */
export function disposeBatches(batches: readonly Batch[]): void {
  for (const batch of batches) {
    batch.x.dispose();
    batch.y.dispose();
  }
}
