import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxRelativeError, useTestBackend } from '../../test/helpers.js';
import { batchIndices, toTensors } from '../data/batches.js';
import { loadDataset } from '../data/datasets.js';
import { DEFAULT_PREPROCESSING } from '../data/preprocess.js';
import { takeSubset } from '../data/subset.js';
import { createModel, getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { createOptimizer } from './optimizer.js';
import { learningRateAt } from './schedule.js';
import { trainStep } from './step.js';
import { trainMode, type TrainingData, type TrainModeOptions } from './train-mode.js';

let dir: string;
let data: TrainingData;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-train-workers-'));
  data = { train: takeSubset(await loadDataset('fashion-mnist-small', 'train'), 256, 1) };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = (outDir: string, workers: number): TrainModeOptions => ({
  architecture: 'lenet5',
  dataset: 'fashion-mnist-small',
  epochs: 1,
  batchSize: 64,
  lr: 0.05,
  outDir,
  evaluateTest: false,
  workers,
});

/** Today's single-thread loop written out: trainStep on each batch of epoch 1, cosine per step. */
function referenceRun(seed: number): ModelState {
  const arch = getArchitecture('lenet5');
  let model: ModelState = createModel('lenet5', {}, seed);
  const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
  const order = batchIndices(data.train.count, { batchSize: 64, seed, epoch: 1, shuffle: true });
  order.forEach((indices, step) => {
    const batch = toTensors(data.train, indices, DEFAULT_PREPROCESSING);
    const out = trainStep(arch, arch.parseConfig({}), model, batch, optimizer, learningRateAt({ kind: 'cosine' }, 0.05, step / order.length, 1));
    tf.dispose([batch.x, batch.y, out.loss, out.correct]);
    disposeTensors(model);
    model = out.state;
  });
  optimizer.dispose();
  return model;
}

describe('trainMode with workers (LeNet5, 256 images, 4 steps)', () => {
  it('workers: 1 reproduces the single-thread loop bit for bit; workers: 2 agrees within 1e-5 and is deterministic', async () => {
    const reference = referenceRun(3);
    const one = await trainMode(data, 3, options(join(dir, 'w1'), 1));
    const two = await trainMode(data, 3, options(join(dir, 'w2'), 2));
    const twoAgain = await trainMode(data, 3, options(join(dir, 'w2-again'), 2));
    for (const [name, want] of reference.params) {
      const w = want.dataSync();
      expect(Array.from(one.model.params.get(name)!.dataSync()), `workers 1: ${name}`).toEqual(Array.from(w));
      expect(maxRelativeError(two.model.params.get(name)!.dataSync(), w), `workers 2: ${name}`).toBeLessThan(1e-5);
      expect(Array.from(twoAgain.model.params.get(name)!.dataSync()), `workers 2 twice: ${name}`).toEqual(Array.from(two.model.params.get(name)!.dataSync()));
    }
    expect(Math.abs(two.metrics[0]!.trainLoss - one.metrics[0]!.trainLoss)).toBeLessThan(1e-5);
    expect(two.metrics[0]!.trainAccuracy).toBe(one.metrics[0]!.trainAccuracy);
    disposeTensors(reference, one.model, two.model, twoAgain.model);
  });

  it('rejects a worker count that is not a positive integer before training', async () => {
    await expect(trainMode(data, 1, options(join(dir, 'bad'), 0))).rejects.toThrow(/trainMode workers: expected an integer ≥ 1, found 0/);
  });
});
