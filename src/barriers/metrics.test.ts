import { describe, expect, it } from 'vitest';
import { barrierMetrics, trapezoid } from './metrics.js';
import type { PathRow } from '../rows/rows.js';

const row = (t: number, loss: number, accuracy: number, split: PathRow['split'] = 'test', path = 'linear'): PathRow => ({ path, t, split, loss, accuracy });

describe('barrierMetrics', () => {
  it('computes both barrier forms, for loss and error, on a uniform grid (hand-computed)', () => {
    // L: 1, 3, 2 at t = 0, .5, 1. Baseline at .5 = 1.5 → interpolation-baseline barrier 1.5;
    // endpoint mean 1.5 → endpoint-mean barrier 3 − 1.5 = 1.5. Error: .1, .5, .3 → baseline .2 → .3; mean .2 → .3.
    const [m] = barrierMetrics([row(0, 1, 0.9), row(0.5, 3, 0.5), row(1, 2, 0.7)]);
    expect(m!.lossBarrier).toBeCloseTo(1.5, 12);
    expect(m!.lossBarrierT).toBe(0.5);
    expect(m!.lossBarrierEndpointMean).toBeCloseTo(1.5, 12);
    expect(m!.errorBarrier).toBeCloseTo(0.3, 12);
    expect(m!.errorBarrierEndpointMean).toBeCloseTo(0.3, 12);
    // Trapezoid: ½·.5·(1+3) + ½·.5·(3+2) = 2.25; above baseline: ½·.5·1.5 + ½·.5·1.5 = .75.
    expect(m!.lossIntegral).toBeCloseTo(2.25, 12);
    expect(m!.lossIntegralAboveBaseline).toBeCloseTo(0.75, 12);
  });

  it('distinguishes the two forms when the endpoints differ and the peak is off-centre (non-uniform grid, any row order)', () => {
    // t: 0, .1, .25, 1 with L: 0, 2, 2.4, 4 (monotone path up to a worse endpoint).
    // Baseline 4t: above = 0, 1.6, 1.4, 0 → barrier 1.6 at t = .1.
    // Endpoint mean: max L − 2 = 4 − 2 = 2 at t = 1 (a form that counts the endpoint gap).
    const rows = [row(1, 4, 0.2), row(0.1, 2, 0.6), row(0, 0, 1), row(0.25, 2.4, 0.5)];
    const [m] = barrierMetrics(rows);
    expect(m!.lossBarrier).toBeCloseTo(1.6, 12);
    expect(m!.lossBarrierT).toBe(0.1);
    expect(m!.lossBarrierEndpointMean).toBeCloseTo(2, 12);
    expect(m!.maxLossT).toBe(1);
    // Error 0, .4, .5, .8; baseline .8t → above = 0, .32, .3, 0 → .32 at t = .1; endpoint mean: .8 − .4.
    expect(m!.errorBarrier).toBeCloseTo(0.32, 12);
    expect(m!.errorBarrierEndpointMean).toBeCloseTo(0.8 - 0.4, 12);
    // ∫ L: .05·2 + .075·4.4 + .375·6.4 = .1 + .33 + 2.4 = 2.83.
    expect(m!.lossIntegral).toBeCloseTo(2.83, 12);
    // ∫ (L − 4t): .05·1.6 + .075·3 + .375·1.4 = .08 + .225 + .525 = .83 (= 2.83 − ∫4t = 2.83 − 2).
    expect(m!.lossIntegralAboveBaseline).toBeCloseTo(0.83, 12);
    expect(m!.points).toBe(4);
  });

  it('gives exactly zero for a flat path and separates paths and splits', () => {
    const l = 0.1 + 0.2; // not exactly representable: the forms must still give exactly 0
    const rows = [0, 0.3, 0.7, 1].flatMap((t) => [row(t, l, 0.8, 'train'), row(t, l, 0.8, 'test'), row(t, 5 * t, 1 - t, 'test', 'other')]);
    const ms = barrierMetrics(rows);
    expect(ms.map((m) => `${m.path}/${m.split}`)).toEqual(['linear/train', 'linear/test', 'other/test']);
    for (const m of ms.slice(0, 2)) {
      expect(m.lossBarrier).toBe(0);
      expect(m.lossBarrierEndpointMean).toBe(0);
      expect(m.errorBarrier).toBe(0);
      expect(m.errorBarrierEndpointMean).toBe(0);
      expect(m.lossIntegralAboveBaseline).toBe(0);
    }
  });

  it('propagates NaN losses instead of skipping them', () => {
    const [m] = barrierMetrics([row(0, 1, 0.9), row(0.5, NaN, 0.1), row(1, 1, 0.9)]);
    expect(m!.lossBarrier).toBeNaN();
    expect(m!.lossIntegral).toBeNaN();
  });

  it('requires both endpoints and distinct t', () => {
    expect(() => barrierMetrics([row(0, 1, 1), row(0.5, 2, 1)])).toThrow(/t = 0 and t = 1/);
    expect(() => barrierMetrics([row(0, 1, 1), row(0.5, 2, 1), row(0.5, 2, 1), row(1, 1, 1)])).toThrow(/t = 0.5 appears twice/);
  });

  it('trapezoid integrates a linear function exactly on a non-uniform grid', () => {
    expect(trapezoid([0, 0.2, 0.9, 1], [1, 1.4, 2.8, 3])).toBeCloseTo(2, 12);
  });
});
