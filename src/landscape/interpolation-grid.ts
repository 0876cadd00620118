/**
 * t grids for linear interpolation beyond the endpoints (Goodfellow et al. 2015, "Qualitatively
 * characterizing neural network optimization problems"; Li et al. 2018 use `--x=-0.5:1.5:401`):
 *
 *   θ(t) = θ_A + t·(θ_B − θ_A),   t ∈ [from, to], e.g. [−0.5, 1.5]
 *
 * `evaluatePath(linearPath(a, b), data, { ts: interpolationGrid({ from: -0.5, to: 1.5, points: 41 }) })`
 * evaluates it: the linear path accepts any finite t (curves do not: their coefficients are
 * defined on [0, 1] only). Barrier metrics are defined on [0, 1]: `barrierMetrics` throws on rows
 * whose smallest t is not 0 or largest not 1, so pass it `rowsWithinEndpoints(rows)`.
 */
import type { PathRow } from '../rows/rows.js';

export interface InterpolationGridOptions {
  /** First t (default −0.5). */
  readonly from?: number;
  /** Last t (default 1.5). */
  readonly to?: number;
  /** Number of evenly spaced t, ≥ 2 (default 41: a step of 0.05 on [−0.5, 1.5]). */
  readonly points?: number;
}

/**
 * `points` evenly spaced t from `from` to `to` inclusive. Values within 1e-9 of the step of 0 or 1
 * are set to exactly 0 or 1, so the endpoints' rows are the models' own when they are grid points.
 */
export function interpolationGrid(options: InterpolationGridOptions = {}): number[] {
  const from = options.from ?? -0.5;
  const to = options.to ?? 1.5;
  const points = options.points ?? 41;
  if (!Number.isInteger(points) || points < 2) throw new Error(`interpolationGrid: points must be an integer ≥ 2, found ${points}`);
  if (!Number.isFinite(from) || !Number.isFinite(to) || !(to > from)) throw new Error(`interpolationGrid: expected finite from < to, found from ${from}, to ${to}`);
  const step = (to - from) / (points - 1);
  return Array.from({ length: points }, (_, i) => {
    const t = i === points - 1 ? to : from + step * i;
    if (Math.abs(t) < 1e-9 * step) return 0;
    if (Math.abs(t - 1) < 1e-9 * step) return 1;
    return t;
  });
}

/** The rows with 0 ≤ t ≤ 1, the part of a path on which barrier metrics are defined. */
export function rowsWithinEndpoints(rows: readonly PathRow[]): PathRow[] {
  return rows.filter((r) => r.t >= 0 && r.t <= 1);
}
