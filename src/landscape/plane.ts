/**
 * The plane through three points in parameter space (Garipov et al. 2018, "Loss Surfaces, Mode
 * Connectivity, and Fast Ensembling of DNNs", NeurIPS, Fig. 1 and their plane.py): an
 * orthonormal basis by Gram–Schmidt,
 *
 *   û = (θ_B − θ_A)/‖θ_B − θ_A‖,   v̂ = r/‖r‖ with r = (θ_C − θ_A) − ⟨θ_C − θ_A, û⟩·û,
 *   θ(u, v) = θ_A + s·(u·û + v·v̂),   s = ‖θ_B − θ_A‖,
 *
 * so coordinates are in units of ‖θ_B − θ_A‖: A is (0, 0), B is (1, 0), C is (⟨θ_C − θ_A, û⟩/s,
 * ‖r‖/s). Only the trainable parameters span the plane; BatchNorm running statistics are A's at
 * every point (an evaluator re-estimates them). The basis lives on the backend as parameter maps
 * (s·û and s·v̂), never as host vectors: ResNet18 has 11M parameters. Inner products are summed
 * per tensor on the backend and accumulated in float64 on the host.
 *
 * @example
 * const basis = planeBasis(modelA, modelB, modelC);
 * const state = planePoint(basis, 0.5, 0.2); // caller disposes
 * const { u, v } = projectOntoPlane(basis, state); // ≈ (0.5, 0.2)
 * disposeTensors(state);
 * disposePlaneBasis(basis);
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameLayout, cloneTensors, disposeTensors, mapTensors } from '../models/tensor-map.js';
import type { ModelState, TensorMap } from '../models/types.js';

/** A parameter map, or a model state whose parameters (and, for the origin, buffers) are used. */
export type PlaneInput = TensorMap | ModelState;

/** The plane's origin and scaled basis; owns its tensors (see `disposePlaneBasis`). */
export interface PlaneBasis {
  /** θ_A's parameters and BatchNorm buffers (copies; buffers empty when A was a bare parameter map). */
  readonly origin: ModelState;
  /** s·û = θ_B − θ_A. */
  readonly u: TensorMap;
  /** s·v̂, orthogonal to `u`, of the same norm s. */
  readonly v: TensorMap;
  /** s = ‖θ_B − θ_A‖, the plane's unit of length. */
  readonly scale: number;
  /** Plane coordinates of θ_C (its v is > 0). */
  readonly c: PlaneCoordinates;
}

/** A position in the plane in units of ‖θ_B − θ_A‖. */
export interface PlaneCoordinates {
  readonly u: number;
  readonly v: number;
}

/** Plane coordinates of a projected point, with its distance from the plane (same units). */
export interface PlaneProjection extends PlaneCoordinates {
  /** ‖θ − θ(u, v)‖/s: 0 for points of the plane. */
  readonly offPlane: number;
}

function isModelState(x: PlaneInput): x is ModelState {
  return !(x instanceof Map) && 'params' in x && 'buffers' in x;
}

function paramsOf(x: PlaneInput): TensorMap {
  return isModelState(x) ? x.params : x;
}

/** Σ over tensors of ⟨x_i, y_i⟩, each tensor's sum on the backend, the total in float64. */
export function innerProduct(x: TensorMap, y: TensorMap): number {
  let total = 0;
  for (const [name, tx] of x) {
    const ty = y.get(name);
    if (ty === undefined) throw new Error(`plane: tensor "${name}" is missing from the second map`);
    const s = tf.tidy(() => tf.sum(tf.mul(tx, ty)));
    total += s.dataSync()[0] as number;
    s.dispose();
  }
  return total;
}

/**
 * The basis of the plane through `a`, `b` and `c` (formula in the file comment). Throws when
 * B = A or when C lies on the line through A and B (no plane). The basis holds copies; the
 * inputs stay the caller's.
 */
export function planeBasis(a: PlaneInput, b: PlaneInput, c: PlaneInput): PlaneBasis {
  const pa = paramsOf(a);
  const pb = paramsOf(b);
  const pc = paramsOf(c);
  assertSameLayout(pa, pb, 'planeBasis: parameters of A and B');
  assertSameLayout(pa, pc, 'planeBasis: parameters of A and C');
  const u = mapTensors(pa, (ta, name) => tf.sub(pb.get(name) as tf.Tensor, ta));
  const ss = innerProduct(u, u);
  if (!(ss > 0)) {
    disposeTensors(u);
    throw new Error(`planeBasis: expected B ≠ A, found ‖θ_B − θ_A‖² = ${ss}`);
  }
  const dc = mapTensors(pa, (ta, name) => tf.sub(pc.get(name) as tf.Tensor, ta));
  // Coordinates of C along û in units of s: ⟨θ_C − θ_A, s·û⟩/s².
  const cu = innerProduct(dc, u) / ss;
  const r = mapTensors(dc, (d, name) => tf.tidy(() => tf.sub(d, tf.mul(u.get(name) as tf.Tensor, cu))));
  disposeTensors(dc);
  const rr = innerProduct(r, r);
  // Relative to s², a residual at float32 rounding level means C is on the line AB.
  if (!(rr > 1e-10 * ss)) {
    disposeTensors(u, r);
    throw new Error(`planeBasis: expected C off the line through A and B, found its distance from the line ${Math.sqrt(Math.max(rr, 0))} against ‖θ_B − θ_A‖ = ${Math.sqrt(ss)}`);
  }
  const scale = Math.sqrt(ss);
  const factor = scale / Math.sqrt(rr);
  const v = mapTensors(r, (t) => tf.mul(t, factor));
  disposeTensors(r);
  const origin: ModelState = { params: cloneTensors(pa), buffers: isModelState(a) ? cloneTensors(a.buffers) : new Map() };
  return { origin, u, v, scale, c: { u: cu, v: Math.sqrt(rr) / scale } };
}

/**
 * θ(u, v) = θ_A + u·(s·û) + v·(s·v̂), with A's BatchNorm buffers (copies). (0, 0) is an exact
 * copy of A. The caller owns and disposes the returned tensors.
 */
export function planePoint(basis: PlaneBasis, u: number, v: number): ModelState {
  if (!Number.isFinite(u) || !Number.isFinite(v)) throw new Error(`planePoint: expected finite coordinates, found (${u}, ${v})`);
  const params = mapTensors(basis.origin.params, (origin, name) =>
    tf.tidy(() => {
      let out = origin.clone();
      if (u !== 0) out = tf.add(out, tf.mul(basis.u.get(name) as tf.Tensor, u));
      if (v !== 0) out = tf.add(out, tf.mul(basis.v.get(name) as tf.Tensor, v));
      return out;
    }),
  );
  return { params, buffers: cloneTensors(basis.origin.buffers) };
}

/**
 * Orthogonal projection of θ onto the plane: u = ⟨θ − θ_A, s·û⟩/s², v = ⟨θ − θ_A, s·v̂⟩/s², and
 * the distance from the plane √(‖θ − θ_A‖²/s² − u² − v²).
 */
export function projectOntoPlane(basis: PlaneBasis, point: PlaneInput): PlaneProjection {
  const p = paramsOf(point);
  assertSameLayout(basis.origin.params, p, 'projectOntoPlane: parameters of the plane and the point');
  const d = mapTensors(basis.origin.params, (origin, name) => tf.sub(p.get(name) as tf.Tensor, origin));
  const ss = basis.scale * basis.scale;
  const u = innerProduct(d, basis.u) / ss;
  const v = innerProduct(d, basis.v) / ss;
  const dd = innerProduct(d, d) / ss;
  disposeTensors(d);
  return { u, v, offPlane: Math.sqrt(Math.max(0, dd - u * u - v * v)) };
}

/** Frees the basis's tensors. */
export function disposePlaneBasis(basis: PlaneBasis): void {
  disposeTensors(basis.origin, basis.u, basis.v);
}
