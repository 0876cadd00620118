import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { disposeTensors } from '../models/tensor-map.js';
import { combineBends, createCurve, curveCoefficients, curveParamsAt, curvePath, disposeCurve, CURVE_KINDS } from './curve.js';
import { xorModels } from '../../test/fixtures/toy-mlp.js';

beforeAll(async () => {
  await useTestBackend();
});

function binomialByFactorials(n: number, k: number): number {
  const f = (m: number): number => (m <= 1 ? 1 : m * f(m - 1));
  return f(n) / (f(k) * f(n - k));
}

describe('curveCoefficients', () => {
  it('Bezier coefficients match C(n−1,i)·t^i·(1−t)^(n−1−i) and sum to 1', () => {
    // n = 3 by hand at t = 0.3: (0.7², 2·0.3·0.7, 0.3²) = (0.49, 0.42, 0.09)
    const c3 = curveCoefficients('bezier', 3, 0.3);
    expect(c3[0]).toBeCloseTo(0.49, 12);
    expect(c3[1]).toBeCloseTo(0.42, 12);
    expect(c3[2]).toBeCloseTo(0.09, 12);
    for (const n of [2, 4, 7]) {
      for (const t of [0.1, 0.5, 0.77]) {
        const c = curveCoefficients('bezier', n, t);
        c.forEach((ci, i) => expect(ci).toBeCloseTo(binomialByFactorials(n - 1, i) * t ** i * (1 - t) ** (n - 1 - i), 12));
        expect(c.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
      }
    }
  });

  it('PolyChain coefficients are the hat functions max(0, 1 − |t(n−1) − i|)', () => {
    // n = 3, t = 0.3: t(n−1) = 0.6 → (0.4, 0.6, 0)
    const c = curveCoefficients('polychain', 3, 0.3);
    expect(c[0]).toBeCloseTo(0.4, 12);
    expect(c[1]).toBeCloseTo(0.6, 12);
    expect(c[2]).toBe(0);
    // n = 5, t = 0.8: t(n−1) = 3.2 → bends 3 and 4 with 0.8 and 0.2
    const c5 = curveCoefficients('polychain', 5, 0.8);
    expect(c5.slice(0, 3)).toEqual([0, 0, 0]);
    expect(c5[3]).toBeCloseTo(0.8, 12);
    expect(c5[4]).toBeCloseTo(0.2, 12);
    for (const t of [0.05, 0.33, 0.9]) expect(curveCoefficients('polychain', 6, t).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
  });

  it('t = 0 and t = 1 give exactly the unit coefficient vectors, any n', () => {
    for (const kind of CURVE_KINDS) {
      for (const n of [2, 3, 5, 8]) {
        const at0 = curveCoefficients(kind, n, 0);
        const at1 = curveCoefficients(kind, n, 1);
        expect(at0).toEqual([1, ...new Array<number>(n - 1).fill(0)]);
        expect(at1).toEqual([...new Array<number>(n - 1).fill(0), 1]);
      }
    }
  });

  it('rejects t outside [0, 1] and fewer than 2 bends, naming the value', () => {
    expect(() => curveCoefficients('bezier', 3, 1.5)).toThrow(/0 ≤ t ≤ 1, found 1.5/);
    expect(() => curveCoefficients('bezier', 1, 0.5)).toThrow(/bends ≥ 2, found 1/);
  });
});

describe('createCurve and curvePath', () => {
  it('pointAt(0) and pointAt(1) reproduce the endpoints bit for bit (Bezier and PolyChain, n = 2..5)', () => {
    const { a, b } = xorModels();
    for (const kind of CURVE_KINDS) {
      for (const n of [2, 3, 5]) {
        const path = curvePath(createCurve(a, b, { kind, bends: n }));
        for (const [t, model] of [[0, a], [1, b]] as const) {
          const point = path.pointAt(t);
          for (const [name, tensor] of model.params) {
            expect(Array.from(point.params.get(name)!.dataSync()), `${kind} n=${n} t=${t} ${name}`).toEqual(Array.from(tensor.dataSync()));
          }
          disposeTensors(point);
        }
        path.dispose();
      }
    }
    disposeTensors(a, b);
  });

  it('interior bends start on the straight line, so θ(t) is the linear interpolation at init', () => {
    const { a, b } = xorModels();
    const curve = createCurve(a, b, { kind: 'bezier', bends: 4 });
    expect(curve.trainable).toEqual([false, true, true, false]);
    // w_1 = A + (B − A)/3
    const w1 = curve.bends[1]!.get('fc2.weight')!.dataSync();
    const wa = a.params.get('fc2.weight')!.dataSync();
    const wb = b.params.get('fc2.weight')!.dataSync();
    w1.forEach((v, i) => expect(v).toBeCloseTo((wa[i] as number) + ((wb[i] as number) - (wa[i] as number)) / 3, 6));
    // Bezier of collinear, evenly spaced bends is the line with uniform speed: θ(t) = A + t(B − A)
    const theta = curveParamsAt(curve, 0.3).get('fc2.weight')!;
    theta.dataSync().forEach((v, i) => expect(v).toBeCloseTo(0.7 * (wa[i] as number) + 0.3 * (wb[i] as number), 5));
    theta.dispose();
    disposeCurve(curve);
    disposeTensors(a, b);
  });

  it('combineBends computes Σ c_i w_i', () => {
    const bends = [0, 1, 2].map((i) => new Map([['w', tf.tensor1d([i, 10 * i])]]));
    const out = combineBends(bends, [0.2, 0.3, 0.5]);
    // 0.3·(1, 10) + 0.5·(2, 20) = (1.3, 13)
    const v = out.get('w')!.dataSync();
    expect(v[0]).toBeCloseTo(1.3, 6);
    expect(v[1]).toBeCloseTo(13, 5);
    disposeTensors(out, ...bends);
  });

  it('errors name the mismatched tensor', () => {
    const { a, b } = xorModels();
    const bad = { ...b, params: new Map([...b.params].filter(([n]) => n !== 'fc2.bias')) };
    expect(() => createCurve(a, bad)).toThrow(/fc2\.bias/);
    disposeTensors(a, b);
  });

  it('pointAt leaks no tensors', async () => {
    const { a, b } = xorModels();
    const path = curvePath(createCurve(a, b, { kind: 'polychain', bends: 4 }));
    await expectNoLeakedTensors(() => disposeTensors(path.pointAt(0.4)));
    path.dispose();
    disposeTensors(a, b);
  });
});
