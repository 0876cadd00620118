import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { loadCheckpoint } from '../checkpoint/checkpoint.js';
import { loadDataset } from '../data/datasets.js';
import { takeSubset } from '../data/subset.js';
import { disposeTensors } from '../models/tensor-map.js';
import { checkpointPath, trainMode, validateTrainOptions, type TrainingData, type TrainModeOptions } from './train-mode.js';
import { withFlagNames } from '../cli/option-flags.js';

let dir: string;
let data: TrainingData;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-train-'));
  data = {
    train: takeSubset(await loadDataset('fashion-mnist-small', 'train'), 512, 1),
    test: takeSubset(await loadDataset('fashion-mnist-small', 'test'), 200, 1),
  };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = (outDir: string): TrainModeOptions => ({ architecture: 'lenet5', dataset: 'fashion-mnist-small', epochs: 3, batchSize: 64, lr: 0.05, outDir });

describe('trainMode', () => {
  it('learns: test accuracy after 3 Adam epochs on 512 images is far above chance, and checkpoints carry the metrics', async () => {
    const run = await trainMode(data, 1, { ...options(join(dir, 'plain')), optimizer: { kind: 'adam' }, lr: 0.003 });
    expect(run.completed).toBe(true);
    const last = run.metrics[run.metrics.length - 1];
    expect(last?.testAccuracy).toBeGreaterThan(0.55);
    expect(run.metrics.map((m) => m.epoch)).toEqual([1, 2, 3]);
    const { metadata } = await loadCheckpoint(checkpointPath(join(dir, 'plain'), 1, 3));
    expect(metadata.seed).toBe(1);
    expect(metadata.epoch).toBe(3);
    expect(metadata.metrics?.['testAccuracy']).toBe(last?.testAccuracy);
    expect(await readdir(join(dir, 'plain', 'seed-1'))).not.toContain('train-state.safetensors');
    disposeTensors(run.model);
  });

  it('an interrupted run resumes from its last completed epoch and ends bit-identical to an uninterrupted one', async () => {
    const reference = await trainMode(data, 2, options(join(dir, 'reference')));
    const abort = new AbortController();
    const interrupted = await trainMode(data, 2, {
      ...options(join(dir, 'resumed')),
      signal: abort.signal,
      progress: (p) => {
        if (p.metrics?.['epoch'] === 2 && p.metrics['epochStep'] === 3) abort.abort();
      },
    });
    expect(interrupted.completed).toBe(false);
    expect(await readdir(join(dir, 'resumed', 'seed-2'))).toContain('train-state.safetensors');
    disposeTensors(interrupted.model);
    // What a SIGKILL between write and rename leaves (our naming, and the older `<file>.<pid>.tmp`),
    // beside a file of the user's that happens to end in .tmp: the first two go on resume.
    const seedDir = join(dir, 'resumed', 'seed-2');
    await writeFile(join(seedDir, '.epoch-2.safetensors.0123456789abcdef.tmp'), 'partial');
    await writeFile(join(seedDir, 'train-state.safetensors.4242.tmp'), 'partial');
    await writeFile(join(seedDir, 'notes.tmp'), 'mine');
    const before = tf.memory().numTensors;
    const resumed = await trainMode(data, 2, options(join(dir, 'resumed')));
    expect(resumed.completed).toBe(true);
    expect((await readdir(seedDir)).filter((f) => f.endsWith('.tmp'))).toEqual(['notes.tmp']);
    expect(resumed.metrics.map((m) => m.epoch)).toEqual([1, 2, 3]);
    for (const [name, tensor] of reference.model.params) {
      expect(Array.from(resumed.model.params.get(name)!.dataSync()), name).toEqual(Array.from(tensor.dataSync()));
    }
    disposeTensors(reference.model, resumed.model);
    // Nothing but the two models (10 LeNet5 parameter tensors each; the reference was alive before) outlived the runs.
    expect(tf.memory().numTensors).toBe(before - 10);
  });
});

describe('validateTrainOptions', () => {
  const base: TrainModeOptions = { architecture: 'lenet5', dataset: 'fashion-mnist-small', epochs: 2, outDir: 'unused' };
  it('names the library option in backticks, which the CLI shows as its flag', () => {
    const message = (options: TrainModeOptions): string => {
      try {
        validateTrainOptions(options);
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(message({ ...base, batchSize: 0 })).toBe('`batchSize`: expected a positive integer, found 0');
    expect(withFlagNames(message({ ...base, batchSize: 0 }))).toBe('--batch-size: expected a positive integer, found 0');
    expect(withFlagNames(message({ ...base, saveEpochs: [3] }))).toBe('--save-epochs: 3 is not an epoch in 1..2');
    expect(withFlagNames(message({ ...base, lr: -1 }))).toBe('--lr: expected a positive number, found -1');
    expect(message(base)).toBe('no error');
  });
});
