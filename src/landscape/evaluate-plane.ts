/**
 * The loss surface on the plane through three models (Garipov et al. 2018, Fig. 1 and their
 * plane.py): loss and accuracy at θ(u, v) = θ_A + s·(u·û + v·v̂) (plane.ts) on a grid that spans
 * the points to fit with a margin on each side,
 *
 *   u ∈ [u_min − m·(u_max − u_min), u_max + m·(u_max − u_min)], likewise v,
 *
 * (GAR: m = 0.2, 21×21), BatchNorm statistics re-estimated at every point by the evaluator. For
 * a curve, the plane goes through A, a bend and B, and the curve is projected onto it
 * (`evaluateCurvePlane`); a Bezier curve with three bends lies in that plane exactly.
 */
import type { EvaluationData, EvaluatorOptions } from '../evaluate/evaluate.js';
import { evaluatePoints, openEvaluator } from '../evaluate/evaluate-points.js';
import type { PoolOptions } from '../evaluate/worker-pool.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Architecture, ModelState } from '../models/types.js';
import { curvePath, type Curve } from '../paths/curve.js';
import { uniformGrid } from '../paths/linear-path.js';
import { throwIfAborted, type Progress } from '../progress.js';
import type { ProjectedPoint, SurfaceRow } from '../rows/rows.js';
import { disposePlaneBasis, planeBasis, planePoint, projectOntoPlane, type PlaneBasis, type PlaneCoordinates } from './plane.js';
import { axisGrid } from './random-directions.js';

export interface EvaluatePlaneOptions extends EvaluatorOptions, PoolOptions {
  /** Grid points per axis, or [u points, v points], each ≥ 2 (default 21). */
  readonly grid?: number | readonly [number, number];
  /** Margin on each side as a fraction of the extent of the fitted points (default 0.2). */
  readonly margin?: number;
  /** Points the grid must span (default: A, B and C; for a curve plane A, B, the bend and the curve's points). */
  readonly fit?: readonly PlaneCoordinates[];
  /** Labels of A, B and C in `points` (default `A`, `B`, `C`). */
  readonly labels?: readonly [string, string, string];
  readonly progress?: Progress;
  /** Checked before each point: once aborted, no further point starts and an AbortError is thrown. */
  readonly signal?: AbortSignal;
}

/** The evaluated plane: rows v-major then u, the projected models, the grid axes and the unit s. */
export interface PlaneSurface {
  readonly rows: SurfaceRow[];
  /** A at (0, 0), B at (1, 0), C at its coordinates (series `mode`), plus any projected path points. */
  readonly points: ProjectedPoint[];
  readonly u: readonly number[];
  readonly v: readonly number[];
  /** ‖θ_B − θ_A‖, the unit of u and v. */
  readonly scale: number;
}

function range(values: readonly number[], margin: number): [number, number] {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  // A degenerate extent (all points at one v) still gets a grid of width 1 around it.
  const extent = hi - lo > 0 ? hi - lo : 1;
  return [lo - margin * extent, hi + margin * extent];
}

/** Evaluates a plane basis on the grid; the basis stays the caller's. `where` names the caller in an AbortError. */
async function evaluateBasis<Config>(
  architecture: Architecture<Config>,
  config: Config,
  basis: PlaneBasis,
  data: EvaluationData,
  points: ProjectedPoint[],
  options: EvaluatePlaneOptions,
  where: string,
): Promise<PlaneSurface> {
  const margin = options.margin ?? 0.2;
  if (!(Number.isFinite(margin) && margin >= 0)) throw new Error(`evaluatePlane: margin must be a finite number ≥ 0, found ${margin}`);
  const grid = options.grid ?? 21;
  const [nu, nv] = typeof grid === 'number' ? [grid, grid] : grid;
  const fit = options.fit ?? [{ u: 0, v: 0 }, { u: 1, v: 0 }, basis.c];
  if (fit.length === 0) throw new Error('evaluatePlane: fit is empty; expected at least one point for the grid to span');
  const us = axisGrid(...range(fit.map((p) => p.u), margin), nu, 'evaluatePlane (u axis)');
  const vs = axisGrid(...range(fit.map((p) => p.v), margin), nv, 'evaluatePlane (v axis)');
  const cells = vs.flatMap((v) => us.map((u): [number, number] => [u, v]));
  throwIfAborted(options.signal, where);
  const evaluator = await openEvaluator(architecture, config, data, { ...options, points: cells.length });
  try {
    let done = 0;
    const pointAt = ([u, v]: [number, number]): ModelState => {
      throwIfAborted(options.signal, where);
      return planePoint(basis, u, v);
    };
    const metrics = await evaluatePoints(evaluator, cells, pointAt, (i) => {
      const [u, v] = cells[i] as [number, number];
      options.progress?.({ task: 'surface', step: ++done, total: cells.length, message: `u=${u.toFixed(3)} v=${v.toFixed(3)}`, metrics: { u, v } });
    });
    const rows = cells.flatMap(([u, v], i) =>
      evaluator.splits.flatMap((split) => {
        const m = metrics[i]?.[split];
        return m === undefined ? [] : [{ u, v, split, loss: m.loss, accuracy: m.accuracy }];
      }),
    );
    return { rows, points, u: us, v: vs, scale: basis.scale };
  } finally {
    await evaluator.close();
  }
}

function modePoints(basis: PlaneBasis, labels: readonly [string, string, string]): ProjectedPoint[] {
  return [
    { label: labels[0], series: 'mode', order: 0, u: 0, v: 0 },
    { label: labels[1], series: 'mode', order: 1, u: 1, v: 0 },
    { label: labels[2], series: 'mode', order: 2, ...basis.c },
  ];
}

/**
 * Loss and accuracy on the plane through `a`, `b` and `c` (grid and margins in the file comment),
 * with the three models' plane coordinates. A's BatchNorm buffers start every point. Stopped by
 * `options.signal`, it throws an AbortError once the points in flight have settled (no partial
 * rows; workers terminated).
 *
 * @example
 * const { rows, points } = await evaluatePlane(arch, config, [a, b, c], data, { grid: 11 });
 * surfaceChart(rows, points, { split: 'test' });
 */
export async function evaluatePlane<Config>(
  architecture: Architecture<Config>,
  config: Config,
  models: readonly [ModelState, ModelState, ModelState],
  data: EvaluationData,
  options: EvaluatePlaneOptions = {},
): Promise<PlaneSurface> {
  const basis = planeBasis(...models);
  try {
    return await evaluateBasis(architecture, config, basis, data, modePoints(basis, options.labels ?? ['A', 'B', 'C']), options, 'evaluatePlane');
  } finally {
    disposePlaneBasis(basis);
  }
}

export interface CurvePlaneOptions {
  /** Index of the bend that spans the plane with the endpoints (default: the middle one). */
  readonly bend?: number;
  /** Points of the curve to project, t evenly spaced on [0, 1] (default 61, as GAR). */
  readonly points?: number;
}

/** The plane through A, a bend and B of `curve`; the caller disposes the basis (`disposePlaneBasis`). */
export function curvePlaneBasis(curve: Curve, options: CurvePlaneOptions = {}): PlaneBasis {
  const n = curve.bends.length;
  const bend = options.bend ?? Math.floor((n - 1) / 2);
  if (!Number.isInteger(bend) || bend < 1 || bend > n - 2) throw new Error(`curve plane: bend must be an interior bend index in 1..${n - 2}, found ${bend}`);
  const origin: ModelState = { params: curve.bends[0] as ModelState['params'], buffers: curve.endpointBuffers[0] };
  return planeBasis(origin, curve.bends[n - 1] as ModelState['params'], curve.bends[bend] as ModelState['params']);
}

/**
 * The curve's points θ(t) projected onto `basis` (series = the curve's kind, order = t), with
 * each point's distance from the plane in `offPlane` dropped: check it with projectOntoPlane.
 */
export function projectCurve(curve: Curve, basis: PlaneBasis, options: CurvePlaneOptions = {}): ProjectedPoint[] {
  const path = curvePath(curve);
  return uniformGrid(options.points ?? 61).map((t) => {
    const state = path.pointAt(t);
    try {
      const { u, v } = projectOntoPlane(basis, state);
      return { label: '', series: curve.kind, order: t, u, v };
    } finally {
      disposeTensors(state);
    }
  });
}

/**
 * The loss surface on the plane through A, the curve's bend and B, with the curve projected on
 * it; by default the grid spans A, B, the bend and the curve's points with the margin, so the
 * bend (for a Bezier curve far outside the curve: θ(½) = ¼θ_A + ½θ_bend + ¼θ_B) is inside the
 * evaluated grid, not drawn over blank space. `points` holds A (0, 0), B (1, 0), the bend and
 * the curve. The curve stays the caller's. `options.signal` stops it as it stops {@link evaluatePlane}.
 */
export async function evaluateCurvePlane<Config>(
  architecture: Architecture<Config>,
  curve: Curve<Config>,
  data: EvaluationData,
  options: EvaluatePlaneOptions & CurvePlaneOptions = {},
): Promise<PlaneSurface> {
  const basis = curvePlaneBasis(curve, options);
  try {
    const projected = projectCurve(curve, basis, options);
    const points = [...modePoints(basis, options.labels ?? ['A', 'B', 'bend']), ...projected];
    return await evaluateBasis(architecture, curve.config, basis, data, points, { fit: points, ...options }, 'evaluateCurvePlane');
  } finally {
    disposePlaneBasis(basis);
  }
}
