import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { loadDataset } from '../data/datasets.js';
import { DEFAULT_PREPROCESSING } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
import { createEvaluationData, disposeEvaluationData } from './evaluation-data.js';

let train: ImageSplit;
let test: ImageSplit;
beforeAll(async () => {
  await useTestBackend();
  train = await loadDataset('fashion-mnist-small', 'train');
  test = await loadDataset('fashion-mnist-small', 'test');
});

describe('createEvaluationData', () => {
  it('loads class-balanced evaluation subsets and a fixed number of full BN batches, and frees them all', async () => {
    const before = tf.memory().numTensors;
    const data = createEvaluationData({ train, test }, DEFAULT_PREPROCESSING, { batchSize: 300, trainExamples: 1000, testExamples: 700, bnBatches: 3, bnBatchSize: 64 });
    expect(data.train!.map((b) => b.x.shape[0])).toEqual([300, 300, 300, 100]);
    expect(data.test!.map((b) => b.x.shape[0])).toEqual([300, 300, 100]);
    expect(data.bnBatches.map((b) => b.x.shape[0])).toEqual([64, 64, 64]);
    // Class-balanced: 100 of each class in the 1000 training images.
    const all = tf.concat(data.train!.map((b) => b.y));
    const labels = await all.data();
    all.dispose();
    const counts = new Array<number>(10).fill(0);
    for (const l of labels) counts[l] = counts[l]! + 1;
    expect(counts).toEqual(new Array<number>(10).fill(100));
    expect(data.train![0]!.x.shape.slice(1)).toEqual([28, 28, 1]);
    disposeEvaluationData(data);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('needs the training split for BN batches, and can skip train rows', () => {
    expect(() => createEvaluationData({ test }, DEFAULT_PREPROCESSING)).toThrow(/needs the training split/);
    const data = createEvaluationData({ train, test, evaluateTrain: false }, DEFAULT_PREPROCESSING, { testExamples: 10, bnBatches: 1 });
    expect(data.train).toBeUndefined();
    expect(data.bnBatches).toHaveLength(1);
    disposeEvaluationData(data);
  });
});
