/**
 * Resume safety of trainMode: a saved run continues only under the recipe it was made with, a
 * finished seed is not trained again, and unreadable saved files are errors that name the file and
 * say how to start over.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { loadDataset } from '../data/datasets.js';
import { takeSubset } from '../data/subset.js';
import { disposeTensors } from '../models/tensor-map.js';
import { resumeProblemOf } from '../util/resume-check.js';
import { checkpointPath, trainMode, type TrainingData, type TrainModeOptions } from './train-mode.js';

let dir: string;
let data: TrainingData;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-train-resume-'));
  data = {
    train: takeSubset(await loadDataset('fashion-mnist-small', 'train'), 256, 1),
    test: takeSubset(await loadDataset('fashion-mnist-small', 'test'), 100, 1),
  };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = (outDir: string): TrainModeOptions => ({ architecture: 'lenet5', dataset: 'fashion-mnist-small', epochs: 2, batchSize: 64, lr: 0.05, outDir });

/** Runs `options` until the first step of epoch 2, leaving a train state of epoch 1 behind. */
async function interrupted(outDir: string, seed = 1): Promise<void> {
  const abort = new AbortController();
  const run = await trainMode(data, seed, { ...options(outDir), signal: abort.signal, progress: (e) => e.metrics?.epoch === 2 && abort.abort() });
  expect(run.completed).toBe(false);
  disposeTensors(run.model);
}

describe('trainMode resume', () => {
  it('refuses to continue a train state under another lr, optimizer, batch size or epoch count, naming each differing field', async () => {
    const out = join(dir, 'recipe');
    await interrupted(out);
    const state = join(out, 'seed-1', 'train-state.safetensors');
    const cases: [Partial<TrainModeOptions>, RegExp][] = [
      [{ lr: 0.0005 }, /lr: recorded 0\.05, given 0\.0005/],
      [{ optimizer: { kind: 'adam' } }, /optimizer: recorded \{.*"kind":"sgd".*\}, given \{"kind":"adam"\}/],
      [{ batchSize: 32 }, /batchSize: recorded 64, given 32/],
      [{ epochs: 1 }, /epochs: recorded 2, given 1/],
      [{ epochs: 3 }, /epochs: recorded 2, given 3/],
    ];
    const before = tf.memory().numTensors;
    for (const [change, message] of cases) {
      const error = await trainMode(data, 1, { ...options(out), ...change }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(error)).toMatch(message);
      expect(String(error)).toContain(state);
      expect(String(error)).toMatch(/to start over, pass resume: false or delete .*seed-1/);
      expect(resumeProblemOf(error)?.differences.map((d) => d.field)).toEqual([Object.keys(change)[0]]);
      // The refused resume kept the state, and nothing was left allocated.
      expect(existsSync(state)).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
    }
    const again = await trainMode(data, 1, options(out));
    expect(again.completed).toBe(true);
    expect(again.metrics.map((m) => m.epoch)).toEqual([1, 2]);
    disposeTensors(again.model);
  });

  it('a finished seed is not trained again: the rerun returns its metrics and final model without touching the files', async () => {
    const out = join(dir, 'finished');
    const first = await trainMode(data, 5, options(out));
    const final = checkpointPath(out, 5, 2);
    const written = (await stat(final)).mtimeMs;
    const metrics = await readFile(join(out, 'seed-5', 'metrics.json'), 'utf8');
    const again = await trainMode(data, 5, options(out));
    expect(again.completed).toBe(true);
    // Retraining would give new wall-clock seconds in every row.
    expect(again.metrics).toEqual(first.metrics);
    expect((await stat(final)).mtimeMs).toBe(written);
    expect(await readFile(join(out, 'seed-5', 'metrics.json'), 'utf8')).toBe(metrics);
    expect([...again.checkpoints]).toEqual([...first.checkpoints]);
    for (const [name, t] of first.model.params) expect(Array.from(again.model.params.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
    disposeTensors(first.model, again.model);
    // The finished run's recipe is recorded too: a rerun with another one is refused, not skipped.
    await expect(trainMode(data, 5, { ...options(out), lr: 0.01 })).rejects.toThrow(/lr: recorded 0\.05, given 0\.01/);
    const fresh = await trainMode(data, 5, { ...options(out), lr: 0.01, resume: false });
    expect(fresh.metrics[0]?.lr).toBe(0.01);
    disposeTensors(fresh.model);
  });

  it('a corrupt metrics.json or train state is an error naming the file and how to start over', async () => {
    const out = join(dir, 'corrupt');
    await interrupted(out);
    const metrics = join(out, 'seed-1', 'metrics.json');
    await writeFile(metrics, '[{"epoch": 1,');
    await expect(trainMode(data, 1, options(out))).rejects.toThrow(new RegExp(`${metrics}.*not valid JSON.*to start over, pass resume: false or delete`));
    await writeFile(metrics, '{"epoch": 1}');
    await expect(trainMode(data, 1, options(out))).rejects.toThrow(new RegExp(`${metrics} is not a list of epoch rows`));
    const state = join(out, 'seed-1', 'train-state.safetensors');
    await writeFile(state, 'not a safetensors file at all');
    await expect(trainMode(data, 1, options(out))).rejects.toThrow(new RegExp(`${state} cannot be read \\(.*\\); to start over, pass resume: false or delete`));
    const fresh = await trainMode(data, 1, { ...options(out), resume: false });
    expect(fresh.completed).toBe(true);
    disposeTensors(fresh.model);
  });
});
