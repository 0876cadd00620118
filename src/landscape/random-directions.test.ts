import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { createEvaluator, type EvaluationData } from '../evaluate/evaluate.js';
import { createModel, getArchitecture } from '../models/registry.js';
import { disposeTensors, mapTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { filterNormalizedDirection } from './filter-normalized-direction.js';
import { evaluateRandomDirections } from './random-directions.js';
import { disposeImages, randomImages } from '../../test/fixtures/landscape-data.js';

const arch = getArchitecture('lenet5');
let model: Model;
let data: EvaluationData;
beforeAll(async () => {
  await useTestBackend();
  model = createModel('lenet5', {}, 7);
  data = randomImages(24, 11);
});
afterAll(() => {
  disposeTensors(model);
  disposeImages(data);
});

describe('evaluateRandomDirections', () => {
  it('1-D: f(0) is the model\'s own loss and f(α) is L(θ + α·d) computed by hand', async () => {
    const rows = await evaluateRandomDirections(arch, model, data, { dimensions: 1, points: 5, seed: 2 });
    expect(rows.map((r) => r.alpha)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(rows.every((r) => r.beta === undefined && r.split === 'test')).toBe(true);
    const evaluator = createEvaluator(arch, model.config, data);
    const own = (await evaluator.evaluate(model)).test!;
    expect(rows[2]!.loss).toBe(own.loss);
    expect(rows[2]!.accuracy).toBe(own.accuracy);
    const d = filterNormalizedDirection(model, arch.spec(model.config), { seed: 2 });
    const moved = { params: mapTensors(model.params, (t, name) => tf.tidy(() => tf.add(t, tf.mul(d.get(name)!, 0.5)))), buffers: model.buffers };
    const byHand = (await evaluator.evaluate(moved)).test!;
    expect(rows[3]!.loss).toBeCloseTo(byHand.loss, 5);
    expect(rows[4]!.loss).not.toBeCloseTo(own.loss, 3);
    disposeTensors(d, moved.params);
    evaluator.dispose();
  });

  it('2-D: a β-major grid whose β = 0 line is the 1-D landscape of the same seed', async () => {
    const line = await evaluateRandomDirections(arch, model, data, { dimensions: 1, points: 3, seed: 2, range: [-0.5, 0.5] });
    const plane = await evaluateRandomDirections(arch, model, data, { dimensions: 2, points: 3, seed: 2, range: [-0.5, 0.5] });
    expect(plane.map((r) => [r.alpha, r.beta])).toEqual([-0.5, 0, 0.5].flatMap((b) => [-0.5, 0, 0.5].map((a) => [a, b])));
    const middle = plane.filter((r) => r.beta === 0);
    for (const [i, r] of middle.entries()) expect(r.loss).toBeCloseTo(line[i]!.loss, 5);
    // The second direction moves the loss too.
    expect(plane[1]!.loss).not.toBeCloseTo(plane[4]!.loss, 3);
  });

  it('rejects bad options and leaks no tensors', async () => {
    await expect(evaluateRandomDirections(arch, model, data, { points: 1 })).rejects.toThrow(/points must be an integer ≥ 2/);
    await expect(evaluateRandomDirections(arch, model, data, { range: [1, -1] })).rejects.toThrow(/lo < hi/);
    await expectNoLeakedTensors(() => evaluateRandomDirections(arch, model, data, { dimensions: 2, points: 2, seed: 1 }));
  });
});
