import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { choosePivotInsertions, insertPivots, nebTangent, nudgeGradient, redistributeChain, segmentLengths } from './neb.js';

beforeAll(async () => {
  await useTestBackend();
});

const v = (...xs: number[]): tf.Tensor1D => tf.tensor1d(xs);
const read = (t: tf.Tensor): number[] => Array.from(t.dataSync());

describe('nebTangent', () => {
  const chain = (): [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] => [v(0, 0), v(1, 1), v(2, 0)];

  it('points along the segment to the higher neighbour when the loss is monotone', () => {
    const [p0, p1, p2] = chain();
    // L = (0, 1, 2): next is higher → τ = (p2 − p1)/‖·‖ = (1, −1)/√2
    const up = nebTangent(p0, p1, p2, 0, 1, 2);
    expect(read(up)[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(read(up)[1]).toBeCloseTo(-Math.SQRT1_2, 6);
    // L = (2, 1, 0): previous is higher → τ = (p1 − p0)/‖·‖ = (1, 1)/√2
    const down = nebTangent(p0, p1, p2, 2, 1, 0);
    expect(read(down)[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(read(down)[1]).toBeCloseTo(Math.SQRT1_2, 6);
    tf.dispose([up, down, p0, p1, p2]);
  });

  it('mixes both segments at a maximum with weights ΔL_max (higher side) and ΔL_min (Henkelman–Jónsson)', () => {
    const [p0, p1, p2] = chain();
    // L = (0, 1, 0.5): ΔL_max = 1, ΔL_min = 0.5, next is the higher neighbour:
    // τ ∝ 1·(1, −1)/√2 + 0.5·(1, 1)/√2 ∝ (1.5, −0.5) → (3, −1)/√10
    const t = nebTangent(p0, p1, p2, 0, 1, 0.5);
    expect(read(t)[0]).toBeCloseTo(3 / Math.sqrt(10), 6);
    expect(read(t)[1]).toBeCloseTo(-1 / Math.sqrt(10), 6);
    // at a minimum L = (1, 0, 0.25): ΔL_max = 1 (previous side is higher): τ ∝ 0.25·(1, −1) + 1·(1, 1) → (5, 3)/√34
    const m = nebTangent(p0, p1, p2, 1, 0, 0.25);
    expect(read(m)[0]).toBeCloseTo(5 / Math.sqrt(34), 6);
    expect(read(m)[1]).toBeCloseTo(3 / Math.sqrt(34), 6);
    tf.dispose([t, m, p0, p1, p2]);
  });

  it('leaks no tensors', async () => {
    const [p0, p1, p2] = chain();
    await expectNoLeakedTensors(() => nebTangent(p0, p1, p2, 0, 1, 0.5).dispose());
    tf.dispose([p0, p1, p2]);
  });
});

describe('nudgeGradient', () => {
  it('removes the tangential component: result ⟂ τ and g − result ∥ τ', () => {
    const tau = tf.tidy(() => tf.div<tf.Tensor1D>(v(1, 2, 2), 3));
    const g = v(0.3, -1.7, 4.2);
    const nudged = nudgeGradient(g, tau);
    const n = read(nudged);
    const dot = n[0]! / 3 + (2 * n[1]!) / 3 + (2 * n[2]!) / 3;
    expect(Math.abs(dot)).toBeLessThan(1e-6);
    // g·τ = (0.3 − 3.4 + 8.4)/3 = 5.3/3; result = g − (5.3/3)·τ
    const expected = [0.3 - 5.3 / 9, -1.7 - 10.6 / 9, 4.2 - 10.6 / 9];
    n.forEach((x, i) => expect(x).toBeCloseTo(expected[i]!, 5));
    tf.dispose([tau, g, nudged]);
  });
});

describe('segmentLengths and redistributeChain', () => {
  it('leak no tensors', async () => {
    const chain = [v(0, 0), v(0.5, 0), v(1, 0), v(1, 3)];
    await expectNoLeakedTensors(() => {
      expect(segmentLengths(chain)).toEqual([0.5, 0.5, 3]);
      tf.dispose(redistributeChain(chain));
    });
    tf.dispose(chain);
  });

  it('spaces pivots evenly by arc length along the polyline, endpoints unchanged', () => {
    // polyline (0,0) → (0.5,0) → (1,0) → (1,3): length 4; thirds at 4/3 → (1, 1/3) and 8/3 → (1, 5/3)
    const chain = [v(0, 0), v(0.5, 0), v(1, 0), v(1, 3)];
    const out = redistributeChain(chain);
    expect(out.map(read)).toEqual([[0, 0], expect.any(Array), expect.any(Array), [1, 3]]);
    expect(read(out[1]!)[0]).toBeCloseTo(1, 6);
    expect(read(out[1]!)[1]).toBeCloseTo(1 / 3, 6);
    expect(read(out[2]!)[0]).toBeCloseTo(1, 6);
    expect(read(out[2]!)[1]).toBeCloseTo(5 / 3, 6);
    tf.dispose([...chain, ...out]);
  });

  it('gives equal segment lengths on a straight chain and weight-proportional ones when weighted', () => {
    const chain = [v(0, 0, 0), v(0.1, 0.1, 0), v(0.2, 0.2, 0), v(3, 3, 0)];
    const equal = redistributeChain(chain);
    const lengths = segmentLengths(equal);
    for (const l of lengths) expect(l).toBeCloseTo((3 * Math.SQRT2) / 3, 5);
    const weighted = redistributeChain(chain, [1, 2, 3]);
    const wl = segmentLengths(weighted);
    expect(wl[1]! / wl[0]!).toBeCloseTo(2, 4);
    expect(wl[2]! / wl[0]!).toBeCloseTo(3, 4);
    tf.dispose([...chain, ...equal, ...weighted]);
  });
});

describe('choosePivotInsertions', () => {
  it('inserts where the dense loss has a bump above the interpolation of the pivot losses', () => {
    // 4 pivots, 3 interior points per segment (α = ¼, ½, ¾): pivot losses 0, 1, 1, 0 (range 1).
    // Segment 1 has a bump of 0.5 at α = ¼; segment 2 a bump of 0.05 (below the 10% threshold).
    const dense = [0, 0.25, 0.5, 0.75, 1, 1.5, 1, 1, 1, 1, 1.05, 1, 0.5, 0.25, 0.0].slice(0, 13);
    dense[12] = 0;
    // segment 2: pivot 2 at index 8, points 9..11, pivot 3 at 12 with loss 0: interpolation 0.75, 0.5, 0.25
    dense[9] = 0.75;
    dense[10] = 0.55;
    dense[11] = 0.25;
    const chosen = choosePivotInsertions(dense, 4);
    expect(chosen.length).toBe(1);
    expect(chosen[0]!.segment).toBe(1);
    expect(chosen[0]!.alpha).toBe(0.25);
    expect(chosen[0]!.score).toBeCloseTo(0.5, 9);
    expect(choosePivotInsertions(dense, 4, { threshold: 0.01 }).map((x) => x.segment)).toEqual([1, 2]);
    expect(choosePivotInsertions(dense, 4, { threshold: 0.01, maxInsertions: 1 }).map((x) => x.segment)).toEqual([1]);
  });

  it('rejects dense values that do not fit the chain', () => {
    expect(() => choosePivotInsertions([0, 1, 2, 3], 3)).toThrow(/4 dense values do not fit 3 pivots/);
  });
});

describe('insertPivots', () => {
  it('interpolates new pivots and splits the segment weights in proportion', () => {
    const chain = [v(0), v(4), v(6)];
    const { pivots, weights } = insertPivots(chain, [0.5, 0.5], [{ segment: 0, alpha: 0.25 }]);
    expect(pivots.map((p) => read(p)[0])).toEqual([0, 1, 4, 6]);
    expect(weights[0]).toBeCloseTo(0.125, 12);
    expect(weights[1]).toBeCloseTo(0.375, 12);
    expect(weights[2]).toBeCloseTo(0.5, 12);
    expect(pivots[0]).toBe(chain[0]);
    tf.dispose([...chain, pivots[1]!]);
  });
});
