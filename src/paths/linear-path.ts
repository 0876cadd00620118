/**
 * The linear path between two modes and the evaluation of any ParameterPath on a grid of t.
 *
 *   θ(t) = θ_A + t·(θ_B − θ_A),  t ∈ [0, 1]
 *
 * (Frankle et al. 2020, "Linear mode connectivity and the lottery ticket hypothesis"; Garipov et
 * al. 2018 evaluate their curves the same way, on 61 points.) The difference θ_B − θ_A is computed
 * once; θ(0) and θ(1) are exact copies of the endpoints, and identical endpoints give θ(t) = θ_A
 * exactly, so their barrier is exactly zero. BatchNorm buffers are interpolated the same way as
 * the path's guess; evaluation re-estimates them (bn-reset.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameLayout, cloneTensors, disposeTensors, mapTensors } from '../models/tensor-map.js';
import type { Architecture, Model, ModelState, TensorMap } from '../models/types.js';
import type { ParameterPath, PathOptions, PathResult } from './path.js';
import type { PathRow } from '../rows/rows.js';
import type { EvaluationData, EvaluatorOptions } from '../evaluate/evaluate.js';
import { evaluatePoints, openEvaluator } from '../evaluate/evaluate-points.js';
import { resolveArchitecture } from '../models/resolve.js';
import type { PoolOptions } from '../evaluate/worker-pool.js';
import { throwIfAborted, type Progress } from '../progress.js';

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

/**
 * Checks that two models can be interpolated: same architecture, same config, same tensor names,
 * order, shapes and dtypes. Throws naming what differs, before any computation.
 */
export function assertCompatibleModels(a: Model, b: Model, what = 'endpoints'): void {
  if (a.architecture !== b.architecture) {
    throw new Error(`${what}: architectures differ: the first is ${a.architecture}, the second ${b.architecture}`);
  }
  const ca = stableJson(a.config);
  const cb = stableJson(b.config);
  if (ca !== cb) throw new Error(`${what}: ${a.architecture} configs differ: ${ca} vs ${cb}`);
  assertSameLayout(a.params, b.params, `${what} (parameters)`);
  assertSameLayout(a.buffers, b.buffers, `${what} (BatchNorm buffers)`);
}

/** θ_A + t·Δ for the names in `only` (all when omitted), the others copied from `a`. t = 0 copies a. */
export function stepTensors(a: TensorMap, delta: TensorMap, t: number, only?: ReadonlySet<string>): Map<string, tf.Tensor> {
  return mapTensors(a, (ta, name) => {
    const d = delta.get(name);
    if (t === 0 || d === undefined || (only !== undefined && !only.has(name))) return ta.clone();
    return tf.tidy(() => tf.add(ta, tf.mul(d, t)));
  });
}

/** Δ = b − a, tensor by tensor. */
export function differenceTensors(a: TensorMap, b: TensorMap): Map<string, tf.Tensor> {
  return mapTensors(a, (ta, name) => tf.sub(b.get(name) as tf.Tensor, ta));
}

/**
 * The straight line from model `a` to model `b`. Validates the endpoints first; holds its own
 * copies of their tensors (call `dispose()` when done; the models stay the caller's).
 *
 * @example
 * const path = linearPath(modelA, modelB);
 * const rows = await evaluatePath(path, data, { points: 11 });
 * path.dispose();
 */
export function linearPath(a: Model, b: Model): ParameterPath {
  assertCompatibleModels(a, b);
  const start: ModelState = { params: mapTensors(a.params, (x) => x.clone()), buffers: mapTensors(a.buffers, (x) => x.clone()) };
  const end: ModelState = { params: mapTensors(b.params, (x) => x.clone()), buffers: mapTensors(b.buffers, (x) => x.clone()) };
  const delta: ModelState = { params: differenceTensors(a.params, b.params), buffers: differenceTensors(a.buffers, b.buffers) };
  let disposed = false;
  return {
    kind: 'linear',
    architecture: a.architecture,
    config: a.config,
    pointAt(t: number): ModelState {
      if (disposed) throw new Error('linearPath: pointAt called after dispose()');
      if (!Number.isFinite(t)) throw new Error(`linearPath: t must be a finite number, found ${t}`);
      if (t === 1) return { params: mapTensors(end.params, (x) => x.clone()), buffers: mapTensors(end.buffers, (x) => x.clone()) };
      return { params: stepTensors(start.params, delta.params, t), buffers: stepTensors(start.buffers, delta.buffers, t) };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      disposeTensors(start, end, delta);
    },
    content() {
      if (disposed) throw new Error('linearPath: content() called after dispose()');
      const copy = (state: ModelState): ModelState => ({ params: cloneTensors(state.params), buffers: cloneTensors(state.buffers) });
      return { method: 'linear', states: new Map([['start', copy(start)], ['end', copy(end)]]), fields: {} };
    },
  };
}

/**
 * The linear path in the shape of every path method (path.ts): nothing to train, so `data` is
 * not used and the result is always complete. The endpoints stay the caller's.
 *
 * @example
 * const { path } = await findLinearPath(lenet5, [a, b]);
 */
export function findLinearPath<C>(architecture: Architecture<C>, endpoints: readonly [Model<C>, Model<C>], _data?: undefined, _options: PathOptions = {}): Promise<PathResult> {
  const [a, b] = endpoints;
  if (a.architecture !== architecture.name) throw new Error(`findLinearPath: the endpoints are ${a.architecture} models, the architecture given is ${architecture.name}`);
  return Promise.resolve({ path: linearPath(a, b), completed: true, info: {} });
}

/** `points` evenly spaced values from 0 to 1 inclusive (exact endpoints). */
export function uniformGrid(points: number): number[] {
  if (!Number.isInteger(points) || points < 2) throw new Error(`t grid: points must be an integer ≥ 2, found ${points}`);
  return Array.from({ length: points }, (_, i) => (i === points - 1 ? 1 : i / (points - 1)));
}

export interface GridOptions {
  /** Number of evenly spaced t in [0, 1] (default 11). Ignored when `ts` is given. */
  readonly points?: number;
  /** Explicit t values (any order is kept; need not be uniform). */
  readonly ts?: readonly number[];
}

/** The t grid of `options`: `ts` if given, else `points` evenly spaced values (default 11). */
export function gridOf(options: GridOptions, defaultPoints = 11): number[] {
  if (options.ts !== undefined) {
    if (options.ts.length === 0) throw new Error('t grid: ts is empty');
    for (const t of options.ts) if (!Number.isFinite(t)) throw new Error(`t grid: every t must be finite, found ${t}`);
    return [...options.ts];
  }
  return uniformGrid(options.points ?? defaultPoints);
}

export interface EvaluatePathOptions extends GridOptions, EvaluatorOptions, PoolOptions {
  /** Architecture implementation (default: the registry's, by the path's architecture name). */
  readonly architecture?: Architecture<unknown>;
  /** Label for the `path` column (default: the path's kind). */
  readonly label?: string;
  /** Called as each point is evaluated (task `grid`, message `label t=…`, metrics `{ t }`). */
  readonly progress?: Progress;
  /** Checked before each point: once aborted, no further point starts and an AbortError is thrown. */
  readonly signal?: AbortSignal;
}

/**
 * Loss and accuracy at each t of the grid, on each split, BN statistics re-estimated per point.
 * Rows come t-major, splits in the evaluator's order. With `workers` > 1 the points are
 * evaluated concurrently on worker threads (worker-pool.ts); the rows are the same.
 */
export async function evaluatePath(path: ParameterPath, data: EvaluationData, options: EvaluatePathOptions = {}): Promise<PathRow[]> {
  const ts = gridOf(options);
  const architecture = resolveArchitecture(path.architecture, options.architecture);
  const evaluator = await openEvaluator(architecture, path.config, data, { ...options, points: ts.length });
  const label = options.label ?? path.kind;
  let done = 0;
  try {
    const pointAt = (t: number): ModelState => {
      throwIfAborted(options.signal, `evaluatePath (${label})`);
      return path.pointAt(t);
    };
    const metrics = await evaluatePoints(evaluator, ts, pointAt, (i) => {
      const t = ts[i] as number;
      options.progress?.({ task: 'grid', step: ++done, total: ts.length, message: `${label} t=${t.toFixed(3)}`, metrics: { t } });
    });
    return ts.flatMap((t, i) =>
      evaluator.splits.flatMap((split) => {
        const m = metrics[i]?.[split];
        return m === undefined ? [] : [{ path: label, t, split, loss: m.loss, accuracy: m.accuracy }];
      }),
    );
  } finally {
    await evaluator.close();
  }
}
