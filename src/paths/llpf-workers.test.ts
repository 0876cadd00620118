import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxRelativeError, useTestBackend } from '../../test/helpers.js';
import { toTensors } from '../data/batches.js';
import { loadDataset } from '../data/datasets.js';
import { DEFAULT_PREPROCESSING } from '../data/preprocess.js';
import { lenet5 } from '../models/lenet5/index.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ImageSplit } from '../data/types.js';
import { splitBatchSource, tensorBatchSource, type BatchSource } from './batch-source.js';
import { disposeLlpfRun, runLlpf } from './llpf.js';

let x: tf.Tensor4D;
let y: tf.Tensor1D;
let train: ImageSplit;
beforeAll(async () => {
  await useTestBackend();
  train = await loadDataset('fashion-mnist-small', 'train');
  ({ x, y } = toTensors(train, Int32Array.from({ length: 128 }, (_, i) => i), DEFAULT_PREPROCESSING));
});
afterAll(() => {
  tf.dispose([x, y]);
});

describe('runLlpf with workers (LeNet5 toward the origin, 2 ticks × 3 training iterations)', () => {
  it('ends within 1e-5 of the in-thread run with 2 workers and frees what it made', async () => {
    const config = lenet5.parseConfig({});
    const start = lenet5.init(config, 1);
    const run = (workers: number, source: BatchSource = tensorBatchSource(x, y, { batchSize: 32, seed: 0 })) =>
      runLlpf(lenet5, config, start, { kind: 'origin' }, { train: source }, {
        ticks: 2,
        stepAdaptive: 0.05,
        training: { lr: 0.01, minIterations: 3, maxIterations: 3, lossThreshold: 0 },
        workers,
      });
    const before = tf.memory().numTensors;
    const one = await run(1);
    const two = await run(2);
    expect(two.iterations).toBe(one.iterations);
    for (const [name, want] of one.current.params) expect(maxRelativeError(two.current.params.get(name)!.dataSync(), want.dataSync()), name).toBeLessThan(1e-5);
    // On a split, the workers hold it and take indices: bit-identical to the same batches as tensors.
    const indexed = splitBatchSource(train, DEFAULT_PREPROCESSING, { batchSize: 32, seed: 5 });
    const viaIndices = await run(2, indexed);
    const viaTensors = await run(2, { batchesPerEpoch: indexed.batchesPerEpoch, batch: (e, i) => indexed.batch(e, i) });
    for (const [name, want] of viaTensors.current.params) expect(Array.from(viaIndices.current.params.get(name)!.dataSync()), name).toEqual(Array.from(want.dataSync()));
    for (const r of [one, two, viaIndices, viaTensors]) disposeLlpfRun(r);
    expect(tf.memory().numTensors).toBe(before);
    disposeTensors(start);
  });
});
