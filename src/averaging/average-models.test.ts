import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { lenet5, type LeNet5Config } from '../models/lenet5/index.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { averageModelList } from './average-models.js';
import { meanAndVariance } from './variance-correction.js';

beforeAll(async () => {
  await useTestBackend();
});

const config: LeNet5Config = { inputChannels: 1, inputSize: 28, classes: 10 };
const model = (seed: number): Model<LeNet5Config> => ({ architecture: 'lenet5', config, ...lenet5.init(config, seed) });

describe('averageModelList', () => {
  it('averages LeNet5 models element-wise and corrects every weight and bias', () => {
    const ms = [1, 2, 3, 4].map(model);
    const plain = averageModelList(ms);
    const a = (ms[0]!.params.get('fc3.bias') as tf.Tensor).dataSync();
    const rest = ms.map((m) => (m.params.get('fc3.bias') as tf.Tensor).dataSync());
    const got = (plain.model.params.get('fc3.bias') as tf.Tensor).dataSync();
    for (let i = 0; i < a.length; i++) expect(got[i]).toBeCloseTo((rest[0]![i]! + rest[1]![i]! + rest[2]![i]! + rest[3]![i]!) / 4, 6);
    const fixed = averageModelList(ms, { correction: 'follow-others', epsilon: 0 });
    expect(fixed.factors.size).toBe(10);
    const v = ms.map((m) => meanAndVariance((m.params.get('fc1.weight') as tf.Tensor).dataSync()).variance);
    const target = v.reduce((x, y) => x + y, 0) / 4;
    expect(meanAndVariance((fixed.model.params.get('fc1.weight') as tf.Tensor).dataSync()).variance / target).toBeCloseTo(1, 5);
    disposeTensors(plain.model, fixed.model, ...ms);
  });

  it('rejects models of different configs, naming them', () => {
    const a = model(1);
    const b = { ...model(2), config: { ...config, classes: 10, inputSize: 32 } };
    expect(() => averageModelList([a, b])).toThrow(/model 1 has config/);
    disposeTensors(a, b);
  });
});
