import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { asModel, toy, toyBatches, toyData, toyModel, type ToyConfig } from '../../test/fixtures/barriers-toy-architectures.js';
import { disposeTensors, interpolateTensors } from '../models/tensor-map.js';
import { createRandom } from '../util/random.js';
import { createEvaluator } from '../evaluate/evaluate.js';
import { flattenTensors, subspacePerturbations, trainingSubspace } from './subspace.js';

beforeAll(async () => {
  await useTestBackend();
});

const mlp: ToyConfig = { inputs: 5, hidden: 8, classes: 3, batchNorm: false };
const data = toyData(20, mlp, 51);
let batches: ReturnType<typeof toyBatches>;
beforeAll(() => {
  batches = toyBatches(data, [20]);
});
afterAll(() => tf.dispose(batches.flatMap((b) => [b.x, b.y])));

function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

describe('trainingSubspace', () => {
  it('null-space directions are orthogonal to every checkpoint difference; subspace directions lie in the span', () => {
    const origin = toyModel(mlp, 1);
    const others = [2, 3, 4, 5].map((s) => toyModel(mlp, s));
    // A nearly collinear checkpoint (like consecutive epochs) and an exact duplicate: rank 5, not 6.
    const far = toyModel(mlp, 10);
    const near = interpolateTensors(others[0]!.params, far.params, 1e-3);
    const points = [...others.map((m) => m.params), near, others[2]!.params];
    const space = trainingSubspace(origin.params, points);
    expect(space.size).toBe(5 * 8 + 8 + 8 * 3 + 3);
    expect(space.dimension).toBe(5);
    const o = flattenTensors(origin.params);
    const diffs = points.map((p) => flattenTensors(p).map((v, i) => v - o[i]!));
    const random = createRandom(9);
    for (let s = 0; s < 5; s++) {
      const n = space.randomInNullSpace(random);
      expect(Math.sqrt(dot(n, n))).toBeCloseTo(1, 12);
      for (const d of diffs) expect(Math.abs(dot(n, d)) / Math.sqrt(dot(d, d))).toBeLessThan(1e-6);
      const u = space.randomInSubspace(random);
      expect(Math.sqrt(dot(u, u))).toBeCloseTo(1, 12);
      // In the span: least-squares residual against the difference vectors themselves (normal equations via projection of u).
      const p = space.project(u);
      const residual = Math.sqrt(u.reduce((s, v, i) => s + (v - p[i]!) ** 2, 0));
      expect(residual).toBeLessThan(1e-6);
      // A vector known to be in the span: 0.3·d0 − 2·d2 projects to itself.
      const inSpan = diffs[0]!.map((v, i) => 0.3 * v - 2 * diffs[2]![i]!);
      const q = space.project(inSpan);
      expect(Math.max(...inSpan.map((v, i) => Math.abs(v - q[i]!)))).toBeLessThan(1e-6);
    }
    disposeTensors(origin, ...others, far, near);
  });

  it('subspacePerturbations: magnitude 1 along the interpolation direction reaches B; null-space rows come from orthogonal moves', async () => {
    const a = toyModel(mlp, 6);
    const b = toyModel(mlp, 7);
    const checkpoints = [toyModel(mlp, 8), toyModel(mlp, 9)];
    const rows = await subspacePerturbations(a, b, checkpoints, { test: batches, bnBatches: [] }, { magnitudes: [0, 0.5, 1], samples: 2, architecture: toy, seed: 1 });
    expect(rows).toHaveLength((1 + 2 + 2) * 3);
    const evaluator = createEvaluator(toy, mlp, { test: batches, bnBatches: [] });
    const la = (await evaluator.evaluate(a)).test!.loss;
    const lb = (await evaluator.evaluate(b)).test!.loss;
    evaluator.dispose();
    const interp = rows.filter((r) => r.direction === 'interpolation');
    expect(interp[0]!.loss).toBe(la);
    expect(interp[2]!.loss).toBeCloseTo(lb, 5);
    for (const r of rows.filter((r) => r.magnitude === 0)) expect(r.loss).toBe(la);
    expect(new Set(rows.map((r) => r.direction))).toEqual(new Set(['interpolation', 'training-subspace', 'null-space']));
    await expect(subspacePerturbations(a, asModel(mlp, a), [], { test: batches, bnBatches: [] }, { architecture: toy })).rejects.toThrow(/identical/);
    disposeTensors(a, b, ...checkpoints);
  });
});
