/**
 * Layer-wise linear mode connectivity (Adilova, Andriushchenko, Kamp, Fischer, Jaggi, ICLR 2024,
 * "Layer-wise linear mode connectivity").
 *
 * Single-layer interpolation: only layer group l (its weights, biases, norm parameters and
 * buffers) moves along the line, every other tensor comes from endpoint `rest` (A, or separately B):
 *
 *   θ_l(t) = rest with group l replaced by θ_A^l + t·(θ_B^l − θ_A^l)
 *   B_l = max_t [ L(θ_l(t)) − ((1 − t)·L(θ_l(0)) + t·L(θ_l(1))) ]
 *
 * (the interpolation-baseline barrier of that path, between its own endpoints). Their finding:
 * B_l ≈ 0 for every single layer while the full-model barrier is large.
 *
 * Cumulative interpolation: layer groups join the interpolated set S one at a time — input side
 * first ("shallow"), output side first ("deep"), or in a seeded random order — with every other
 * tensor from A; after each addition the midpoint barrier
 *
 *   L(θ_S(½)) − ½·(L(θ_A) + L(θ_S(1)))
 *
 * is recorded. Their finding: the barrier appears when the middle layers join.
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeTensors, mapTensors } from '../models/tensor-map.js';
import type { Architecture, LayerGroup, Model, ModelSpec, ModelState, TensorMap } from '../models/types.js';
import { permutation, createRandom } from '../util/random.js';
import type { EvaluationData, EvaluatorOptions, SplitMetrics } from '../evaluate/evaluate.js';
import { evaluatePoints, openEvaluator } from '../evaluate/evaluate-points.js';
import { assertCompatibleModels, differenceTensors, gridOf, type GridOptions } from '../paths/linear-path.js';
import { throwIfAborted, type Progress } from '../progress.js';
import { barrierMetrics } from './metrics.js';
import { resolveArchitecture } from '../models/resolve.js';
import type { CumulativeRow, LayerRow, PathRow } from '../rows/rows.js';
import type { GridEvaluator, PoolOptions } from '../evaluate/worker-pool.js';

/** The two endpoints, their difference, and the architecture, validated once. */
export interface EndpointPair {
  readonly architecture: Architecture<unknown>;
  readonly config: unknown;
  readonly spec: ModelSpec;
  readonly a: ModelState;
  readonly b: ModelState;
  /** θ_B − θ_A for params and buffers. Owned by the pair. */
  readonly delta: ModelState;
  dispose(): void;
}

/**
 * Validates `a` and `b` (same architecture, config and layout, and every layer group's tensors
 * present) and precomputes θ_B − θ_A. Throws before any evaluation.
 */
export function prepareEndpoints(a: Model, b: Model, override?: Architecture<unknown>): EndpointPair {
  assertCompatibleModels(a, b);
  const architecture = resolveArchitecture(a.architecture, override);
  const spec = architecture.spec(a.config);
  for (const group of spec.layers) {
    for (const name of group.params) {
      if (!a.params.has(name)) throw new Error(`endpoints: layer group "${group.name}" needs parameter "${name}", which the models lack`);
    }
    for (const name of group.buffers) {
      if (!a.buffers.has(name)) throw new Error(`endpoints: layer group "${group.name}" needs buffer "${name}", which the models lack`);
    }
  }
  const delta: ModelState = { params: differenceTensors(a.params, b.params), buffers: differenceTensors(a.buffers, b.buffers) };
  return {
    architecture,
    config: a.config,
    spec,
    a,
    b,
    delta,
    dispose: () => disposeTensors(delta),
  };
}

function mixMap(rest: TensorMap, a: TensorMap, b: TensorMap, delta: TensorMap, names: ReadonlySet<string>, t: number): Map<string, tf.Tensor> {
  return mapTensors(rest, (tensor, name) => {
    if (!names.has(name)) return tensor.clone();
    if (t === 0) return (a.get(name) as tf.Tensor).clone();
    if (t === 1) return (b.get(name) as tf.Tensor).clone();
    return tf.tidy(() => tf.add(a.get(name) as tf.Tensor, tf.mul(delta.get(name) as tf.Tensor, t)));
  });
}

/** Endpoint `rest` with the tensors in `names` at θ_A + t·(θ_B − θ_A) (exact copies at t = 0 and 1). Caller disposes. */
export function mixedPoint(pair: EndpointPair, rest: 'A' | 'B', names: ReadonlySet<string>, t: number): ModelState {
  const base = rest === 'A' ? pair.a : pair.b;
  return {
    params: mixMap(base.params, pair.a.params, pair.b.params, pair.delta.params, names, t),
    buffers: mixMap(base.buffers, pair.a.buffers, pair.b.buffers, pair.delta.buffers, names, t),
  };
}

/** The tensor names (params and buffers) of layer groups. */
export function groupNames(groups: readonly LayerGroup[]): Set<string> {
  return new Set(groups.flatMap((g) => [...g.params, ...g.buffers]));
}

/** A point of a layer-wise analysis: endpoint `rest` with the tensors in `names` at t. */
interface MixedPoint {
  readonly rest: 'A' | 'B';
  readonly names: ReadonlySet<string>;
  readonly t: number;
}

/** Identity of a mixed point: points that equal a whole endpoint share the key `A` or `B`. */
function pointKey(pair: EndpointPair, { rest, names, t }: MixedPoint): string {
  const allNames = groupNames(pair.spec.layers);
  const everything = names.size === allNames.size && allNames.size === pair.a.params.size + pair.a.buffers.size;
  const isA = (rest === 'A' && (t === 0 || names.size === 0)) || (rest === 'B' && t === 0 && everything);
  const isB = (rest === 'B' && (t === 1 || names.size === 0)) || (rest === 'A' && t === 1 && everything);
  return isA ? 'A' : isB ? 'B' : `${rest}|${t}|${[...names].sort().join(',')}`;
}

/**
 * Metrics of every point, each distinct point evaluated once (so A and B are evaluated once),
 * concurrently when the evaluator is a worker pool. Returns metrics by `pointKey`.
 */
async function evaluateMixedPoints(
  pair: EndpointPair,
  evaluator: GridEvaluator,
  points: readonly MixedPoint[],
  progress: ((done: number, total: number, point: MixedPoint) => void) | undefined,
  abort: { readonly signal: AbortSignal | undefined; readonly where: string },
): Promise<Map<string, SplitMetrics>> {
  const unique = new Map<string, MixedPoint>();
  for (const point of points) {
    const key = pointKey(pair, point);
    if (!unique.has(key)) unique.set(key, point);
  }
  const list = [...unique.values()];
  let done = 0;
  const pointAt = (p: MixedPoint): ModelState => {
    throwIfAborted(abort.signal, abort.where);
    return mixedPoint(pair, p.rest, p.names, p.t);
  };
  const metrics = await evaluatePoints(evaluator, list, pointAt, (i) => progress?.(++done, list.length, list[i] as MixedPoint));
  return new Map([...unique.keys()].map((key, i) => [key, metrics[i] as SplitMetrics]));
}

export interface LayerwiseOptions extends GridOptions, EvaluatorOptions, PoolOptions {
  /** Architecture implementation (default: the registry's). */
  readonly architecture?: Architecture<unknown>;
  /** Which endpoint supplies the other layers (default both, A then B). */
  readonly rests?: readonly ('A' | 'B')[];
  /** Only these layer groups (default: all, input side first). */
  readonly layers?: readonly string[];
  /** Stored in the rows' `epoch` column. */
  readonly epoch?: number;
  readonly progress?: Progress;
  /** Checked before each point: once aborted, no further point starts and an AbortError is thrown. */
  readonly signal?: AbortSignal;
}

function withEndpoints(ts: readonly number[]): number[] {
  return [...new Set([0, ...ts, 1])].sort((x, y) => x - y);
}

function selectLayers(spec: ModelSpec, layers: readonly string[] | undefined): { group: LayerGroup; index: number }[] {
  const all = spec.layers.map((group, index) => ({ group, index }));
  if (layers === undefined) return all;
  return layers.map((name) => {
    const found = all.find((g) => g.group.name === name);
    if (found === undefined) throw new Error(`layer-wise: unknown layer group "${name}"; the model has ${spec.layers.map((g) => g.name).join(', ')}`);
    return found;
  });
}

/**
 * Single-layer interpolation barriers: for each layer group and each `rest` endpoint, loss and
 * accuracy on the t grid (11 points by default; t = 0 and 1 are always added, the barrier needs
 * them) with the layer's barrier on every row. Stopped by `options.signal`, it throws an
 * AbortError once the points in flight have settled (no partial rows; workers terminated).
 */
export async function layerwiseBarriers(a: Model, b: Model, data: EvaluationData, options: LayerwiseOptions = {}): Promise<LayerRow[]> {
  const pair = prepareEndpoints(a, b, options.architecture);
  try {
    return await layerwiseRows(pair, data, options);
  } finally {
    pair.dispose();
  }
}

async function layerwiseRows(pair: EndpointPair, data: EvaluationData, options: LayerwiseOptions): Promise<LayerRow[]> {
  const where = options.epoch === undefined ? 'layerwiseBarriers' : `layerwiseBarriers (epoch ${options.epoch})`;
  const ts = withEndpoints(gridOf(options));
  const layers = selectLayers(pair.spec, options.layers);
  const rests = options.rests ?? ['A', 'B'];
  const paths = layers.flatMap(({ group, index }) => rests.map((rest) => ({ group, index, rest, names: groupNames([group]) })));
  const points = paths.flatMap(({ rest, names }) => ts.map((t) => ({ rest, names, t })));
  throwIfAborted(options.signal, where);
  const evaluator = await openEvaluator(pair.architecture, pair.config, data, options);
  const rows: LayerRow[] = [];
  try {
    const label = (p: MixedPoint) => `layer ${paths.find((q) => q.names === p.names)?.group.name ?? '?'} (rest ${p.rest}) t=${p.t.toFixed(3)}`;
    const metrics = await evaluateMixedPoints(pair, evaluator, points, options.progress === undefined ? undefined : (d, n, p) => options.progress?.({ task: 'grid', step: d, total: n, message: label(p), metrics: { t: p.t } }), { signal: options.signal, where });
    for (const { group, index, rest, names } of paths) {
      const pathRows: PathRow[] = [];
      for (const t of ts) {
        const m = metrics.get(pointKey(pair, { rest, names, t })) as SplitMetrics;
        for (const split of evaluator.splits) {
          const r = m[split];
          if (r !== undefined) pathRows.push({ path: group.name, t, split, loss: r.loss, accuracy: r.accuracy });
        }
      }
      const barriers = new Map(barrierMetrics(pathRows).map((b) => [b.split, b.lossBarrier]));
      for (const row of pathRows) {
        rows.push({
          layer: group.name,
          layerIndex: index,
          rest,
          t: row.t,
          split: row.split,
          loss: row.loss,
          accuracy: row.accuracy,
          barrier: barriers.get(row.split) as number,
          ...(options.epoch !== undefined ? { epoch: options.epoch } : {}),
        });
      }
    }
  } finally {
    await evaluator.close();
  }
  return rows;
}

export interface LayerwiseByEpochOptions extends Omit<LayerwiseOptions, 'epoch'> {
  /** Epoch label of each checkpoint pair (default 0, 1, 2, …). */
  readonly epochs?: readonly number[];
}

/**
 * Single-layer barriers at every epoch of two training runs: `runA[i]` and `runB[i]` are the
 * checkpoints of the same epoch. Rows carry `epoch`. Every pair is validated before any evaluation.
 * `options.signal` stops it as it stops {@link layerwiseBarriers} (the error names the epoch).
 */
export async function layerwiseBarriersByEpoch(
  runA: readonly Model[],
  runB: readonly Model[],
  data: EvaluationData,
  options: LayerwiseByEpochOptions = {},
): Promise<LayerRow[]> {
  if (runA.length !== runB.length) throw new Error(`layer-wise by epoch: run A has ${runA.length} checkpoints, run B has ${runB.length}`);
  const epochs = options.epochs ?? runA.map((_, i) => i);
  if (epochs.length !== runA.length) throw new Error(`layer-wise by epoch: ${epochs.length} epoch labels for ${runA.length} checkpoint pairs`);
  runA.forEach((m, i) => {
    assertCompatibleModels(m, runB[i] as Model, `epoch ${epochs[i]} endpoints`);
    assertCompatibleModels(runA[0] as Model, m, `epoch ${epochs[i]} vs epoch ${epochs[0]} of run A`);
  });
  const rows: LayerRow[] = [];
  for (const [i, modelA] of runA.entries()) {
    const epoch = epochs[i] as number;
    const progress = options.progress;
    const inner: Progress | undefined = progress === undefined ? undefined : (e) => progress({ ...e, step: i * e.total + e.step, total: runA.length * e.total, message: `epoch ${epoch}: ${e.message ?? ''}` });
    rows.push(...(await layerwiseBarriers(modelA, runB[i] as Model, data, { ...options, epoch, ...(inner !== undefined ? { progress: inner } : {}) })));
  }
  return rows;
}

export type LayerOrder = CumulativeRow['order'];

export interface CumulativeOptions extends EvaluatorOptions, PoolOptions {
  readonly architecture?: Architecture<unknown>;
  /** Orders to run (default shallow, deep, random). */
  readonly orders?: readonly LayerOrder[];
  /** Seed of the random order (default 0). */
  readonly seed?: number;
  readonly progress?: Progress;
  /** Checked before each point: once aborted, no further point starts and an AbortError is thrown. */
  readonly signal?: AbortSignal;
}

/** The layer order: input side first, output side first, or a seeded permutation. */
export function layerOrder(layers: readonly LayerGroup[], order: LayerOrder, seed = 0): LayerGroup[] {
  if (order === 'shallow') return [...layers];
  if (order === 'deep') return [...layers].reverse();
  return Array.from(permutation(layers.length, createRandom(seed).fork('cumulative-order')), (i) => layers[i] as LayerGroup);
}

/**
 * Cumulative midpoint barriers: layer groups join the interpolated set one at a time in each
 * order; after each addition, loss and accuracy at t = ½ (rest from A) and the barrier
 * L(θ_S(½)) − ½(L(θ_A) + L(θ_S(1))). Stopped by `options.signal`, it throws an AbortError once
 * the points in flight have settled (no partial rows; workers terminated).
 */
export async function cumulativeBarriers(a: Model, b: Model, data: EvaluationData, options: CumulativeOptions = {}): Promise<CumulativeRow[]> {
  const pair = prepareEndpoints(a, b, options.architecture);
  const orders = options.orders ?? ['shallow', 'deep', 'random'];
  const layers = pair.spec.layers;
  const steps = orders.flatMap((order) => {
    const sequence = layerOrder(layers, order, options.seed ?? 0);
    return sequence.map((added, k) => ({ order, step: k + 1, added, names: groupNames(sequence.slice(0, k + 1)) }));
  });
  const endA: MixedPoint = { rest: 'A', names: new Set(), t: 0 };
  const points = [endA, ...steps.flatMap(({ names }) => [{ rest: 'A' as const, names, t: 0.5 }, { rest: 'A' as const, names, t: 1 }])];
  const rows: CumulativeRow[] = [];
  try {
    throwIfAborted(options.signal, 'cumulativeBarriers');
    const evaluator = await openEvaluator(pair.architecture, pair.config, data, options);
    try {
      const progress = options.progress === undefined ? undefined : (d: number, n: number, p: MixedPoint) => options.progress?.({ task: 'grid', step: d, total: n, message: `${p.names.size === 0 ? 'endpoint A' : `${p.names.size} tensors interpolated`} t=${p.t}`, metrics: { t: p.t } });
      const metrics = await evaluateMixedPoints(pair, evaluator, points, progress, { signal: options.signal, where: 'cumulativeBarriers' });
      const la = metrics.get(pointKey(pair, endA)) as SplitMetrics;
      for (const { order, step, added, names } of steps) {
        const mid = metrics.get(pointKey(pair, { rest: 'A', names, t: 0.5 })) as SplitMetrics;
        const end = metrics.get(pointKey(pair, { rest: 'A', names, t: 1 })) as SplitMetrics;
        for (const split of evaluator.splits) {
          const m = mid[split];
          const a0 = la[split];
          const b1 = end[split];
          if (m === undefined || a0 === undefined || b1 === undefined) continue;
          rows.push({ order, step, addedLayer: added.name, split, loss: m.loss, accuracy: m.accuracy, barrier: m.loss - 0.5 * (a0.loss + b1.loss) });
        }
      }
    } finally {
      await evaluator.close();
    }
  } finally {
    pair.dispose();
  }
  return rows;
}
