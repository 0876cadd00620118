import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { saveCheckpoint } from '../checkpoint/checkpoint.js';
import { loadDataset } from '../data/datasets.js';
import { createEvaluationData, disposeEvaluationData } from '../evaluate/evaluation-data.js';
import { withFlagNames } from '../cli/option-flags.js';
import { createModel } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import { openAnalysis } from './open-analysis.js';

let dir: string;
const file = (name: string): string => join(dir, name);

beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'open-analysis-'));
  const save = async (name: string, seed: number, info: Parameters<typeof saveCheckpoint>[2]): Promise<void> => {
    const model = createModel('lenet5', {}, seed);
    await saveCheckpoint(file(name), model, info);
    disposeTensors(model);
  };
  await save('a.safetensors', 1, { dataset: 'fashion-mnist-small', preprocessing: { normalize: 'unit' } });
  await save('b.safetensors', 2, { dataset: 'fashion-mnist-small', preprocessing: { normalize: 'unit' } });
  await save('mnist.safetensors', 3, { dataset: 'mnist', preprocessing: { normalize: 'unit' } });
  await save('padded.safetensors', 4, { dataset: 'fashion-mnist-small', preprocessing: { normalize: 'unit', padTo: 32 } });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openAnalysis', () => {
  it('reads dataset and preprocessing from the metadata and builds the same evaluation data as createEvaluationData', async () => {
    const before = tf.memory().numTensors;
    const analysis = await openAnalysis([file('a.safetensors'), file('b.safetensors')], { splits: ['train', 'test'], trainExamples: 300, testExamples: 200 });
    expect(analysis.dataset).toBe('fashion-mnist-small');
    expect(analysis.preprocessing).toEqual({ normalize: 'unit' });
    expect(analysis.models.map((m) => m.architecture)).toEqual(['lenet5', 'lenet5']);
    expect(analysis.bnReset).toBe(false);
    const count = (batches: readonly { x: tf.Tensor }[] | undefined): number => (batches ?? []).reduce((n, batch) => n + (batch.x.shape[0]), 0);
    expect(count(analysis.data.train)).toBe(300);
    expect(count(analysis.data.test)).toBe(200);
    // Independent construction from the raw splits, as the scripts did before.
    const [train, test] = [await loadDataset('fashion-mnist-small', 'train'), await loadDataset('fashion-mnist-small', 'test')];
    const direct = createEvaluationData({ train, test }, { normalize: 'unit' }, { trainExamples: 300, testExamples: 200, bnBatches: 0 });
    const sum = (batches: readonly { x: tf.Tensor }[] | undefined): number[] => (batches ?? []).map((batch) => tf.tidy(() => tf.sum(batch.x).dataSync()[0] as number));
    expect(sum(analysis.data.test)).toEqual(sum(direct.test));
    expect(sum(analysis.data.train)).toEqual(sum(direct.train));
    disposeEvaluationData(direct);
    analysis.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the files and the field when the checkpoints disagree on dataset or preprocessing, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    await expect(openAnalysis([file('a.safetensors'), file('mnist.safetensors')])).rejects.toThrow(
      /a\.safetensors was trained on dataset fashion-mnist-small but .*mnist\.safetensors on dataset mnist \(metadata field "dataset"\)/,
    );
    await expect(openAnalysis([file('a.safetensors'), file('padded.safetensors')])).rejects.toThrow(/padded\.safetensors was trained with another preprocessing than .*a\.safetensors \(metadata field "preprocessing": padTo: none vs 32/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('speaks in option names (backticked), which the CLI shows as its flags', async () => {
    const error = await openAnalysis([file('a.safetensors')], { testExamples: 0 }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^`testExamples`: expected an integer ≥ 1, found 0$/);
    expect(withFlagNames((error as Error).message)).toBe('--test-examples: expected an integer ≥ 1, found 0');
    const mismatch = await openAnalysis([file('a.safetensors')], { preprocessing: { padTo: 32 } }).catch((e: unknown) => e as Error);
    expect(withFlagNames((mismatch as Error).message)).toMatch(/was trained with padTo = undefined, but --pad-to 32 was given/);
    expect(withFlagNames('`architecture` `splits` `bnBatches` `dataDir`')).toBe('--arch --split --bn-batches --data-dir');
  });
});
