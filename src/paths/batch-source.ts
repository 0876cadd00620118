/**
 * Where path training (curves, AutoNEB) takes its minibatches from: a pull interface indexed by
 * (epoch, index), so a run is deterministic and can resume at any step without replaying the
 * data order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchIndices, toTensors } from '../data/batches.js';
import type { Preprocessing } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
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
  return {
    batchesPerEpoch: Math.floor(split.count / batchSize),
    batch(epoch, index) {
      if (epoch !== cachedEpoch) {
        batches = batchIndices(split.count, { ...indexOptions, epoch });
        cachedEpoch = epoch;
      }
      const indices = batches[index];
      if (indices === undefined) throw new Error(`splitBatchSource: expected 0 ≤ index < ${batches.length}, found ${index}`);
      return toTensors(split, indices, preprocessing);
    },
  };
}
