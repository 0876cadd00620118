import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { createModel } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { readSafetensors, writeSafetensors, type SafetensorsTensor } from './safetensors.js';

/** Index of the first element that differs (−2 when the lengths differ), −1 when equal bit for bit; fast on large arrays. */
function firstDifference(a: ArrayLike<number> | undefined, b: ArrayLike<number>): number {
  if (a === undefined || a.length !== b.length) return -2;
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const LENET_PYTORCH = fileURLToPath(new URL('../../test/fixtures/lenet5-pytorch.safetensors', import.meta.url));

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-checkpoint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectSameTensors(a: Model, b: Model): void {
  expect([...b.params.keys()]).toEqual([...a.params.keys()]);
  expect([...b.buffers.keys()]).toEqual([...a.buffers.keys()]);
  for (const [name, t] of [...a.params, ...a.buffers]) {
    const u = b.params.get(name) ?? b.buffers.get(name);
    expect(u?.shape, name).toEqual(t.shape);
    expect(firstDifference(u?.dataSync(), t.dataSync()), name).toBe(-1);
  }
}

describe('native checkpoints', () => {
  it('save → load is the identity on tensors and metadata', async () => {
    const model = createModel('lenet5', { inputChannels: 3, inputSize: 32 }, 7);
    const path = join(dir, 'lenet.safetensors');
    const info = {
      dataset: 'cifar10',
      preprocessing: { kind: 'standardize', mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26] },
      seed: 7,
      epoch: 12,
      metrics: { trainLoss: 0.25, testAccuracy: 0.61, divergedLoss: NaN, bound: -Infinity },
      createdAt: '2026-01-02T03:04:05.000Z',
      extra: { note: 'hello', list: [1, null, true] },
    };
    await saveCheckpoint(path, model, info);
    const loaded = await loadCheckpoint(path);
    expect(loaded.format).toBe('native');
    expect(loaded.model.architecture).toBe('lenet5');
    expect(loaded.model.config).toEqual({ inputChannels: 3, inputSize: 32, classes: 10 });
    expect(loaded.metadata).toEqual({ ...info, architecture: 'lenet5', config: { inputChannels: 3, inputSize: 32, classes: 10 } });
    expectSameTensors(model, loaded.model);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
    disposeTensors(model, loaded.model);
  });

  it('stores native layouts and string metadata on disk (CheckpointMetadataOnDisk)', async () => {
    const model = createModel('lenet5', {}, 1);
    const path = join(dir, 'ondisk.safetensors');
    await saveCheckpoint(path, model, { seed: 1, metrics: { loss: 2.5 } });
    const raw = await readSafetensors(path);
    expect(raw.tensors.get('conv1.weight')?.shape).toEqual([5, 5, 1, 6]);
    expect(raw.tensors.get('fc1.weight')?.shape).toEqual([400, 120]);
    expect(raw.metadata).toMatchObject({ format: 'mode-connectivity', format_version: '1', architecture: 'lenet5', seed: '1', metrics: '{"loss":2.5}' });
    expect(JSON.parse(raw.metadata.config as string)).toEqual({ inputChannels: 1, inputSize: 28, classes: 10 });
    expect(Number.isNaN(Date.parse(raw.metadata.created_at as string))).toBe(false);
    disposeTensors(model);
  });

  it('saves and loads a ResNet18 with its BatchNorm buffers', async () => {
    const model = createModel('resnet18', { width: 0.0625 }, 3);
    const path = join(dir, 'resnet.safetensors');
    await saveCheckpoint(path, model, { dataset: 'cifar10' });
    const loaded = await loadCheckpoint(path, { architecture: 'resnet18' });
    expect(loaded.model.buffers.size).toBeGreaterThan(0);
    expectSameTensors(model, loaded.model);
    disposeTensors(model, loaded.model);
  });

  it('lists every missing, unexpected and misshapen tensor in one error and loads nothing', async () => {
    const model = createModel('lenet5', {}, 2);
    const good = join(dir, 'good.safetensors');
    await saveCheckpoint(good, model);
    const { tensors, metadata } = await readSafetensors(good);
    const broken = new Map<string, SafetensorsTensor>(tensors);
    broken.delete('fc2.bias');
    broken.set('fc2.b', tensors.get('fc2.bias') as SafetensorsTensor);
    broken.set('conv2.weight', { dtype: 'F32', shape: [16, 6, 5, 5], data: (tensors.get('conv2.weight') as SafetensorsTensor).data });
    const path = join(dir, 'broken.safetensors');
    await writeSafetensors(path, broken, metadata);
    const before = tf.memory().numTensors;
    const error = await loadCheckpoint(path).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toMatch(/broken\.safetensors does not hold a lenet5 with config .*: 3 problems:/);
    expect(error?.message).toContain('tensor "conv2.weight": expected F32[5, 5, 6, 16], found F32[16, 6, 5, 5]');
    expect(error?.message).toContain('missing tensor "fc2.bias" (expected F32[84])');
    expect(error?.message).toContain('unexpected tensor "fc2.b" (F32[84])');
    expect(tf.memory().numTensors).toBe(before);
    disposeTensors(model);
  });

  it('refuses a native file asked for as another architecture or config, and a bad metadata version', async () => {
    const model = createModel('lenet5', {}, 3);
    const path = join(dir, 'arch.safetensors');
    await saveCheckpoint(path, model);
    await expect(loadCheckpoint(path, { architecture: 'resnet18' })).rejects.toThrow(/arch\.safetensors holds a lenet5 checkpoint, but architecture resnet18 was asked for/);
    await expect(loadCheckpoint(path, { config: { classes: 100 } })).rejects.toThrow(/holds a lenet5 with config .*"classes":10.*but config .*"classes":100.* was asked for/);
    const { tensors, metadata } = await readSafetensors(path);
    const future = join(dir, 'future.safetensors');
    await writeSafetensors(future, tensors, { ...metadata, format_version: '99' });
    await expect(loadCheckpoint(future)).rejects.toThrow(/future\.safetensors: metadata "format_version" is 99; this version of mode-connectivity reads up to 1/);
    disposeTensors(model);
  });

  it('does not leak tensors across repeated loads', async () => {
    const model = createModel('lenet5', {}, 4);
    const path = join(dir, 'leak.safetensors');
    await saveCheckpoint(path, model);
    disposeTensors(model);
    await expectNoLeakedTensors(async () => {
      disposeTensors((await loadCheckpoint(path)).model);
    });
  });
});

describe('foreign (PyTorch) files through loadCheckpoint', () => {
  it('recognizes a PyTorch state dict and infers architecture and config', async () => {
    const loaded = await loadCheckpoint(LENET_PYTORCH);
    expect(loaded.format).toBe('pytorch');
    expect(loaded.fileMetadata).toEqual({ format: 'pt' });
    expect(loaded.metadata).toEqual({ architecture: 'lenet5', config: { inputChannels: 1, inputSize: 28, classes: 10 } });
    disposeTensors(loaded.model);
  });

  it('a wrong --arch lists the tensors that do not fit, and loads nothing', async () => {
    const before = tf.memory().numTensors;
    const error = await loadCheckpoint(LENET_PYTORCH, { architecture: 'resnet18', config: { width: 0.125 } }).then(() => undefined, (e: unknown) => e as Error);
    expect(error?.message).toMatch(/lenet5-pytorch\.safetensors does not hold a resnet18 with config/);
    expect(error?.message).toContain('tensor "conv1.weight": expected F32[8, 3, 3, 3] (PyTorch layout; ours [3, 3, 3, 8]), found F32[6, 1, 5, 5]');
    expect(error?.message).toContain("missing tensor \"bn1.weight\" (expected F32[8] in PyTorch layout)");
    expect(error?.message).toMatch(/… and \d+ more missing tensors/);
    expect(error?.message).toContain("(the tensor names look like a lenet5: was the architecture given wrongly?)");
    expect(error?.message).toContain('unexpected tensor "fc3.weight" (F32[10, 84])');
    expect(tf.memory().numTensors).toBe(before);
    await expect(loadCheckpoint(LENET_PYTORCH, { format: 'native' })).rejects.toThrow(/is not a native mode-connectivity checkpoint/);
  });
});
