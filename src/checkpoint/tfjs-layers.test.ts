/**
 * A tfjs LayersModel written by this test in the layout `model.save('file://…')` produces
 * (tfjs-layers 4.x): model.json with a Keras Sequential topology and a weights manifest, and the
 * float32 weights back to back in manifest order, split over two shard files (here in the middle
 * of a tensor, as tfjs's 4 MB shards split large models).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { lenet5 } from '../models/lenet5/index.js';
import { createModel } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { loadTfjsLayersModel } from './tfjs-layers.js';

/** Index of the first element that differs (−2 when the lengths differ), −1 when equal bit for bit; fast on large arrays. */
function firstDifference(a: ArrayLike<number> | undefined, b: ArrayLike<number>): number {
  if (a === undefined || a.length !== b.length) return -2;
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

let dir: string;
let source: Model;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-tfjs-'));
  source = createModel('lenet5', { inputChannels: 1, inputSize: 28, classes: 10 }, 11);
});
afterAll(async () => {
  disposeTensors(source);
  await rm(dir, { recursive: true, force: true });
});

const KERAS_NAMES = ['conv2d/kernel', 'conv2d/bias', 'conv2d_1/kernel', 'conv2d_1/bias', 'dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias'];

function kerasTopology(overrides: { firstPadding?: string; lastActivation?: string; dataFormat?: string; extraDense?: boolean } = {}) {
  const conv = (name: string, filters: number, padding: string, extra: object = {}) => ({
    class_name: 'Conv2D',
    config: { name, filters, kernel_size: [5, 5], strides: [1, 1], padding, data_format: overrides.dataFormat ?? 'channels_last', dilation_rate: [1, 1], activation: 'relu', use_bias: true, ...extra },
  });
  const pool = (name: string) => ({ class_name: 'MaxPooling2D', config: { name, pool_size: [2, 2], strides: [2, 2], padding: 'valid', data_format: 'channels_last' } });
  const dense = (name: string, units: number, activation: string) => ({ class_name: 'Dense', config: { name, units, activation, use_bias: true } });
  return {
    class_name: 'Sequential',
    config: {
      name: 'sequential',
      layers: [
        conv('conv2d', 6, overrides.firstPadding ?? 'same', { batch_input_shape: [null, 28, 28, 1], dtype: 'float32' }),
        pool('max_pooling2d'),
        conv('conv2d_1', 16, 'valid'),
        pool('max_pooling2d_1'),
        { class_name: 'Flatten', config: { name: 'flatten', data_format: 'channels_last' } },
        dense('dense', 120, 'relu'),
        { class_name: 'Dropout', config: { name: 'dropout', rate: 0.5 } },
        dense('dense_1', 84, 'relu'),
        ...(overrides.extraDense === true ? [dense('dense_extra', 84, 'relu')] : []),
        dense('dense_2', 10, overrides.lastActivation ?? 'softmax'),
      ],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
}

/** Writes model.json + two shards into a fresh folder; `mutate` edits the manifest weights or the bytes. */
async function writeTfjsModel(
  name: string,
  options: { topology?: object; shapes?: (shapes: number[][]) => void; truncate?: number; dtype?: string } = {},
): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  const tensors = [...source.params.values()];
  const shapes = tensors.map((t) => [...t.shape]);
  options.shapes?.(shapes);
  const values = new Float32Array(tensors.reduce((n, t) => n + t.size, 0));
  let offset = 0;
  for (const t of tensors) {
    values.set(t.dataSync(), offset);
    offset += t.size;
  }
  const bytes = new Uint8Array(values.buffer).subarray(0, values.byteLength - (options.truncate ?? 0));
  const split = 100_001; // inside fc1's kernel
  await writeFile(join(folder, 'group1-shard1of2.bin'), bytes.subarray(0, split));
  await writeFile(join(folder, 'group1-shard2of2.bin'), bytes.subarray(split));
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    convertedBy: null,
    modelTopology: options.topology ?? kerasTopology(),
    weightsManifest: [
      {
        paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
        weights: KERAS_NAMES.map((n, i) => ({ name: n, shape: shapes[i], dtype: options.dtype ?? 'float32' })),
      },
    ],
  };
  const path = join(folder, 'model.json');
  await writeFile(path, JSON.stringify(modelJson));
  return path;
}

describe('tfjs LayersModel import', () => {
  it('maps a Keras Sequential LeNet5 onto our names, layouts unchanged, and gives the same logits', async () => {
    const path = await writeTfjsModel('ok');
    const { model, finalActivation } = await loadTfjsLayersModel(path);
    expect(finalActivation).toBe('softmax');
    expect(model.config).toEqual({ inputChannels: 1, inputSize: 28, classes: 10 });
    for (const [name, t] of source.params) expect(firstDifference(model.params.get(name)?.dataSync(), t.dataSync()), name).toBe(-1);
    const x = tf.randomUniform<tf.Rank.R4>([2, 28, 28, 1], 0, 1, 'float32', 5);
    const a = lenet5.apply(lenet5.parseConfig(source.config), source, x, { training: false });
    const b = lenet5.apply(model.config, model, x, { training: false });
    expect(b.logits.dataSync()).toEqual(a.logits.dataSync());
    tf.dispose([x, a.logits, b.logits]);
    disposeTensors(model);
  });

  it('refuses a differently wired network, listing what differs', async () => {
    const before = tf.memory().numTensors;
    const padded = await writeTfjsModel('padding', { topology: kerasTopology({ firstPadding: 'valid', dataFormat: 'channels_first' }) });
    await expect(loadTfjsLayersModel(padded)).rejects.toThrow(/is not wired like a LeNet5: \d+ problems:\n.*layer 0 \(Conv2D "conv2d"\): padding is "valid", expected "same"/s);
    await expect(loadTfjsLayersModel(padded)).rejects.toThrow(/data_format is "channels_first", expected "channels_last"/);
    const deeper = await writeTfjsModel('deeper', { topology: kerasTopology({ extraDense: true }) });
    await expect(loadTfjsLayersModel(deeper)).rejects.toThrow(/layers are Conv2D → MaxPooling2D → Conv2D → MaxPooling2D → Flatten → Dense → Dense → Dense → Dense; a LeNet5 is/);
    const tanh = await writeTfjsModel('tanh', { topology: kerasTopology({ lastActivation: 'tanh' }) });
    await expect(loadTfjsLayersModel(tanh)).rejects.toThrow(/layer 7 \(Dense "dense_2"\): activation is "tanh", expected linear or softmax/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the weight whose shape does not fit, a truncated shard, a missing shard, a quantized weight', async () => {
    const reshaped = await writeTfjsModel('reshaped', {
      shapes: (s) => {
        s[2] = [5, 5, 16, 6]; // conv2d_1/kernel as if transposed; same size
      },
    });
    await expect(loadTfjsLayersModel(reshaped)).rejects.toThrow(/weight 2 "conv2d_1\/kernel" has shape \[5, 5, 16, 6\], expected \[5, 5, 6, 16\] for conv2\.weight/);
    const truncated = await writeTfjsModel('truncated', { truncate: 8 });
    await expect(loadTfjsLayersModel(truncated)).rejects.toThrow(/shards of weightsManifest\[0\] \(group1-shard1of2\.bin, group1-shard2of2\.bin\) hold 246816 bytes, but its weights need 246824 \(truncated shard\?\)/);
    const missing = await writeTfjsModel('missing');
    await rm(join(dir, 'missing', 'group1-shard2of2.bin'));
    await expect(loadTfjsLayersModel(missing)).rejects.toThrow(/cannot read weight shard group1-shard2of2\.bin/);
    const quantized = await writeTfjsModel('quantized', { dtype: 'uint8' });
    await expect(loadTfjsLayersModel(quantized)).rejects.toThrow(/weight "conv2d\/kernel" has dtype "uint8", expected float32/);
    await expect(loadTfjsLayersModel(join(dir, 'nowhere', 'model.json'))).rejects.toThrow(/cannot read tfjs model .*nowhere/);
  });
});
