import { describe, expect, it } from 'vitest';
import { contourSegments, type GridSamples } from './contours.js';

function grid(n: number, f: (x: number, y: number) => number, lo = -1, hi = 1): GridSamples {
  const xs = Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  return { xs, ys: xs, value: (i, j) => f(xs[i] as number, xs[j] as number) };
}

describe('contourSegments (marching squares)', () => {
  it('puts the level set of a linear function exactly on the line x + 2y = L', () => {
    const segments = contourSegments(grid(9, (x, y) => x + 2 * y), [0.3, -0.7]);
    expect(segments.length).toBeGreaterThan(5);
    for (const s of segments) {
      for (const [x, y] of [s.from, s.to]) expect(x + 2 * y).toBeCloseTo(s.level, 12);
    }
  });

  it('traces a circle of f = x² + y² within the grid spacing, and joins into a closed curve', () => {
    const r = 0.6;
    const segments = contourSegments(grid(41, (x, y) => x * x + y * y), [r * r]);
    for (const s of segments) {
      for (const [x, y] of [s.from, s.to]) expect(Math.abs(Math.hypot(x, y) - r)).toBeLessThan(0.01);
    }
    // Every endpoint is shared by exactly two segments on a closed curve.
    const key = ([x, y]: readonly [number, number]) => `${x.toFixed(9)},${y.toFixed(9)}`;
    const counts = new Map<string, number>();
    for (const s of segments) for (const p of [s.from, s.to]) counts.set(key(p), (counts.get(key(p)) ?? 0) + 1);
    expect([...counts.values()].every((c) => c === 2)).toBe(true);
    // Its length approaches the circumference 2πr.
    const length = segments.reduce((sum, s) => sum + Math.hypot(s.to[0] - s.from[0], s.to[1] - s.from[1]), 0);
    expect(length).toBeCloseTo(2 * Math.PI * r, 2);
  });

  it('interpolates in transformed units: a log transform puts the 10 line of f = 10^x at x = 1', () => {
    const segments = contourSegments(grid(5, (x) => 10 ** x, 0, 2), [10], Math.log);
    for (const s of segments) for (const [x] of [s.from, s.to]) expect(x).toBeCloseTo(1, 12);
  });

  it('resolves a saddle cell into two segments that do not cross, and skips cells with missing corners', () => {
    const saddle: GridSamples = { xs: [0, 1], ys: [0, 1], value: (i, j) => ((i + j) % 2 === 0 ? 1 : 0) };
    const segments = contourSegments(saddle, [0.5]);
    expect(segments).toHaveLength(2);
    const missing: GridSamples = { xs: [0, 1], ys: [0, 1], value: (i, j) => (i === 1 && j === 1 ? undefined : i + j) };
    expect(contourSegments(missing, [0.5])).toEqual([]);
  });
});
