/**
 * A user architecture (the `fixture-mlp` module of test/fixtures/cli-architecture-module.ts,
 * loaded as `--architecture-module` loads it) trains on gradient workers: each worker imports the
 * architecture's module itself (Architecture.module, as the evaluation workers do), and the data-
 * parallel result is the one-thread result up to float summation order (DDP semantics; the MLP
 * has no BatchNorm, so nothing depends on the shards). Without a module, workers are refused.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../src/data/datasets.js';
import { takeSubset } from '../src/data/subset.js';
import { loadArchitectureModule } from '../src/models/architecture-module.js';
import { registerArchitecture } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { Architecture } from '../src/models/types.js';
import { createGradientPool } from '../src/train/gradient-pool.js';
import { trainMode, type TrainingData, type TrainModeOptions } from '../src/train/train-mode.js';
import { architecture as fixtureMlp } from './fixtures/cli-architecture-module.js';
import { withWorkerTracking } from './grid-cancellation.js';
import { maxRelativeError, useTestBackend } from './helpers.js';

let dir: string;
let data: TrainingData;
let arch: Architecture<unknown>;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-user-workers-'));
  arch = await loadArchitectureModule('test/fixtures/cli-architecture-module.ts');
  data = { train: takeSubset(await loadDataset('fashion-mnist-small', 'train'), 256, 1) };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = (outDir: string, workers: number): TrainModeOptions => ({
  architecture: 'fixture-mlp',
  dataset: 'fashion-mnist-small',
  epochs: 2,
  batchSize: 64,
  lr: 0.1,
  outDir,
  evaluateTest: false,
  workers,
});

describe('a user architecture on gradient workers', () => {
  it('trains with workers: 2 (the workers import its module) to the workers: 1 parameters within 1e-5', async () => {
    expect(arch.module).toMatch(/^file:.*cli-architecture-module\.ts$/);
    const one = await trainMode(data, 4, options(join(dir, 'w1'), 1));
    const tracked = await withWorkerTracking(() => trainMode(data, 4, options(join(dir, 'w2'), 2)));
    if (tracked.result.status === 'rejected') throw tracked.result.reason;
    const two = tracked.result.value;
    // The run really went through a worker thread (workers: 2 = this thread + one worker thread), closed at its end.
    expect(tracked.workers).toHaveLength(1);
    for (const worker of tracked.workers) expect(worker.threadId).toBe(-1);
    expect([...two.model.params.keys()]).toEqual([...one.model.params.keys()]);
    for (const [name, want] of one.model.params) {
      expect(maxRelativeError(two.model.params.get(name)!.dataSync(), want.dataSync()), name).toBeLessThan(1e-5);
    }
    // 8 steps moved the parameters far beyond that tolerance: the comparison is not vacuous.
    const init = arch.init(arch.parseConfig({}), 4);
    expect(maxRelativeError(one.model.params.get('fc2.weight')!.dataSync(), init.params.get('fc2.weight')!.dataSync())).toBeGreaterThan(1e-2);
    for (const [e1, e2] of one.metrics.map((m, i) => [m, two.metrics[i]!] as const)) expect(Math.abs(e2.trainLoss - e1.trainLoss)).toBeLessThan(1e-5);
    disposeTensors(one.model, two.model, init);
  });

  it('a user architecture registered without a module is refused for workers, naming it', async () => {
    const bare = { ...fixtureMlp, name: 'fixture-mlp-bare' };
    registerArchitecture(bare);
    const before = tf.memory().numTensors;
    await expect(createGradientPool(bare, bare.parseConfig({}), { train: data.train }, { workers: 2 })).rejects.toThrow(
      /workers: worker threads cannot load the user architecture fixture-mlp-bare: it was registered without a module/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
