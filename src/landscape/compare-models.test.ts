import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeImages, randomImages } from '../../test/fixtures/landscape-data.js';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { createEvaluator, type EvaluationData } from '../evaluate/evaluate.js';
import { createModel, getArchitecture } from '../models/registry.js';
import { disposeTensors, mapTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { compareModels } from './compare-models.js';

const arch = getArchitecture('lenet5');
let a: Model, b: Model, data: EvaluationData;
beforeAll(async () => {
  await useTestBackend();
  a = createModel('lenet5', {}, 1);
  b = createModel('lenet5', {}, 2);
  data = randomImages(30, 9);
});
afterAll(() => {
  disposeTensors(a, b);
  disposeImages(data);
});

describe('compareModels', () => {
  it('a model against itself: distance 0, cosine 1, agreement 1, a diagonal matrix', async () => {
    const result = await compareModels(arch, a, a, data);
    const spec = arch.spec(a.config);
    expect(result.layers.map((r) => r.layer)).toEqual([...spec.layers.map((l) => l.name), 'all']);
    for (const row of result.layers) {
      expect(row.distance).toBe(0);
      expect(row.cosine).toBeCloseTo(1, 6);
    }
    expect(result.agreement).toEqual([expect.objectContaining({ split: 'test', agreement: 1, count: 30 })]);
    expect(result.disagreement).toHaveLength(100);
    for (const cell of result.disagreement) if (cell.predictedA !== cell.predictedB) expect(cell.count).toBe(0);
    expect(result.disagreement.reduce((s, c) => s + c.count, 0)).toBe(30);
  });

  it('a model and its negated last layer: cosine −1 and distance 2‖θ^l‖ there, 0 elsewhere, agreement 0', async () => {
    const last = arch.spec(a.config).layers.at(-1)!;
    const negated: Model = { ...a, params: mapTensors(a.params, (t, name) => (last.params.includes(name) ? tf.neg(t) : t.clone())) };
    const result = await compareModels(arch, a, negated, data);
    const rows = result.layers;
    const lastRow = rows.find((r) => r.layer === last.name)!;
    expect(lastRow.cosine).toBeCloseTo(-1, 6);
    expect(lastRow.distance).toBeCloseTo(2 * lastRow.normA, 4);
    for (const row of rows.filter((r) => r.layer !== last.name && r.layer !== 'all')) expect(row.distance).toBe(0);
    // Negated logits: argmax becomes argmin, never the same class (random weights leave no ties).
    expect(result.agreement[0]!.agreement).toBe(0);
    disposeTensors(negated.params);
  });

  it('two models: cosine of a layer and accuracies agree with independent computations; the matrix trace is the agreement', async () => {
    const result = await compareModels(arch, a, b, data);
    const first = arch.spec(a.config).layers[0]!;
    const host = (m: Model) => first.params.flatMap((n) => Array.from(m.params.get(n)!.dataSync()));
    const [xa, xb] = [host(a), host(b)];
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    expect(result.layers[0]!.cosine).toBeCloseTo(dot(xa, xb) / Math.sqrt(dot(xa, xa) * dot(xb, xb)), 5);
    expect(result.layers[0]!.distance).toBeCloseTo(Math.sqrt(dot(xa, xa) + dot(xb, xb) - 2 * dot(xa, xb)), 4);
    const evaluator = createEvaluator(arch, a.config, data);
    const row = result.agreement[0]!;
    expect(row.accuracyA).toBeCloseTo((await evaluator.evaluate(a)).test!.accuracy, 10);
    expect(row.accuracyB).toBeCloseTo((await evaluator.evaluate(b)).test!.accuracy, 10);
    evaluator.dispose();
    const trace = result.disagreement.filter((c) => c.predictedA === c.predictedB).reduce((s, c) => s + c.count, 0);
    expect(row.agreement).toBeCloseTo(trace / 30, 12);
  });

  it('rejects a split the data lacks and leaks no tensors', async () => {
    await expect(compareModels(arch, a, b, data, { splits: ['train'] })).rejects.toThrow(/no train batches/);
    await expectNoLeakedTensors(() => compareModels(arch, a, b, data));
  });
});
