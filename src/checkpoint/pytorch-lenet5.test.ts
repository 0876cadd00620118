/**
 * LeNet5 trained by PyTorch (scripts/make-pytorch-fixtures.py, 2 epochs on Fashion-MNIST): our
 * importer + our LeNet5 must reproduce PyTorch's logits, test loss and test accuracy.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { DEBIAN_FASHION_MNIST_DIR, loadDataset } from '../data/datasets.js';
import { lenet5 } from '../models/lenet5/index.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { exportPyTorchStateDict, importPyTorchStateDict, loadPyTorchStateDict } from './pytorch.js';
import { readSafetensors, serializeSafetensors, type SafetensorsTensor } from './safetensors.js';

/** Index of the first element that differs (−2 when the lengths differ), −1 when equal bit for bit; fast on large arrays. */
function firstDifference(a: ArrayLike<number> | undefined, b: ArrayLike<number>): number {
  if (a === undefined || a.length !== b.length) return -2;
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/lenet5-pytorch.safetensors', import.meta.url));
const EXPECTED = fileURLToPath(new URL('../../test/fixtures/lenet5-pytorch-expected.json', import.meta.url));

interface Expected {
  readonly test: { readonly count: number; readonly loss: number; readonly accuracy: number };
  readonly samples: { readonly shape: number[]; readonly pixels: number[][]; readonly logits: number[][]; readonly labels: number[] };
}

let expected: Expected;
let dir: string;
beforeAll(async () => {
  await useTestBackend();
  expected = JSON.parse(await readFile(EXPECTED, 'utf8')) as Expected;
  dir = await mkdtemp(join(tmpdir(), 'modeconn-lenet5-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function logitsOf(model: Model, x: tf.Tensor4D): Float32Array {
  const { logits } = lenet5.apply(lenet5.parseConfig(model.config), model, x, { training: false });
  const values = logits.dataSync() as Float32Array;
  logits.dispose();
  return values;
}

describe('PyTorch LeNet5 import', () => {
  it('reproduces PyTorch\'s logits on 8 test images to 1e-4', async ({ annotate }) => {
    const model = await loadPyTorchStateDict(FIXTURE);
    expect(model.architecture).toBe('lenet5');
    expect(model.config).toEqual({ inputChannels: 1, inputSize: 28, classes: 10 });
    const { pixels, shape, logits } = expected.samples;
    const x = tf.tensor4d(Float32Array.from(pixels.flat(), (p) => p / 255), shape as [number, number, number, number]);
    const ours = logitsOf(model, x);
    const theirs = logits.flat();
    let maxAbs = 0;
    for (let i = 0; i < theirs.length; i++) maxAbs = Math.max(maxAbs, Math.abs((ours[i] as number) - (theirs[i] as number)));
    await annotate(`lenet5: max |logit − PyTorch| over 8×10 logits = ${maxAbs.toExponential(2)}`);
    expect(maxAbs).toBeLessThan(1e-4);
    x.dispose();
    disposeTensors(model);
  });

  it('without the fc1 row permutation the logits are wrong (the permutation is needed and tested)', async () => {
    const { tensors } = await readSafetensors(FIXTURE);
    const model = importPyTorchStateDict(tensors);
    // Undo the flatten-order permutation: a plain transpose of fc1.
    const fc1 = tensors.get('fc1.weight') as SafetensorsTensor;
    const plain = new Float32Array(400 * 120);
    for (let o = 0; o < 120; o++) for (let j = 0; j < 400; j++) plain[j * 120 + o] = fc1.data[o * 400 + j] as number;
    const wrong: Model = { ...model, params: new Map([...model.params].map(([n, t]) => [n, n === 'fc1.weight' ? tf.tensor2d(plain, [400, 120]) : t])) };
    const { pixels, shape, logits } = expected.samples;
    const x = tf.tensor4d(Float32Array.from(pixels.flat(), (p) => p / 255), shape as [number, number, number, number]);
    const bad = logitsOf(wrong, x);
    const theirs = logits.flat();
    let maxAbs = 0;
    for (let i = 0; i < theirs.length; i++) maxAbs = Math.max(maxAbs, Math.abs((bad[i] as number) - (theirs[i] as number)));
    expect(maxAbs).toBeGreaterThan(0.1);
    wrong.params.get('fc1.weight')?.dispose();
    x.dispose();
    disposeTensors(model);
  });

  it.skipIf(!existsSync(DEBIAN_FASHION_MNIST_DIR))('matches PyTorch\'s loss and accuracy on the full 10k test set', async ({ annotate }) => {
    const model = await loadPyTorchStateDict(FIXTURE);
    const test = await loadDataset('fashion-mnist', 'test');
    let lossSum = 0;
    let correct = 0;
    const batch = 1000;
    for (let start = 0; start < test.count; start += batch) {
      const n = Math.min(batch, test.count - start);
      const x = tf.tensor4d(Float32Array.from(test.images.subarray(start * 784, (start + n) * 784), (p) => p / 255), [n, 28, 28, 1]);
      const logits = logitsOf(model, x);
      x.dispose();
      for (let i = 0; i < n; i++) {
        const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
        const max = Math.max(...row);
        const logSumExp = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        const label = test.labels[start + i] as number;
        lossSum += logSumExp - (row[label] as number);
        if (row.indexOf(max) === label) correct++;
      }
    }
    const loss = lossSum / test.count;
    const accuracy = correct / test.count;
    await annotate(`lenet5 full test set: ours loss ${loss.toFixed(6)} acc ${accuracy.toFixed(4)}; PyTorch loss ${expected.test.loss.toFixed(6)} acc ${expected.test.accuracy.toFixed(4)}`);
    expect(test.count).toBe(expected.test.count);
    expect(Math.abs(loss - expected.test.loss)).toBeLessThan(1e-4);
    expect(Math.abs(accuracy - expected.test.accuracy)).toBeLessThanOrEqual(1 / test.count);
    disposeTensors(model);
  });

  it('export → import is the identity in both directions', async () => {
    const { tensors } = await readSafetensors(FIXTURE);
    const model = importPyTorchStateDict(tensors);
    const exported = await exportPyTorchStateDict(model);
    expect([...exported.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      const e = exported.get(name);
      expect(e?.shape, name).toEqual(t.shape);
      expect(firstDifference(e?.data, t.data), name).toBe(-1);
    }
    const back = importPyTorchStateDict((await readBack(exported)).tensors);
    for (const [name, t] of model.params) expect(firstDifference(back.params.get(name)?.dataSync(), t.dataSync()), name).toBe(-1);
    disposeTensors(model, back);
  });

  it('does not leak tensors across repeated imports', async () => {
    const { tensors } = await readSafetensors(FIXTURE);
    await expectNoLeakedTensors(() => {
      disposeTensors(importPyTorchStateDict(tensors));
    });
  });

  it('names the tensor when a file is renamed, misshapen, NaN, truncated or of another architecture', async () => {
    const { tensors } = await readSafetensors(FIXTURE);
    const before = tf.memory().numTensors;
    const renamed = new Map([...tensors].map(([n, t]) => [n === 'fc2.bias' ? 'fc2.b' : n, t]));
    expect(() => importPyTorchStateDict(renamed, { source: 'renamed.safetensors' })).toThrow(
      /renamed\.safetensors does not hold a lenet5 .*2 problems:\n {2}- unexpected tensor "fc2\.b" \(F32\[84\]\)\n {2}- missing tensor "fc2\.bias" \(expected F32\[84\] in PyTorch layout\)/,
    );
    const reshaped = new Map(tensors);
    reshaped.set('conv2.weight', { dtype: 'F32', shape: [16, 6, 25], data: (tensors.get('conv2.weight') as SafetensorsTensor).data });
    expect(() => importPyTorchStateDict(reshaped)).toThrow(/tensor "conv2\.weight": expected F32\[16, 6, 5, 5\] \(PyTorch layout; ours \[5, 5, 6, 16\]\), found F32\[16, 6, 25\]/);
    const asInt = new Map(tensors);
    asInt.set('fc3.bias', { ...(tensors.get('fc3.bias') as SafetensorsTensor), dtype: 'I64' });
    expect(() => importPyTorchStateDict(asInt)).toThrow(/tensor "fc3\.bias": expected F32\[10\] .*found I64\[10\]/);
    expect(() => importPyTorchStateDict(tensors, { architecture: 'vgg16' })).toThrow(/unknown architecture "vgg16"/);
    expect(() => importPyTorchStateDict(tensors, { config: { classes: 7 } })).toThrow(/tensor "fc3\.weight": expected F32\[7, 84\].*found F32\[10, 84\]/);
    expect(tf.memory().numTensors).toBe(before);

    const bytes = await readFile(FIXTURE);
    const truncated = join(dir, 'truncated.safetensors');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 100));
    await expect(loadPyTorchStateDict(truncated)).rejects.toThrow(/truncated\.safetensors: is truncated/);
    const withNaN = new Map(tensors);
    const poisoned = Float32Array.from((tensors.get('fc1.bias') as SafetensorsTensor).data);
    poisoned[7] = NaN;
    withNaN.set('fc1.bias', { dtype: 'F32', shape: [120], data: poisoned });
    const nanPath = join(dir, 'nan.safetensors');
    await writeFile(nanPath, serializeSafetensors(new Map([...withNaN].map(([n, t]) => [n, { shape: t.shape, data: t.data }]))));
    await expect(loadPyTorchStateDict(nanPath)).rejects.toThrow(/nan\.safetensors: tensor "fc1\.bias" F32\[120\] holds a non-finite value \(NaN\) at flat index 7/);
  });
});

async function readBack(tensors: Awaited<ReturnType<typeof exportPyTorchStateDict>>) {
  const path = join(dir, `export-${Math.random().toString(36).slice(2)}.safetensors`);
  await writeFile(path, serializeSafetensors(tensors));
  return readSafetensors(path);
}
