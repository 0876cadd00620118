import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { inferResNetWidth } from '../models/resnet18/index.js';
import { disposeTensors } from '../models/tensor-map.js';
import { createRandom, uniformArray } from '../util/random.js';
import {
  canonicalPyTorchName,
  chwPositionsOfHwc,
  closestPyTorchFamily,
  detectPyTorchArchitecture,
  hwioToOihw,
  inferPyTorchConfig,
  oihwToHwio,
  pytorchNameOf,
  transpose2d,
} from './pytorch.js';
import { readSafetensors, type SafetensorsTensor } from './safetensors.js';

beforeAll(async () => {
  await useTestBackend();
});

const random = (n: number, seed: number) => uniformArray(n, -1, 1, createRandom(seed));

describe('PyTorch layouts', () => {
  it('OIHW → HWIO makes tf.conv2d on NHWC compute what a PyTorch conv computes on NCHW', () => {
    // Reference: PyTorch's Conv2d (cross-correlation, stride 1, no padding) written out directly on
    // NCHW input and an OIHW kernel.
    const [N, C, H, W, O, K] = [2, 3, 5, 6, 4, 3];
    const x = random(N * C * H * W, 1);
    const k = random(O * C * K * K, 2);
    const outH = H - K + 1, outW = W - K + 1;
    const expected = new Float32Array(N * outH * outW * O); // stored NHWC for comparison
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++)
        for (let i = 0; i < outH; i++)
          for (let j = 0; j < outW; j++) {
            let sum = 0;
            for (let c = 0; c < C; c++)
              for (let a = 0; a < K; a++)
                for (let b = 0; b < K; b++) sum += (x[((n * C + c) * H + i + a) * W + j + b] as number) * (k[((o * C + c) * K + a) * K + b] as number);
            expected[((n * outH + i) * outW + j) * O + o] = sum;
          }
    const ours = tf.tidy(() => {
      const xNhwc = tf.transpose(tf.tensor4d(x, [N, C, H, W]), [0, 2, 3, 1]);
      return tf.conv2d(xNhwc, tf.tensor4d(oihwToHwio(k, [O, C, K, K]), [K, K, C, O]), 1, 'valid');
    });
    const got = ours.dataSync();
    ours.dispose();
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (expected[i] as number)));
    expect(worst).toBeLessThan(1e-5);
    expect(hwioToOihw(oihwToHwio(k, [O, C, K, K]), [K, K, C, O])).toEqual(k);
  });

  it('transpose2d turns a Linear weight [out, in] into a dense kernel [in, out]', () => {
    expect(Array.from(transpose2d([1, 2, 3, 4, 5, 6], 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('chwPositionsOfHwc maps the NHWC flattening onto PyTorch\'s C·H·W flattening', () => {
    // Feature (c, h, w) = 100c + 10h + w; flatten both ways and read through the permutation.
    const [C, H, W] = [3, 2, 4];
    const chw: number[] = [];
    for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) chw.push(100 * c + 10 * h + w);
    const hwc: number[] = [];
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) hwc.push(100 * c + 10 * h + w);
    const perm = chwPositionsOfHwc(C, H, W);
    expect(Array.from(perm, (p) => chw[p])).toEqual(hwc);
    expect(new Set(perm).size).toBe(C * H * W);
  });
});

describe('PyTorch names', () => {
  it('strips module., translates pytorch-cifar ResNet names, and maps back', () => {
    expect(canonicalPyTorchName('module.layer2.0.shortcut.1.running_var', 'resnet18')).toBe('layer2.0.downsample.1.running_var');
    expect(canonicalPyTorchName('linear.weight', 'resnet18')).toBe('fc.weight');
    expect(canonicalPyTorchName('classifier.blocks.0.linear1.weight', 'cct')).toBe('classifier.blocks.0.linear1.weight');
    expect(canonicalPyTorchName('module.fc1.bias', 'lenet5')).toBe('fc1.bias');
    expect(pytorchNameOf('layer2.0.downsample.0.weight', 'resnet18', 'pytorch-cifar')).toBe('layer2.0.shortcut.0.weight');
    expect(pytorchNameOf('fc.bias', 'resnet18', 'pytorch-cifar')).toBe('linear.bias');
    expect(pytorchNameOf('fc.bias', 'resnet18')).toBe('fc.bias');
  });

  it('detects the architecture from names, or says it cannot', () => {
    expect(detectPyTorchArchitecture(['conv1.weight', 'conv2.weight', 'fc3.weight'])).toBe('lenet5');
    expect(detectPyTorchArchitecture(['module.conv1.weight', 'module.layer1.0.conv1.weight'])).toBe('resnet18');
    expect(detectPyTorchArchitecture(['tokenizer.conv_layers.0.0.weight'])).toBe('cct');
    expect(() => detectPyTorchArchitecture(['encoder.weight'], 'x.safetensors')).toThrow(/x\.safetensors: cannot tell the architecture .*encoder\.weight.*pass the architecture/);
  });

  it('names matching no family: the error names the closest family (the one holding most of the file’s names) and the first mismatching names', async () => {
    // A VGG-16 (pytorch-cifar) whose classifier was renamed `head`: vgg's detection needs `classifier`.
    const { tensors } = await readSafetensors(fileURLToPath(new URL('../../test/fixtures/vgg16-cifar.safetensors', import.meta.url)));
    const renamed = [...tensors.keys()].map((n) => n.replace(/^classifier\./, 'head.'));
    const closest = closestPyTorchFamily(renamed);
    expect(closest).toMatchObject({ architecture: 'vgg', common: 78, expected: 80, unexpected: ['head.weight', 'head.bias'], missing: ['classifier.weight', 'classifier.bias'] });
    expect(() => detectPyTorchArchitecture(renamed, 'renamed.safetensors')).toThrow(
      /renamed\.safetensors: cannot tell the architecture .*; closest: vgg \(78 of its 80 names at its default config\); names it does not have: "head\.weight", "head\.bias"; its names the file lacks: "classifier\.weight", "classifier\.bias"; pass the architecture/,
    );
    // A ResNet18 in torchvision names with its stages renamed: closest resnet18, even with a `module.` prefix.
    const resnet = ['module.conv1.weight', 'module.bn1.weight', 'module.stage1.0.conv1.weight', 'module.fc.weight', 'module.fc.bias'];
    expect(closestPyTorchFamily(resnet)?.architecture).toBe('resnet18');
    expect(closestPyTorchFamily(resnet)?.unexpected).toEqual(['stage1.0.conv1.weight']);
    expect(closestPyTorchFamily(['encoder.weight'])).toBeUndefined();
  });

  it('infers LeNet5 and ResNet18 configs from shapes', () => {
    const t = (...shape: number[]): SafetensorsTensor => ({ dtype: 'F32', shape, data: new Float32Array(0) });
    expect(inferPyTorchConfig('lenet5', new Map([['conv1.weight', t(6, 3, 5, 5)], ['fc1.weight', t(120, 576)], ['fc3.weight', t(100, 84)]]))).toEqual({
      inputChannels: 3,
      inputSize: 32,
      classes: 100,
    });
    expect(() => inferPyTorchConfig('lenet5', new Map([['conv1.weight', t(6, 1, 5, 5)], ['fc1.weight', t(120, 401)], ['fc3.weight', t(10, 84)]]))).toThrow(/"fc1\.weight" reads 401 features/);
    // k = 0.3: widths 19, 38, 77, 154 — the stem alone would suggest 19/64 and get 76 wrong.
    const resnet = new Map([['conv1.weight', t(19, 3, 3, 3)], ['layer2.0.conv1.weight', t(38, 19, 3, 3)], ['layer3.0.conv1.weight', t(77, 38, 3, 3)], ['fc.weight', t(10, 154)]]);
    const inferred = inferPyTorchConfig('resnet18', resnet) as { width: number; classes: number };
    expect(inferred.classes).toBe(10);
    expect(inferred.width).toBe(0.3);
    expect(inferResNetWidth([8, 16, 32, 64])).toBe(0.125);
    expect(inferResNetWidth([4, 8, 16, 32])).toBe(0.0625);
    expect(inferResNetWidth([64, undefined, undefined, 512])).toBe(1);
    expect(() => inferPyTorchConfig('resnet18', new Map())).toThrow(/tensor "conv1\.weight" is missing/);
  });
});

describe('disposal', () => {
  it('layout helpers allocate no tensors', () => {
    const before = tf.memory().numTensors;
    oihwToHwio(random(24, 3), [2, 3, 2, 2]);
    expect(tf.memory().numTensors).toBe(before);
    disposeTensors();
  });
});
