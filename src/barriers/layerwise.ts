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
import { createEvaluator, type EvaluationData, type Evaluator, type EvaluatorOptions, type SplitMetrics } from './evaluate.js';
import { assertCompatibleModels, differenceTensors, gridOf, type GridOptions, type Progress } from './linear-path.js';
import { barrierMetrics } from './metrics.js';
import { resolveArchitecture } from './resolve.js';
import type { CumulativeRow, LayerRow, PathRow } from './rows.js';

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

/** Evaluates mixed points with a cache keyed by the point's identity (so A and B are evaluated once). */
function cachedEvaluation(pair: EndpointPair, evaluator: Evaluator) {
  const cache = new Map<string, SplitMetrics>();
  const allNames = groupNames(pair.spec.layers);
  const tensorCount = pair.a.params.size + pair.a.buffers.size;
  return async (rest: 'A' | 'B', names: ReadonlySet<string>, t: number): Promise<SplitMetrics> => {
    // Points that equal a whole endpoint share one key.
    const everything = names.size === allNames.size && allNames.size === tensorCount;
    const isA = (rest === 'A' && (t === 0 || names.size === 0)) || (rest === 'B' && t === 0 && everything);
    const isB = (rest === 'B' && (t === 1 || names.size === 0)) || (rest === 'A' && t === 1 && everything);
    const key = isA ? 'A' : isB ? 'B' : `${rest}|${t}|${[...names].sort().join(',')}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const state = mixedPoint(pair, rest, names, t);
    try {
      const metrics = await evaluator.evaluate(state);
      cache.set(key, metrics);
      return metrics;
    } finally {
      disposeTensors(state);
    }
  };
}

export interface LayerwiseOptions extends GridOptions, EvaluatorOptions {
  /** Architecture implementation (default: the registry's). */
  readonly architecture?: Architecture<unknown>;
  /** Which endpoint supplies the other layers (default both, A then B). */
  readonly rests?: readonly ('A' | 'B')[];
  /** Only these layer groups (default: all, input side first). */
  readonly layers?: readonly string[];
  /** Stored in the rows' `epoch` column. */
  readonly epoch?: number;
  readonly progress?: Progress;
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
 * them) with the layer's barrier on every row.
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
  const ts = withEndpoints(gridOf(options));
  const layers = selectLayers(pair.spec, options.layers);
  const rests = options.rests ?? ['A', 'B'];
  const evaluator = createEvaluator(pair.architecture, pair.config, data, options);
  const evaluate = cachedEvaluation(pair, evaluator);
  const rows: LayerRow[] = [];
  const total = layers.length * rests.length * ts.length;
  let done = 0;
  try {
    for (const { group, index } of layers) {
      const names = groupNames([group]);
      for (const rest of rests) {
        const pathRows: PathRow[] = [];
        for (const t of ts) {
          const metrics = await evaluate(rest, names, t);
          for (const split of evaluator.splits) {
            const m = metrics[split];
            if (m !== undefined) pathRows.push({ path: group.name, t, split, loss: m.loss, accuracy: m.accuracy });
          }
          options.progress?.(++done, total, `layer ${group.name} (rest ${rest}) t=${t.toFixed(3)}`);
        }
        const barriers = new Map(barrierMetrics(pathRows).map((m) => [m.split, m.lossBarrier]));
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
    }
  } finally {
    evaluator.dispose();
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
    const inner = progress === undefined ? undefined : (done: number, total: number, label: string) => progress(i * total + done, runA.length * total, `epoch ${epoch}: ${label}`);
    rows.push(...(await layerwiseBarriers(modelA, runB[i] as Model, data, { ...options, epoch, ...(inner !== undefined ? { progress: inner } : {}) })));
  }
  return rows;
}

export type LayerOrder = CumulativeRow['order'];

export interface CumulativeOptions extends EvaluatorOptions {
  readonly architecture?: Architecture<unknown>;
  /** Orders to run (default shallow, deep, random). */
  readonly orders?: readonly LayerOrder[];
  /** Seed of the random order (default 0). */
  readonly seed?: number;
  readonly progress?: Progress;
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
 * L(θ_S(½)) − ½(L(θ_A) + L(θ_S(1))).
 */
export async function cumulativeBarriers(a: Model, b: Model, data: EvaluationData, options: CumulativeOptions = {}): Promise<CumulativeRow[]> {
  const pair = prepareEndpoints(a, b, options.architecture);
  const orders = options.orders ?? ['shallow', 'deep', 'random'];
  const evaluator = createEvaluator(pair.architecture, pair.config, data, options);
  const evaluate = cachedEvaluation(pair, evaluator);
  const rows: CumulativeRow[] = [];
  const layers = pair.spec.layers;
  let done = 0;
  const total = orders.length * layers.length;
  try {
    const endA = await evaluate('A', new Set(), 0);
    for (const order of orders) {
      const sequence = layerOrder(layers, order, options.seed ?? 0);
      for (let k = 1; k <= sequence.length; k++) {
        const names = groupNames(sequence.slice(0, k));
        const mid = await evaluate('A', names, 0.5);
        const end = await evaluate('A', names, 1);
        for (const split of evaluator.splits) {
          const m = mid[split];
          const la = endA[split];
          const lb = end[split];
          if (m === undefined || la === undefined || lb === undefined) continue;
          rows.push({
            order,
            step: k,
            addedLayer: (sequence[k - 1] as LayerGroup).name,
            split,
            loss: m.loss,
            accuracy: m.accuracy,
            barrier: m.loss - 0.5 * (la.loss + lb.loss),
          });
        }
        options.progress?.(++done, total, `${order} order: ${k} of ${sequence.length} layers`);
      }
    }
  } finally {
    evaluator.dispose();
    pair.dispose();
  }
  return rows;
}
