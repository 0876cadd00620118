/**
 * ResNet18 state dicts written by PyTorch (scripts/make-pytorch-fixtures.py): one in torchvision
 * names (k = 1/8), one in pytorch-cifar names with a DataParallel prefix (k = 1/16). Our importer
 * + our ResNet18 must reproduce PyTorch's eval-mode and train-mode logits and BN batch statistics.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxRelativeError, useTestBackend } from '../../test/helpers.js';
import { getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { exportPyTorchStateDict, importPyTorchStateDict } from './pytorch.js';
import { readSafetensors, type SafetensorsTensor } from './safetensors.js';

/** Index of the first element that differs (−2 when the lengths differ), −1 when equal bit for bit; fast on large arrays. */
function firstDifference(a: ArrayLike<number> | undefined, b: ArrayLike<number>): number {
  if (a === undefined || a.length !== b.length) return -2;
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));

interface Expected {
  readonly config: { readonly width: number; readonly classes: number };
  readonly evalLogits: number[][];
  readonly trainLogits: number[][];
  readonly batchStats: Readonly<Record<string, { readonly mean: number[]; readonly var: number[] }>>;
}

let input: SafetensorsTensor;
beforeAll(async () => {
  await useTestBackend();
  input = (await readSafetensors(fixture('resnet18-input.safetensors'))).tensors.get('x') as SafetensorsTensor;
});

function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

async function checkAgainstPyTorch(model: Model, expected: Expected, annotate: (message: string) => Promise<unknown>): Promise<void> {
  const arch = getArchitecture('resnet18');
  const x = tf.tensor4d(input.data, input.shape as [number, number, number, number]);
  const evalResult = arch.apply(model.config, model, x, { training: false });
  const trainResult = arch.apply(model.config, model, x, { training: true });
  const evalLogits = evalResult.logits.dataSync();
  const trainLogits = trainResult.logits.dataSync();
  const evalErr = maxRelativeError(evalLogits, expected.evalLogits.flat());
  const trainErr = maxRelativeError(trainLogits, expected.trainLogits.flat());
  let statsErr = 0;
  for (const [bn, stats] of Object.entries(expected.batchStats)) {
    statsErr = Math.max(statsErr, maxRelativeError(trainResult.batchStats.get(`${bn}.running_mean`)?.dataSync() ?? [], stats.mean));
    statsErr = Math.max(statsErr, maxRelativeError(trainResult.batchStats.get(`${bn}.running_var`)?.dataSync() ?? [], stats.var));
  }
  await annotate(
    `resnet18 k=${expected.config.width}: max abs logit error eval ${maxAbsError(evalLogits, expected.evalLogits.flat()).toExponential(2)}, ` +
      `train ${maxAbsError(trainLogits, expected.trainLogits.flat()).toExponential(2)}; max rel error eval ${evalErr.toExponential(2)}, ` +
      `train ${trainErr.toExponential(2)}, batch stats ${statsErr.toExponential(2)}`,
  );
  expect(evalErr).toBeLessThan(1e-4);
  expect(trainErr).toBeLessThan(1e-4);
  expect(statsErr).toBeLessThan(1e-4);
  // Train and eval differ on this batch (BN uses batch vs running statistics): the test sees BN.
  expect(maxAbsError(evalLogits, trainLogits)).toBeGreaterThan(1e-2);
  x.dispose();
  disposeTensors(evalResult.batchStats, trainResult.batchStats);
  evalResult.logits.dispose();
  trainResult.logits.dispose();
}

describe('PyTorch ResNet18 import', () => {
  it('torchvision names, k = 1/8: eval and train logits and batch statistics match PyTorch', async ({ annotate }) => {
    const expected = JSON.parse(await readFile(fixture('resnet18-expected.json'), 'utf8')) as Expected;
    const { tensors } = await readSafetensors(fixture('resnet18-torchvision.safetensors'));
    const model = importPyTorchStateDict(tensors);
    expect(model.architecture).toBe('resnet18');
    expect(model.config).toEqual({ width: 0.125, inputChannels: 3, inputSize: 32, classes: 10 });
    await checkAgainstPyTorch(model, expected, annotate);
    disposeTensors(model);
  });

  it('pytorch-cifar names with module. prefix, k = 1/16: logits and batch statistics match PyTorch', async ({ annotate }) => {
    const expected = JSON.parse(await readFile(fixture('resnet18-cifar-expected.json'), 'utf8')) as Expected;
    const { tensors } = await readSafetensors(fixture('resnet18-cifar.safetensors'));
    expect(tensors.has('module.layer2.0.shortcut.1.running_var')).toBe(true);
    const model = importPyTorchStateDict(tensors);
    expect(model.config).toEqual({ width: 0.0625, inputChannels: 3, inputSize: 32, classes: 10 });
    expect(model.buffers.has('layer2.0.downsample.1.running_var')).toBe(true);
    expect(model.params.has('fc.weight')).toBe(true);
    await checkAgainstPyTorch(model, expected, annotate);
    disposeTensors(model);
  });

  it('export → import is the identity, in both namings', async () => {
    for (const [file, naming] of [['resnet18-torchvision.safetensors', 'torchvision'], ['resnet18-cifar.safetensors', 'pytorch-cifar']] as const) {
      const { tensors } = await readSafetensors(fixture(file));
      const model = importPyTorchStateDict(tensors);
      const exported = await exportPyTorchStateDict(model, { naming });
      const fileNames = [...tensors.keys()].map((n) => n.replace(/^module\./, ''));
      expect([...exported.keys()].sort()).toEqual(fileNames.sort());
      for (const [name, t] of tensors) {
        const e = exported.get(name.replace(/^module\./, ''));
        expect(e?.shape, name).toEqual(t.shape);
        if (name.endsWith('num_batches_tracked')) {
          expect(e?.dtype).toBe('I64');
          continue;
        }
        expect(firstDifference(e?.data, t.data), name).toBe(-1);
      }
      const back = importPyTorchStateDict(new Map([...exported].map(([n, t]) => [n, { dtype: t.dtype ?? 'F32', shape: t.shape, data: Float32Array.from(t.data) }])));
      for (const [name, t] of [...model.params, ...model.buffers]) expect(firstDifference((back.params.get(name) ?? back.buffers.get(name))?.dataSync(), t.dataSync()), name).toBe(-1);
      disposeTensors(model, back);
    }
  });

  it('errors name the tensor: wrong BN buffer shape, missing downsample, wrong width asked for', async () => {
    const { tensors } = await readSafetensors(fixture('resnet18-torchvision.safetensors'));
    const before = tf.memory().numTensors;
    const broken = new Map(tensors);
    broken.set('layer3.1.bn2.running_var', { dtype: 'F32', shape: [31], data: new Float32Array(31) });
    broken.delete('layer4.0.downsample.0.weight');
    const message = (() => {
      try {
        importPyTorchStateDict(broken, { source: 'broken.safetensors' });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toContain('tensor "layer3.1.bn2.running_var": expected F32[32] (PyTorch layout; ours [32]), found F32[31]');
    expect(message).toContain('missing tensor "layer4.0.downsample.0.weight" (expected F32[64, 32, 1, 1] in PyTorch layout)');
    expect(() => importPyTorchStateDict(tensors, { config: { width: 0.25 } })).toThrow(/tensor "conv1\.weight": expected F32\[16, 3, 3, 3\]/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
