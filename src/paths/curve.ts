/**
 * Parametric curves between two modes (Garipov et al. 2018, "Loss Surfaces, Mode Connectivity,
 * and Fast Ensembling of DNNs", NeurIPS): θ(t) = Σ_i c_i(t)·w_i over bends w_0..w_{n−1}, with
 * w_0 = θ_A and w_{n−1} = θ_B.
 *
 *   Bezier:    c_i(t) = C(n−1, i)·t^i·(1−t)^(n−1−i)
 *   PolyChain: c_i(t) = max(0, 1 − |t·(n−1) − i|)
 *
 * Every trainable tensor of the model (weights, biases, BatchNorm affine parameters) has one copy
 * per bend. BatchNorm running statistics are not part of the curve: they are shared and
 * re-estimated at every evaluated t (ALGORITHMS.md §1); `curvePath(...).pointAt(t)` returns the
 * endpoints' buffers interpolated linearly in t only as a placeholder.
 *
 * @example
 * const { path } = await findCurve(arch, [modelA, modelB], batches, { kind: 'bezier', bends: 3, epochs: 20 });
 * // (train-curve.ts; or step by step: createCurve → trainCurve → curvePath)
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameLayout, cloneTensors, disposeTensors, interpolateTensors } from '../models/tensor-map.js';
import type { ArchitectureName, Model, ModelState, TensorMap } from '../models/types.js';
import type { ParameterPath } from './path.js';

export const CURVE_KINDS = ['bezier', 'polychain'] as const;
export type CurveKind = (typeof CURVE_KINDS)[number];

/** A curve's bends and what is trained; the curve owns its tensors (see `disposeCurve`). */
export interface Curve<Config = unknown> {
  readonly kind: CurveKind;
  readonly architecture: ArchitectureName;
  readonly config: Config;
  /** w_0..w_{n−1}, each a parameter map with the endpoints' names, order and shapes. */
  readonly bends: readonly TensorMap[];
  /** Whether bend i is trained; the endpoints are fixed unless asked otherwise. */
  readonly trainable: readonly boolean[];
  /** BatchNorm running statistics of θ_A and θ_B (empty maps without BatchNorm). */
  readonly endpointBuffers: readonly [TensorMap, TensorMap];
}

export interface CreateCurveOptions {
  /** Curve family (default `bezier`). */
  readonly kind?: CurveKind;
  /** Number of bends n ≥ 2, endpoints included (default 3: one trainable bend). */
  readonly bends?: number;
  /** Train w_0 as well (default false: θ_A stays bit-identical). */
  readonly trainStart?: boolean;
  /** Train w_{n−1} as well (default false). */
  readonly trainEnd?: boolean;
}

/** Parses a curve kind from the CLI or a checkpoint; the error lists the choices. */
export function parseCurveKind(value: string, where = '--curve'): CurveKind {
  if ((CURVE_KINDS as readonly string[]).includes(value)) return value as CurveKind;
  throw new Error(`${where}: unknown curve kind "${value}"; expected one of ${CURVE_KINDS.join(', ')}`);
}

function binomial(n: number, k: number): number {
  let result = 1;
  for (let j = 1; j <= k; j++) result = (result * (n - k + j)) / j;
  return result;
}

/**
 * The coefficients c_0(t)..c_{n−1}(t) of a curve with n bends (formulas in the file comment).
 * At t = 0 they are exactly [1, 0, …, 0] and at t = 1 exactly [0, …, 0, 1].
 */
export function curveCoefficients(kind: CurveKind, bends: number, t: number): number[] {
  if (!Number.isInteger(bends) || bends < 2) throw new Error(`curve: expected an integer number of bends ≥ 2, found ${bends}`);
  if (!(t >= 0 && t <= 1)) throw new Error(`curve: expected 0 ≤ t ≤ 1, found ${t}`);
  const degree = bends - 1;
  const out: number[] = [];
  for (let i = 0; i < bends; i++) {
    out.push(kind === 'bezier' ? binomial(degree, i) * t ** i * (1 - t) ** (degree - i) : Math.max(0, 1 - Math.abs(t * degree - i)));
  }
  return out;
}

/**
 * Σ_i c_i·w_i tensor by tensor. Terms with c_i = 0 are skipped and a lone term with c_i = 1 is
 * copied, so the endpoints come back bit-identical. The caller disposes the result.
 */
export function combineBends(bends: readonly TensorMap[], coefficients: readonly number[]): Map<string, tf.Tensor> {
  const first = bends[0];
  if (first === undefined || bends.length !== coefficients.length) {
    throw new Error(`curve: expected one coefficient per bend, found ${coefficients.length} coefficients for ${bends.length} bends`);
  }
  const out = new Map<string, tf.Tensor>();
  for (const name of first.keys()) {
    const terms: [number, tf.Tensor][] = [];
    bends.forEach((bend, i) => {
      const c = coefficients[i] as number;
      const w = bend.get(name);
      if (w === undefined) throw new Error(`curve: tensor "${name}" is missing from bend ${i}`);
      if (c !== 0) terms.push([c, w]);
    });
    const only = terms[0];
    if (terms.length === 1 && only !== undefined && only[0] === 1) {
      out.set(name, only[1].clone());
    } else {
      out.set(
        name,
        tf.tidy(() => {
          const scaled = terms.map(([c, w]) => tf.mul(w, c));
          return scaled.length === 0 ? tf.zerosLike(first.get(name) as tf.Tensor) : scaled.length === 1 ? (scaled[0] as tf.Tensor) : tf.addN(scaled);
        }),
      );
    }
  }
  return out;
}

/**
 * A curve from θ_A (`a`) to θ_B (`b`) with its interior bends on the straight line:
 * w_i = θ_A + i/(n−1)·(θ_B − θ_A). The curve holds copies; `a` and `b` stay the caller's.
 */
export function createCurve<C>(a: Model<C>, b: Model<C>, options: CreateCurveOptions = {}): Curve<C> {
  if (a.architecture !== b.architecture) {
    throw new Error(`createCurve: the endpoints are different architectures (${a.architecture} and ${b.architecture})`);
  }
  assertSameLayout(a.params, b.params, 'createCurve: parameters of the endpoints');
  assertSameLayout(a.buffers, b.buffers, 'createCurve: buffers of the endpoints');
  const kind = options.kind ?? 'bezier';
  const n = options.bends ?? 3;
  if (!Number.isInteger(n) || n < 2) throw new Error(`createCurve: expected bends to be an integer ≥ 2, found ${n}`);
  const bends: TensorMap[] = [];
  for (let i = 0; i < n; i++) bends.push(i === 0 ? cloneTensors(a.params) : i === n - 1 ? cloneTensors(b.params) : interpolateTensors(a.params, b.params, i / (n - 1)));
  const trainable = bends.map((_, i) => (i === 0 ? options.trainStart === true : i === n - 1 ? options.trainEnd === true : true));
  return {
    kind,
    architecture: a.architecture,
    config: a.config,
    bends,
    trainable,
    endpointBuffers: [cloneTensors(a.buffers), cloneTensors(b.buffers)],
  };
}

/** θ(t) = Σ_i c_i(t)·w_i, the parameters at t (caller disposes). */
export function curveParamsAt(curve: Curve, t: number): Map<string, tf.Tensor> {
  return combineBends(curve.bends, curveCoefficients(curve.kind, curve.bends.length, t));
}

/** Frees every tensor of the curve. */
export function disposeCurve(curve: Curve): void {
  for (const bend of curve.bends) disposeTensors(bend);
  disposeTensors(...curve.endpointBuffers);
}

/**
 * The curve as a `ParameterPath` (kind `bezier` or `polychain`), so the barrier evaluation
 * evaluates it like the linear path. Buffers at t are the endpoints' running statistics
 * interpolated linearly, a placeholder: evaluation re-estimates them for BatchNorm models.
 * The path takes ownership of the curve: `dispose()` frees it.
 */
export function curvePath<C>(curve: Curve<C>): ParameterPath {
  let disposed = false;
  const alive = (what: string): void => {
    if (disposed) throw new Error(`curvePath: ${what} called after dispose()`);
  };
  return {
    kind: curve.kind,
    architecture: curve.architecture,
    config: curve.config,
    pointAt(t: number): ModelState {
      alive('pointAt');
      return { params: curveParamsAt(curve, t), buffers: interpolateTensors(curve.endpointBuffers[0], curve.endpointBuffers[1], t) };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      disposeCurve(curve);
    },
    content() {
      alive('content()');
      const last = curve.bends.length - 1;
      const buffersOf = (i: number): Map<string, tf.Tensor> => (i === 0 ? cloneTensors(curve.endpointBuffers[0]) : i === last ? cloneTensors(curve.endpointBuffers[1]) : new Map<string, tf.Tensor>());
      const states = new Map(curve.bends.map((bend, i) => [`bend${i}`, { params: cloneTensors(bend), buffers: buffersOf(i) }]));
      return { method: 'curve', states, fields: { kind: curve.kind, trainable: [...curve.trainable] } };
    },
  };
}
