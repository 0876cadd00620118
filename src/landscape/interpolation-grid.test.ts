import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { barrierMetrics } from '../barriers/metrics.js';
import { createEvaluator, type EvaluationData } from '../evaluate/evaluate.js';
import { createModel, getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { evaluatePath, linearPath } from '../paths/linear-path.js';
import { interpolationGrid, rowsWithinEndpoints } from './interpolation-grid.js';
import { disposeImages, randomImages } from '../../test/fixtures/landscape-data.js';

describe('interpolationGrid', () => {
  it('spans [from, to] evenly with exact 0 and 1 (defaults: −0.5 … 1.5, 41 points)', () => {
    const ts = interpolationGrid();
    expect(ts).toHaveLength(41);
    expect(ts[0]).toBe(-0.5);
    expect(ts[40]).toBe(1.5);
    expect(ts[10]).toBe(0);
    expect(ts[30]).toBe(1);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBeCloseTo(0.05, 12);
    // LI's -0.5:1.5:401 and a grid whose 0 arrives by accumulated rounding (−0.3 + 3·0.1).
    const li = interpolationGrid({ from: -0.5, to: 1.5, points: 401 });
    expect([li[100], li[300]]).toEqual([0, 1]);
    expect(interpolationGrid({ from: -0.3, to: 1.2, points: 16 })[3]).toBe(0);
  });

  it('rejects fewer than 2 points and an empty interval', () => {
    expect(() => interpolationGrid({ points: 1 })).toThrow(/points must be an integer ≥ 2/);
    expect(() => interpolationGrid({ from: 1, to: 0 })).toThrow(/from < to/);
  });
});

describe('interpolation beyond the endpoints with evaluatePath', () => {
  let a: Model, b: Model, data: EvaluationData;
  beforeAll(async () => {
    await useTestBackend();
    a = createModel('lenet5', {}, 1);
    b = createModel('lenet5', {}, 2);
    data = randomImages(16, 3);
  });
  afterAll(() => {
    disposeTensors(a, b);
    disposeImages(data);
  });

  it('evaluates t outside [0, 1]; t = 0 and 1 are the models; barrier metrics take only the rows within [0, 1]', async () => {
    const path = linearPath(a, b);
    const rows = await evaluatePath(path, data, { ts: interpolationGrid({ from: -0.5, to: 1.5, points: 5 }) });
    path.dispose();
    expect(rows.map((r) => r.t)).toEqual([-0.5, 0, 0.5, 1, 1.5]);
    const evaluator = createEvaluator(getArchitecture('lenet5'), a.config, data);
    expect(rows[1]!.loss).toBe((await evaluator.evaluate(a)).test!.loss);
    expect(rows[3]!.loss).toBe((await evaluator.evaluate(b)).test!.loss);
    evaluator.dispose();
    expect(() => barrierMetrics(rows)).toThrow(/must include t = 0 and t = 1/);
    const [metrics] = barrierMetrics(rowsWithinEndpoints(rows));
    expect(metrics!.points).toBe(3);
  });
});
