import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { createModel } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model, TensorMap } from '../models/types.js';
import { disposePlaneBasis, innerProduct, planeBasis, planePoint, projectOntoPlane } from './plane.js';

beforeAll(async () => {
  await useTestBackend();
});

/** All parameters as one float64 host vector (the independent computation). */
function host(map: TensorMap): Float64Array {
  const parts = [...map.values()].map((t) => Array.from(t.dataSync()));
  return Float64Array.from(parts.flat());
}
const dot = (x: Float64Array, y: Float64Array): number => x.reduce((s, xi, i) => s + xi * (y[i] as number), 0);
const sub = (x: Float64Array, y: Float64Array): Float64Array => x.map((xi, i) => xi - (y[i] as number));

describe('planeBasis', () => {
  let a: Model, b: Model, c: Model;
  beforeAll(() => {
    [a, b, c] = [1, 2, 3].map((seed) => createModel('lenet5', {}, seed)) as [Model, Model, Model];
  });
  afterAll(() => disposeTensors(a, b, c));

  it('puts A at (0, 0), B at (1, 0) and C at its Gram–Schmidt coordinates computed on the host', () => {
    const basis = planeBasis(a, b, c);
    const [ha, hb, hc] = [host(a.params), host(b.params), host(c.params)];
    const dab = sub(hb, ha);
    const s = Math.sqrt(dot(dab, dab));
    const dac = sub(hc, ha);
    const cu = dot(dac, dab) / (s * s);
    const r = dac.map((x, i) => x - cu * (dab[i] as number));
    expect(basis.scale).toBeCloseTo(s, 3);
    expect(basis.c.u).toBeCloseTo(cu, 5);
    expect(basis.c.v).toBeCloseTo(Math.sqrt(dot(r, r)) / s, 5);
    expect(basis.c.v).toBeGreaterThan(0);
    // s·û and s·v̂ are orthogonal, both of norm s.
    expect(innerProduct(basis.u, basis.v) / (s * s)).toBeCloseTo(0, 5);
    expect(Math.sqrt(innerProduct(basis.v, basis.v))).toBeCloseTo(s, 3);
    const projC = projectOntoPlane(basis, c);
    expect(projC.u).toBeCloseTo(basis.c.u, 5);
    expect(projC.v).toBeCloseTo(basis.c.v, 5);
    expect(projC.offPlane).toBeLessThan(1e-3);
    const projB = projectOntoPlane(basis, b);
    expect(projB.u).toBeCloseTo(1, 5);
    expect(projB.v).toBeCloseTo(0, 5);
    disposePlaneBasis(basis);
  });

  it('planePoint(1, 0) equals B, planePoint(c.u, c.v) equals C, planePoint(0, 0) is A exactly, with A\'s buffers', () => {
    const basis = planeBasis(a, b, c);
    const atB = planePoint(basis, 1, 0);
    const atC = planePoint(basis, basis.c.u, basis.c.v);
    const atA = planePoint(basis, 0, 0);
    const maxDiff = (x: Float64Array, y: Float64Array): number => x.reduce((m, xi, i) => Math.max(m, Math.abs(xi - (y[i] as number))), 0);
    expect(maxDiff(host(atB.params), host(b.params))).toBeLessThan(1e-5);
    expect(maxDiff(host(atC.params), host(c.params))).toBeLessThan(1e-5);
    expect(Array.from(host(atA.params))).toEqual(Array.from(host(a.params)));
    expect([...atB.buffers.keys()]).toEqual([...a.buffers.keys()]);
    disposeTensors(atA, atB, atC);
    disposePlaneBasis(basis);
  });

  it('projects a point off the plane to the host-computed coordinates and distance', () => {
    const basis = planeBasis(a, b, c);
    const d = createModel('lenet5', {}, 4);
    const [ha, hb, hc, hd] = [host(a.params), host(b.params), host(c.params), host(d.params)];
    const e1 = sub(hb, ha);
    const s = Math.sqrt(dot(e1, e1));
    const dac = sub(hc, ha);
    const along = dot(dac, e1) / (s * s);
    const r = dac.map((x, i) => x - along * (e1[i] as number));
    const rNorm = Math.sqrt(dot(r, r));
    const e2 = r.map((x) => (x * s) / rNorm);
    const dd = sub(hd, ha);
    const u = dot(dd, e1) / (s * s);
    const v = dot(dd, e2) / (s * s);
    const p = projectOntoPlane(basis, d.params);
    expect(p.u).toBeCloseTo(u, 5);
    expect(p.v).toBeCloseTo(v, 5);
    expect(p.offPlane).toBeCloseTo(Math.sqrt(dot(dd, dd) / (s * s) - u * u - v * v), 4);
    expect(p.offPlane).toBeGreaterThan(0.1);
    disposeTensors(d);
    disposePlaneBasis(basis);
  });

  it('rejects B = A and C on the line through A and B, freeing what it made', () => {
    const before = tf.memory().numTensors;
    expect(() => planeBasis(a, a, c)).toThrow(/expected B ≠ A/);
    const basis = planeBasis(a, b, c);
    const mid = planePoint(basis, 0.5, 0);
    disposePlaneBasis(basis);
    expect(() => planeBasis(a, b, mid)).toThrow(/expected C off the line/);
    disposeTensors(mid);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaks no tensors', async () => {
    await expectNoLeakedTensors(() => {
      const basis = planeBasis(a, b, c);
      const p = planePoint(basis, 0.3, -0.2);
      projectOntoPlane(basis, p);
      disposeTensors(p);
      disposePlaneBasis(basis);
    });
  });
});
