import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { createEvaluator, type EvaluationData } from '../evaluate/evaluate.js';
import { createModel, getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import type { Curve } from '../paths/curve.js';
import { curvePath } from '../paths/curve.js';
import { curvePlaneBasis, evaluateCurvePlane, evaluatePlane, projectCurve } from './evaluate-plane.js';
import { disposePlaneBasis, projectOntoPlane } from './plane.js';
import { disposeImages, randomImages } from '../../test/fixtures/landscape-data.js';

const arch = getArchitecture('lenet5');
let a: Model, b: Model, c: Model, data: EvaluationData;
beforeAll(async () => {
  await useTestBackend();
  [a, b, c] = [1, 2, 3].map((s) => createModel('lenet5', {}, s)) as [Model, Model, Model];
  data = randomImages(16, 5);
});
afterAll(() => {
  disposeTensors(a, b, c);
  disposeImages(data);
});

describe('evaluatePlane', () => {
  it('spans A, B, C with the margin; the grid point at A is A\'s own loss and at B is B\'s', async () => {
    const surface = await evaluatePlane(arch, a.config, [a, b, c], data, { grid: [5, 3], margin: 0.25 });
    const cPoint = surface.points[2]!;
    expect(surface.points.slice(0, 2).map((p) => [p.u, p.v])).toEqual([[0, 0], [1, 0]]);
    const [ulo, uhi] = [Math.min(0, cPoint.u), Math.max(1, cPoint.u)];
    expect(surface.u[0]).toBeCloseTo(ulo - 0.25 * (uhi - ulo), 10);
    expect(surface.u[4]).toBeCloseTo(uhi + 0.25 * (uhi - ulo), 10);
    expect(surface.v[0]).toBeCloseTo(-0.25 * cPoint.v, 10);
    expect(surface.v[2]).toBeCloseTo(1.25 * cPoint.v, 10);
    expect(surface.v[1]).toBeCloseTo(0.5 * cPoint.v, 10);
    expect(surface.rows).toHaveLength(15);
    expect(surface.rows.map((r) => r.v)).toEqual(surface.v.flatMap((v) => surface.u.map(() => v)));

    // With margin 0 and a 2×2 grid over u ∈ [0, 1] (C above the segment), the corners are A and B.
    const exact = await evaluatePlane(arch, a.config, [a, b, c], data, { grid: 2, margin: 0, fit: [{ u: 0, v: 0 }, { u: 1, v: 1 }] });
    expect(exact.u).toEqual([0, 1]);
    const evaluator = createEvaluator(arch, a.config, data);
    expect(exact.rows[0]!.loss).toBe((await evaluator.evaluate(a)).test!.loss);
    expect(exact.rows[1]!.loss).toBeCloseTo((await evaluator.evaluate(b)).test!.loss, 5);
    evaluator.dispose();
  });

  it('leaks no tensors', async () => {
    await expectNoLeakedTensors(() => evaluatePlane(arch, a.config, [a, b, c], data, { grid: 2 }));
  });
});

describe('evaluateCurvePlane', () => {
  const curveOf = (): Curve => ({ kind: 'bezier', architecture: 'lenet5', config: a.config, bends: [a.params, c.params, b.params], trainable: [false, true, false], endpointBuffers: [a.buffers, b.buffers] });

  it('projects a three-bend Bezier curve into its plane exactly: θ(½) sits at ¼·B + ½·bend', () => {
    const curve = curveOf();
    const basis = curvePlaneBasis(curve);
    const points = projectCurve(curve, basis, { points: 5 });
    expect(points.map((p) => p.order)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(points[2]!.u).toBeCloseTo(0.25 + 0.5 * basis.c.u, 5);
    expect(points[2]!.v).toBeCloseTo(0.5 * basis.c.v, 5);
    expect(points[4]!.u).toBeCloseTo(1, 5);
    const mid = curvePath(curve).pointAt(0.5);
    expect(projectOntoPlane(basis, mid).offPlane).toBeLessThan(1e-3);
    disposeTensors(mid);
    disposePlaneBasis(basis);
  });

  it('fits the grid to A, B, the bend and the curve: the bend, outside the curve, is inside the grid; leaks no tensors', async () => {
    const curve = curveOf();
    const surface = await evaluateCurvePlane(arch, curve, data, { grid: 3, points: 5, margin: 0 });
    expect(surface.points.map((p) => p.series)).toEqual(['mode', 'mode', 'mode', ...Array<string>(5).fill('bezier')]);
    const bend = surface.points[2]!;
    const curvePoints = surface.points.slice(3);
    // A Bezier curve reaches only half the bend's height (θ(½) = ¼A + ½bend + ¼B): the bend lies outside it.
    expect(Math.max(...curvePoints.map((p) => p.v))).toBeCloseTo(0.5 * bend.v, 5);
    // With margin 0 the top row of the grid is the bend's v, the bottom row A's and B's v = 0.
    expect(surface.v[2]).toBeCloseTo(bend.v, 10);
    expect(surface.v[0]).toBeCloseTo(0, 10);
    expect(surface.u[0]).toBeCloseTo(Math.min(0, bend.u), 10);
    expect(surface.u[2]).toBeCloseTo(Math.max(1, bend.u), 10);
    expect(surface.rows).toHaveLength(9);
    // With the default margin every projected point, the bend included, is strictly inside the grid.
    const wide = await evaluateCurvePlane(arch, curve, data, { grid: 2, points: 5 });
    for (const p of wide.points) {
      expect(p.u).toBeGreaterThan(wide.u[0]!);
      expect(p.u).toBeLessThan(wide.u.at(-1)!);
      expect(p.v).toBeGreaterThan(wide.v[0]!);
      expect(p.v).toBeLessThan(wide.v.at(-1)!);
    }
    await expectNoLeakedTensors(() => evaluateCurvePlane(arch, curve, data, { grid: 2, points: 3 }));
  });
});
