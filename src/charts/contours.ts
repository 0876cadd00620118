/**
 * Contour lines of a function sampled on a rectangular grid, by marching squares (Lorensen &
 * Cline 1987, the 2-D case): in every grid cell the level set f = L crosses the cell's edges where
 * the corner values straddle L, at the linearly interpolated position
 *
 *   p = p₀ + (L − f₀) / (f₁ − f₀) · (p₁ − p₀).
 *
 * A cell whose four corners alternate above/below L (a saddle) is resolved by the mean of its
 * corners, as d3-contour and Vega's isocontour do. `transform` (e.g. Math.log for a log colour
 * scale) is applied to values and levels before interpolating, so lines sit where the colours change.
 */

/** One straight piece of a contour line, inside one grid cell. */
export interface ContourSegment {
  readonly level: number;
  readonly from: readonly [number, number];
  readonly to: readonly [number, number];
}

/** Samples f(x_i, y_j) of a grid: `xs`, `ys` ascending, `value(i, j)` undefined where missing. */
export interface GridSamples {
  readonly xs: readonly number[];
  readonly ys: readonly number[];
  readonly value: (i: number, j: number) => number | undefined;
}

/** The contour segments of `grid` at each of `levels`; cells with a missing or non-finite corner are skipped. */
export function contourSegments(grid: GridSamples, levels: readonly number[], transform: (v: number) => number = (v) => v): ContourSegment[] {
  const { xs, ys } = grid;
  const f = (i: number, j: number): number | undefined => {
    const v = grid.value(i, j);
    if (v === undefined) return undefined;
    const t = transform(v);
    return Number.isFinite(t) ? t : undefined;
  };
  const segments: ContourSegment[] = [];
  for (const level of levels) {
    const l = transform(level);
    if (!Number.isFinite(l)) continue;
    for (let i = 0; i + 1 < xs.length; i++) {
      for (let j = 0; j + 1 < ys.length; j++) {
        // Corners counter-clockwise from bottom-left: (i, j), (i+1, j), (i+1, j+1), (i, j+1).
        const c = [f(i, j), f(i + 1, j), f(i + 1, j + 1), f(i, j + 1)];
        if (c.some((v) => v === undefined)) continue;
        const [v0, v1, v2, v3] = c as [number, number, number, number];
        const x0 = xs[i] as number;
        const x1 = xs[i + 1] as number;
        const y0 = ys[j] as number;
        const y1 = ys[j + 1] as number;
        const corners: [number, number][] = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
        const values = [v0, v1, v2, v3];
        // Crossing point on edge k (corner k → corner k+1), if the level separates its ends.
        const crossing = (k: number): [number, number] | undefined => {
          const a = values[k] as number;
          const b = values[(k + 1) % 4] as number;
          if ((a >= l) === (b >= l)) return undefined;
          const s = (l - a) / (b - a);
          const [pa, pb] = [corners[k] as [number, number], corners[(k + 1) % 4] as [number, number]];
          return [pa[0] + s * (pb[0] - pa[0]), pa[1] + s * (pb[1] - pa[1])];
        };
        const hits = [0, 1, 2, 3].map(crossing);
        const edges = hits.flatMap((p, k) => (p === undefined ? [] : [k]));
        if (edges.length === 2) {
          segments.push({ level, from: hits[edges[0] as number] as [number, number], to: hits[edges[1] as number] as [number, number] });
        } else if (edges.length === 4) {
          // Saddle: corners 0 and 2 on one side, 1 and 3 on the other. The centre value decides
          // whether the high corners (or the low ones) are joined through the middle.
          const centreHigh = (v0 + v1 + v2 + v3) / 4 >= l;
          const highAt0 = v0 >= l;
          const pairs: [number, number][] = centreHigh === highAt0 ? [[0, 1], [2, 3]] : [[3, 0], [1, 2]];
          for (const [a, b] of pairs) segments.push({ level, from: hits[a] as [number, number], to: hits[b] as [number, number] });
        }
      }
    }
  }
  return segments;
}
