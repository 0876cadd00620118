/**
 * Where path training (curves, AutoNEB) takes its minibatches from: a pull interface indexed by
 * (epoch, index), so a run is deterministic and can resume at any step without replaying the
 * data order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchIndices, toTensors } from '../data/batches.js';
import type { Preprocessing } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
import type { GradientPoolData, PoolBatch } from '../train/gradient-pool.js';
import { createRandom, permutation } from '../util/random.js';

/** One minibatch: images [N, H, W, C] float32 and integer labels [N]. */
export interface LabeledBatch {
  readonly x: tf.Tensor4D;
  readonly y: tf.Tensor1D;
}

/** Minibatches of one epoch after another. */
export interface BatchSource {
  /** Number of minibatches in one epoch (≥ 1). */
  readonly batchesPerEpoch: number;
  /** Minibatch `index` (0 ≤ index < batchesPerEpoch) of epoch `epoch`; the caller disposes it. */
  batch(epoch: number, index: number): LabeledBatch;
  /**
   * Where the batches are index sets into a split (`splitBatchSource`): the split, how it is
   * preprocessed, and the indices of `batch(epoch, index)`. A gradient pool then holds the split
   * and takes the indices, so no batch is converted here or copied to the workers.
   */
  readonly indexed?: IndexedBatches;
}

/** The split behind a `BatchSource` and the indices of each of its minibatches. */
export interface IndexedBatches {
  readonly split: ImageSplit;
  readonly preprocessing: Preprocessing;
  /** The example indices of minibatch (epoch, index), the ones `batch(epoch, index)` converts. */
  indices(epoch: number, index: number): Int32Array;
}

/** What a gradient pool for batches of `source` needs once: its split, where it has one. */
export function poolDataOf(source: BatchSource | undefined): GradientPoolData {
  return source?.indexed === undefined ? {} : { train: source.indexed.split, preprocessing: source.indexed.preprocessing };
}

/**
 * Minibatch (epoch, index) of `source` as a gradient pool made with `poolDataOf(source)` takes
 * it — its indices, or tensors for a source without a split — passed to `use`; tensors are
 * disposed when `use` settles.
 */
export async function withPoolBatch<T>(source: BatchSource, epoch: number, index: number, use: (batch: PoolBatch) => Promise<T>): Promise<T> {
  if (source.indexed !== undefined) return use(source.indexed.indices(epoch, index));
  const batch = source.batch(epoch, index);
  try {
    return await use(batch);
  } finally {
    tf.dispose([batch.x, batch.y]);
  }
}

export interface TensorBatchOptions {
  /** Examples per minibatch (default 128); a last incomplete batch is dropped. */
  readonly batchSize?: number;
  /** Seed of the per-epoch shuffles (default 0). */
  readonly seed?: number;
  /** Shuffle every epoch (default true). */
  readonly shuffle?: boolean;
}

/**
 * Minibatches sliced from examples already in memory as tensors. The source keeps references to
 * `x` and `y`; the caller keeps ownership and disposes them after training.
 */
export function tensorBatchSource(x: tf.Tensor4D, y: tf.Tensor1D, options: TensorBatchOptions = {}): BatchSource {
  const count = x.shape[0];
  if (y.shape[0] !== count) throw new Error(`tensorBatchSource: x has ${count} examples but y has ${y.shape[0]} labels`);
  const batchSize = options.batchSize ?? 128;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > count) {
    throw new Error(`tensorBatchSource: expected 1 ≤ batchSize ≤ ${count} (the number of examples), found ${batchSize}`);
  }
  const seed = options.seed ?? 0;
  const batchesPerEpoch = Math.floor(count / batchSize);
  let cachedEpoch = -1;
  let order: Int32Array = new Int32Array(0);
  return {
    batchesPerEpoch,
    batch(epoch, index) {
      if (!(Number.isInteger(index) && index >= 0 && index < batchesPerEpoch)) {
        throw new Error(`tensorBatchSource: expected 0 ≤ index < ${batchesPerEpoch}, found ${index}`);
      }
      if (options.shuffle === false) {
        return { x: tf.slice(x, [index * batchSize], [batchSize]), y: tf.slice(y, [index * batchSize], [batchSize]) };
      }
      if (epoch !== cachedEpoch) {
        order = permutation(count, createRandom(seed).fork(epoch));
        cachedEpoch = epoch;
      }
      const picked = order.slice(index * batchSize, (index + 1) * batchSize);
      return tf.tidy(() => {
        const indices = tf.tensor1d(picked, 'int32');
        return { x: tf.gather(x, indices), y: tf.gather(y, indices) };
      });
    },
  };
}

export interface SplitBatchOptions {
  /** Images per minibatch (default 128); a last incomplete batch is dropped. */
  readonly batchSize?: number;
  /** Seed of the per-epoch shuffles (default 0). */
  readonly seed?: number;
  /** Shuffle every epoch (default true). */
  readonly shuffle?: boolean;
}

/** Minibatches of a data set split, converted on demand (`batchIndices` + `toTensors` from src/data). */
export function splitBatchSource(split: ImageSplit, preprocessing: Preprocessing, options: SplitBatchOptions = {}): BatchSource {
  const batchSize = options.batchSize ?? 128;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > split.count) {
    throw new Error(`splitBatchSource: expected 1 ≤ batchSize ≤ ${split.count} (images in ${split.dataset}/${split.split}), found ${batchSize}`);
  }
  const indexOptions = { batchSize, seed: options.seed ?? 0, dropLast: true, ...(options.shuffle === undefined ? {} : { shuffle: options.shuffle }) };
  let cachedEpoch = -1;
  let batches: Int32Array[] = [];
  const indices = (epoch: number, index: number): Int32Array => {
    if (epoch !== cachedEpoch) {
      batches = batchIndices(split.count, { ...indexOptions, epoch });
      cachedEpoch = epoch;
    }
    const picked = batches[index];
    if (picked === undefined) throw new Error(`splitBatchSource: expected 0 ≤ index < ${batches.length}, found ${index}`);
    return picked;
  };
  return {
    batchesPerEpoch: Math.floor(split.count / batchSize),
    batch: (epoch, index) => toTensors(split, indices(epoch, index), preprocessing),
    indexed: { split, preprocessing, indices },
  };
}
