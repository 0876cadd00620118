/**
 * AutoNEB: a minimum-energy path between two modes by nudged elastic band cycles with automatic
 * pivot insertion (Draxler et al. 2018, "Essentially No Barriers in Neural Network Energy
 * Landscape", ICML; their PyTorch-AutoNEB). Chain operations are in neb.ts.
 *
 * Pipeline of `autoNeb`, per cycle c (schedule: `cycles`, e.g. 4×1000 steps at lr 0.1, …):
 *   1. Insert pivots: cycle 0 puts `initialPivots` evenly into every segment; later cycles insert
 *      at most `maxInsertions` where the previous cycle's dense loss exceeds the interpolation of
 *      the pivot losses by > `insertThreshold` of the chain's loss range.
 *   2. `steps` SGD-with-momentum steps (fresh momentum each cycle, as their code): redistribute the
 *      pivots by target weights ("infinite springs", their shipped configs; skipped for a finite
 *      `springConstant`); minibatch loss at every pivot and gradient g_i at interior pivots (one
 *      minibatch per step, shared by all pivots); g_i += wd·p_i; tangent τ_i; nudged gradient
 *      g_i − (g_i·τ_i)τ_i (+ k·((d_prev − d̂_prev) − (d_next − d̂_next))·τ_i with springs, d̂ the
 *      target lengths); update.
 *   3. Dense evaluation: `densePoints` evenly spaced points inside every segment plus the pivots,
 *      with the deterministic evaluation loss. The maximum is the cycle's saddle estimate.
 *
 * `autoNeb` works on flat vectors and an abstract `NebEnergy`, so the same code relaxes a chain on
 * a 2-D test surface or between two networks (`connectAutoNeb` + `modelNebEnergy`), and
 * `nebPath` turns a model chain into a `ParameterPath`, piecewise linear through the pivots and
 * parameterized by normalized arc length: t = (length along the chain up to θ(t)) / (total length).
 */
import * as tf from '@tensorflow/tfjs-core';
import { assertSameLayout, cloneTensors, disposeTensors, interpolateTensors } from '../models/tensor-map.js';
import type { Architecture, ArchitectureName, Model, ModelState, TensorMap } from '../models/types.js';
import { crossEntropySum } from '../train/loss.js';
import { createOptimizer } from '../train/optimizer.js';
import { createGradientPool, resolveWorkers, type GradientPool, type PoolBatch, type WorkerCount } from '../train/gradient-pool.js';
import { poolDataOf, type BatchSource, type LabeledBatch } from './batch-source.js';
import { createEvaluator, type PointMetrics } from '../evaluate/evaluate.js';
import { flatLayout, flattenParams, unflattenParams, type FlatLayout } from './flat-params.js';
import { choosePivotInsertions, denseAlphas, insertPivots, nebTangent, nudgeGradient, redistributeChain, segmentLengths, type PivotInsertion } from './neb.js';
import type { ParameterPath, PathResult } from './path.js';
import type { Progress } from '../progress.js';

/** The loss surface a chain relaxes on. */
export interface NebEnergy {
  /**
   * Minibatch loss at every point, and its gradient where `withGradient[i]`; one minibatch per
   * `step`, the same for every point. The caller disposes the gradients.
   */
  lossesAndGradients(points: readonly tf.Tensor1D[], withGradient: readonly boolean[], step: number): Promise<{ losses: number[]; gradients: (tf.Tensor1D | undefined)[] }>;
  /** The deterministic evaluation loss at every point (used for the dense analysis). */
  evaluate(points: readonly tf.Tensor1D[]): Promise<number[]>;
}

/** One cycle of the schedule. */
export interface NebCycle {
  readonly steps: number;
  readonly lr: number;
}

/**
 * Parses `COUNTxSTEPS@LR,…` (e.g. `4x1000@0.1,2x2000@0.1,4x1000@0.01,4x1000@0.001`, the shape of
 * Draxler's ResNet20 config; `x` part optional). Errors name the option and the bad item.
 */
export function parseNebCycles(text: string, where = '--cycles'): NebCycle[] {
  const cycles: NebCycle[] = [];
  for (const item of text.split(',')) {
    const match = /^\s*(?:(\d+)x)?(\d+)@(\d*\.?\d+(?:e-?\d+)?)\s*$/.exec(item);
    if (match === null) throw new Error(`${where}: expected COUNTxSTEPS@LR items separated by commas (e.g. 4x1000@0.1), found "${item}"`);
    const count = Number(match[1] ?? 1);
    const steps = Number(match[2]);
    const lr = Number(match[3]);
    if (count < 1 || steps < 1 || !(lr > 0)) throw new Error(`${where}: count, steps and lr must be positive in "${item}"`);
    for (let i = 0; i < count; i++) cycles.push({ steps, lr });
  }
  return cycles;
}

/** Draxler et al.'s CIFAR-10 ResNet20 schedule (14 cycles, 18,000 steps). */
export const DRAXLER_RESNET20_CYCLES = '4x1000@0.1,2x2000@0.1,4x1000@0.01,4x1000@0.001';

export interface AutoNebOptions {
  /** The cycle schedule (default: `parseNebCycles(DRAXLER_RESNET20_CYCLES)`). */
  readonly cycles?: readonly NebCycle[];
  /** SGD momentum (default 0.9). */
  readonly momentum?: number;
  /** wd·p_i added to the interior gradients before the projection (default 0; their ResNet configs 1e-4). */
  readonly weightDecay?: number;
  /** Pivots inserted evenly into the straight line before the first cycle (default 3, their configs). */
  readonly initialPivots?: number;
  /** Maximum pivots inserted after each cycle (default 2). */
  readonly maxInsertions?: number;
  /** Relative excess that triggers an insertion (default 0.1). */
  readonly insertThreshold?: number;
  /** Dense evaluation points inside each segment (default 9). */
  readonly densePoints?: number;
  /** `Infinity` (default): redistribute by arc length every step; a finite k adds spring forces instead. */
  readonly springConstant?: number;
  /**
   * Called after every step: task `autoneb`, step and total over all cycles, metrics `cycle`
   * (0-based), `cycleStep` (1-based), `pivots` and `maxPivotLoss` (the highest minibatch loss at
   * the pivots before this step's update).
   */
  readonly progress?: Progress;
  /**
   * Checked before every step: once aborted, the chain reached so far comes back with
   * `completed: false` and no dense evaluation (AutoNEB does not resume; run again to redo it).
   */
  readonly signal?: AbortSignal;
  /**
   * `connectAutoNeb`: worker threads computing the pivots' gradients, one pivot per worker at a
   * time (default 1: this thread, as before). `auto`: one per core on wasm and cpu.
   */
  readonly workers?: WorkerCount;
}

/** One row per cycle. */
export interface NebCycleRow {
  readonly cycle: number;
  readonly lr: number;
  readonly steps: number;
  readonly pivots: number;
  /** Pivots inserted before this cycle. */
  readonly inserted: number;
  /** max of the dense evaluation loss after the cycle. */
  readonly saddleLoss: number;
  /** Chain length relative to the end-to-end distance. */
  readonly relativeLength: number;
}

/** Dense evaluation of the final chain: position in pivot units (pivot index + α) and loss. */
export interface NebDensePoint {
  readonly position: number;
  readonly loss: number;
}

export interface AutoNebResult {
  /** p_0..p_N, new tensors (caller disposes). */
  readonly pivots: tf.Tensor1D[];
  /** Target relative segment lengths (sum 1). */
  readonly weights: number[];
  readonly rows: NebCycleRow[];
  /** Dense evaluation of the final chain (empty when stopped by `signal`). */
  readonly dense: NebDensePoint[];
  /** False when stopped early by `signal`. */
  readonly completed: boolean;
}

async function denseEvaluation(pivots: readonly tf.Tensor1D[], energy: NebEnergy, perSegment: number): Promise<number[]> {
  const alphas = denseAlphas(perSegment);
  const points: tf.Tensor1D[] = [];
  for (let s = 0; s < pivots.length - 1; s++) {
    const a = pivots[s] as tf.Tensor1D;
    const b = pivots[s + 1] as tf.Tensor1D;
    for (const alpha of alphas) points.push(alpha === 0 ? a.clone() : tf.tidy(() => tf.add(tf.mul(a, 1 - alpha), tf.mul(b, alpha))));
  }
  points.push((pivots[pivots.length - 1] as tf.Tensor1D).clone());
  try {
    return await energy.evaluate(points);
  } finally {
    tf.dispose(points);
  }
}

/** Relaxes a chain from `start` to `end` on `energy` (algorithm in the file comment). Inputs are not disposed. */
export async function autoNeb(start: tf.Tensor1D, end: tf.Tensor1D, energy: NebEnergy, options: AutoNebOptions = {}): Promise<AutoNebResult> {
  if (start.shape[0] !== end.shape[0]) throw new Error(`autoNeb: start has ${start.shape[0]} coordinates, end has ${end.shape[0]}`);
  const cycles = options.cycles ?? parseNebCycles(DRAXLER_RESNET20_CYCLES);
  const perSegment = options.densePoints ?? 9;
  const spring = options.springConstant ?? Infinity;
  const weightDecay = options.weightDecay ?? 0;
  if (!(spring > 0)) throw new Error(`autoNeb: springConstant must be positive (Infinity for redistribution), found ${spring}`);
  let pivots: tf.Tensor1D[] = [start.clone(), end.clone()];
  let weights: number[] = [1];
  let dense: number[] = [];
  const rows: NebCycleRow[] = [];
  let globalStep = 0;
  const endToEnd = segmentLengths([start, end])[0] as number;
  const totalSteps = cycles.reduce((sum, cycle) => sum + cycle.steps, 0);
  try {
    for (const [c, cycle] of cycles.entries()) {
      // 1. Insert pivots.
      let insertions: Pick<PivotInsertion, 'segment' | 'alpha'>[];
      if (c === 0) {
        const count = options.initialPivots ?? 3;
        insertions = Array.from({ length: count }, (_, j) => ({ segment: 0, alpha: (j + 1) / (count + 1) }));
      } else {
        insertions = choosePivotInsertions(dense, pivots.length, {
          ...(options.maxInsertions === undefined ? {} : { maxInsertions: options.maxInsertions }),
          ...(options.insertThreshold === undefined ? {} : { threshold: options.insertThreshold }),
        });
      }
      ({ pivots, weights } = insertPivots(pivots, weights, insertions));
      // 2. Optimize the interior pivots.
      const optimizer = createOptimizer({ kind: 'sgd', momentum: options.momentum ?? 0.9, weightDecay: 0 });
      try {
        for (let step = 0; step < cycle.steps; step++, globalStep++) {
          if (options.signal?.aborted === true) return { pivots, weights, rows, dense: [], completed: false };
          if (spring === Infinity) {
            const redistributed = redistributeChain(pivots, weights);
            tf.dispose(pivots);
            pivots = redistributed;
          }
          const n = pivots.length;
          const withGradient = pivots.map((_, i) => i > 0 && i < n - 1);
          const { losses, gradients } = await energy.lossesAndGradients(pivots, withGradient, globalStep);
          const lengths = segmentLengths(pivots);
          const total = lengths.reduce((a, b) => a + b, 0);
          const params = new Map<string, tf.Tensor>();
          const nudged = new Map<string, tf.Tensor>();
          for (let i = 1; i < n - 1; i++) {
            const g = gradients[i];
            if (g === undefined) throw new Error(`autoNeb: the energy returned no gradient for pivot ${i}`);
            const p = pivots[i] as tf.Tensor1D;
            const tangent = nebTangent(pivots[i - 1] as tf.Tensor1D, p, pivots[i + 1] as tf.Tensor1D, losses[i - 1] as number, losses[i] as number, losses[i + 1] as number);
            const force = tf.tidy(() => {
              const full = weightDecay === 0 ? g : tf.add(g, tf.mul(p, weightDecay));
              const projected = nudgeGradient(full as tf.Tensor1D, tangent);
              if (spring === Infinity) return projected;
              const weightSum = weights.reduce((a, b) => a + b, 0);
              const stretchPrev = (lengths[i - 1] as number) - ((weights[i - 1] as number) / weightSum) * total;
              const stretchNext = (lengths[i] as number) - ((weights[i] as number) / weightSum) * total;
              return tf.add(projected, tf.mul(tangent, spring * (stretchPrev - stretchNext)));
            });
            tangent.dispose();
            params.set(`p${i}`, p);
            nudged.set(`p${i}`, force);
          }
          const updated = optimizer.step(params, nudged, cycle.lr);
          tf.dispose([...gradients.filter((g): g is tf.Tensor1D => g !== undefined), ...nudged.values()]);
          pivots = pivots.map((p, i) => {
            const next = updated.get(`p${i}`);
            if (next === undefined) return p;
            p.dispose();
            return next as tf.Tensor1D;
          });
          const maxPivotLoss = losses.reduce((m, v) => Math.max(m, v), -Infinity);
          options.progress?.({
            task: 'autoneb',
            step: globalStep + 1,
            total: totalSteps,
            message: `cycle ${c + 1}/${cycles.length} max pivot loss ${maxPivotLoss.toFixed(3)}`,
            metrics: { cycle: c, cycleStep: step + 1, pivots: pivots.length, maxPivotLoss },
          });
        }
      } finally {
        optimizer.dispose();
      }
      // 3. Dense evaluation.
      dense = await denseEvaluation(pivots, energy, perSegment);
      const length = segmentLengths(pivots).reduce((a, b) => a + b, 0);
      rows.push({ cycle: c, lr: cycle.lr, steps: cycle.steps, pivots: pivots.length, inserted: insertions.length, saddleLoss: Math.max(...dense), relativeLength: length / (endToEnd + 1e-30) });
    }
    if (dense.length === 0) dense = await denseEvaluation(pivots, energy, perSegment);
    const positions = pivots.slice(0, -1).flatMap((_, s) => denseAlphas(perSegment).map((alpha) => s + alpha));
    positions.push(pivots.length - 1);
    return { pivots, weights, rows, dense: dense.map((loss, k) => ({ position: positions[k] as number, loss })), completed: true };
  } catch (error) {
    tf.dispose(pivots);
    throw error;
  }
}

/** A chain of networks found by AutoNEB; owns its tensors (see `disposeNebChain`). */
export interface NebChain<Config = unknown> {
  readonly architecture: ArchitectureName;
  readonly config: Config;
  readonly layout: FlatLayout;
  /** p_0 = θ_A .. p_N = θ_B as flat vectors in layout order. */
  readonly pivots: readonly tf.Tensor1D[];
  /** BatchNorm running statistics of θ_A and θ_B (placeholders, see `nebPath`). */
  readonly endpointBuffers: readonly [TensorMap, TensorMap];
}

export function disposeNebChain(chain: NebChain): void {
  tf.dispose([...chain.pivots]);
  disposeTensors(...chain.endpointBuffers);
}

export interface ModelNebData {
  /** Minibatches for the NEB steps (step s uses epoch ⌊s/B⌋, index s mod B). */
  readonly train: BatchSource;
  /** Fixed batches for the dense evaluation (mean cross-entropy over all their examples). */
  readonly evaluation: readonly LabeledBatch[];
}

/**
 * The mean cross-entropy of a network as a `NebEnergy` over flat parameter vectors. The NEB steps'
 * minibatch forwards run in training mode (BatchNorm normalizes with batch statistics); the dense
 * evaluation goes through the shared evaluator (src/evaluate/), with BatchNorm statistics
 * re-estimated on the fixed evaluation batches at every point. Networks without BatchNorm are
 * unaffected by either choice. With a gradient `pool`, the points that need a gradient are computed
 * on its workers, one whole point per worker (same numbers up to float rounding: the pool's loss
 * is step.ts's mean cross-entropy).
 */
export function modelNebEnergy<C>(arch: Architecture<C>, config: C, layout: FlatLayout, buffers: TensorMap, data: ModelNebData, pool?: GradientPool): NebEnergy {
  const lossOf = (flat: tf.Tensor1D, batch: LabeledBatch): tf.Scalar => {
    const params = unflattenParams(flat, layout);
    const out = arch.apply(config, { params, buffers }, batch.x, { training: true });
    return tf.div(crossEntropySum(out.logits, batch.y), batch.y.shape[0]);
  };
  const pooledLossesAndGradients = async (
    gradientPool: GradientPool,
    points: readonly tf.Tensor1D[],
    withGradient: readonly boolean[],
    batch: LabeledBatch,
    poolBatch: PoolBatch,
  ): Promise<{ losses: number[]; gradients: (tf.Tensor1D | undefined)[] }> => {
    const chosen = points.flatMap((_, i) => (withGradient[i] === true ? [i] : []));
    const states = chosen.map((i) => ({ params: unflattenParams(points[i] as tf.Tensor1D, layout), buffers }));
    try {
      const pending = gradientPool.lossAndGradientsEach(states.map((state) => ({ state, batch: poolBatch })));
      // The other points (the fixed endpoints) need only their loss, computed here.
      const losses = points.map((point, i) => {
        if (withGradient[i] === true) return Number.NaN;
        const loss = tf.tidy(() => lossOf(point, batch));
        const value = loss.arraySync();
        loss.dispose();
        return value;
      });
      const results = await pending;
      const gradients: (tf.Tensor1D | undefined)[] = points.map(() => undefined);
      results.forEach((r, j) => {
        const i = chosen[j] as number;
        losses[i] = r.loss.arraySync();
        gradients[i] = flattenParams(r.grads, layout);
        tf.dispose([r.loss, r.correct, ...r.grads.values(), ...r.batchStats.values()]);
      });
      return { losses, gradients };
    } finally {
      for (const state of states) disposeTensors(state.params);
    }
  };
  return {
    async lossesAndGradients(points, withGradient, step) {
      const [epoch, index] = [Math.floor(step / data.train.batchesPerEpoch), step % data.train.batchesPerEpoch];
      const batch = data.train.batch(epoch, index);
      try {
        // The workers take the batch's indices where the source has them (the pool holds the split).
        if (pool !== undefined) return await pooledLossesAndGradients(pool, points, withGradient, batch, data.train.indexed?.indices(epoch, index) ?? batch);
        const lossTensors: tf.Scalar[] = [];
        const gradients: (tf.Tensor1D | undefined)[] = [];
        for (const [i, point] of points.entries()) {
          if (withGradient[i] === true) {
            const { value, grad } = tf.valueAndGrad((flat: tf.Tensor1D) => lossOf(flat, batch))(point);
            lossTensors.push(value);
            gradients.push(grad);
          } else {
            lossTensors.push(tf.tidy(() => lossOf(point, batch)));
            gradients.push(undefined);
          }
        }
        const stacked = tf.stack(lossTensors);
        const losses = Array.from(await stacked.data());
        tf.dispose([stacked, ...lossTensors]);
        return { losses, gradients };
      } finally {
        tf.dispose([batch.x, batch.y]);
      }
    },
    async evaluate(points) {
      const count = data.evaluation.reduce((n, b) => n + b.y.shape[0], 0);
      if (count === 0) throw new Error('modelNebEnergy: the evaluation batches hold no examples');
      // The shared evaluator; BatchNorm statistics are re-estimated on the same fixed (training) batches.
      const evaluator = createEvaluator(arch, config, { train: data.evaluation, bnBatches: data.evaluation }, { splits: ['train'] });
      try {
        const out: number[] = [];
        for (const point of points) {
          const params = unflattenParams(point, layout);
          try {
            const { train } = await evaluator.evaluate({ params, buffers });
            out.push((train as PointMetrics).loss);
          } finally {
            disposeTensors(params);
          }
        }
        return out;
      } finally {
        evaluator.dispose();
      }
    },
  };
}

export interface ConnectAutoNebResult<C> {
  readonly chain: NebChain<C>;
  readonly rows: NebCycleRow[];
  readonly dense: NebDensePoint[];
  /** False when stopped early by `signal`. */
  readonly completed: boolean;
}

/** AutoNEB between two networks of one architecture (see `autoNeb` for the options). Inputs are not disposed. */
export async function connectAutoNeb<C>(arch: Architecture<C>, a: Model<C>, b: Model<C>, data: ModelNebData, options: AutoNebOptions = {}): Promise<ConnectAutoNebResult<C>> {
  if (a.architecture !== b.architecture) throw new Error(`connectAutoNeb: the endpoints are different architectures (${a.architecture} and ${b.architecture})`);
  assertSameLayout(a.params, b.params, 'connectAutoNeb: parameters of the endpoints');
  assertSameLayout(a.buffers, b.buffers, 'connectAutoNeb: buffers of the endpoints');
  const layout = flatLayout(a.params);
  const start = flattenParams(a.params, layout);
  const end = flattenParams(b.params, layout);
  const workers = resolveWorkers(options.workers, 'connectAutoNeb workers');
  let pool: GradientPool | undefined;
  try {
    if (workers > 1) pool = await createGradientPool(arch, a.config, poolDataOf(data.train), { workers });
    const energy = modelNebEnergy(arch, a.config, layout, a.buffers, data, pool);
    const result = await autoNeb(start, end, energy, options);
    return {
      chain: { architecture: a.architecture, config: a.config, layout, pivots: result.pivots, endpointBuffers: [cloneTensors(a.buffers), cloneTensors(b.buffers)] },
      rows: result.rows,
      dense: result.dense,
      completed: result.completed,
    };
  } finally {
    await pool?.close();
    tf.dispose([start, end]);
  }
}

/**
 * The chain as a `ParameterPath` (kind `autoneb`): piecewise linear through the pivots, with t the
 * normalized arc length, so t = 0 and t = 1 are exactly θ_A and θ_B. Buffers are the endpoints'
 * running statistics interpolated linearly in t, a placeholder that evaluation re-estimates.
 * The path takes ownership of the chain: `dispose()` frees it.
 */
export function nebPath<C>(chain: NebChain<C>): ParameterPath {
  const lengths = segmentLengths(chain.pivots);
  const cumulative = [0];
  for (const length of lengths) cumulative.push((cumulative.at(-1) as number) + length);
  const total = cumulative.at(-1) as number;
  let disposed = false;
  const alive = (what: string): void => {
    if (disposed) throw new Error(`nebPath: ${what} called after dispose()`);
  };
  return {
    kind: 'autoneb',
    architecture: chain.architecture,
    config: chain.config,
    pointAt(t: number): ModelState {
      alive('pointAt');
      if (!(t >= 0 && t <= 1)) throw new Error(`nebPath: expected 0 ≤ t ≤ 1, found ${t}`);
      const last = chain.pivots.length - 1;
      let flat: tf.Tensor1D;
      if (t === 0 || total === 0) flat = (chain.pivots[0] as tf.Tensor1D).clone();
      else if (t === 1) flat = (chain.pivots[last] as tf.Tensor1D).clone();
      else {
        const position = t * total;
        let s = 0;
        while (s < last - 1 && position > (cumulative[s + 1] as number)) s++;
        const length = lengths[s] as number;
        const alpha = length > 0 ? (position - (cumulative[s] as number)) / length : 0;
        const a = chain.pivots[s] as tf.Tensor1D;
        const b = chain.pivots[s + 1] as tf.Tensor1D;
        flat = tf.tidy(() => tf.add(tf.mul(a, 1 - alpha), tf.mul(b, alpha)));
      }
      const params = unflattenParams(flat, chain.layout);
      flat.dispose();
      return { params, buffers: interpolateTensors(chain.endpointBuffers[0], chain.endpointBuffers[1], t) };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      disposeNebChain(chain);
    },
    content() {
      alive('content()');
      const last = chain.pivots.length - 1;
      const buffersOf = (i: number): Map<string, tf.Tensor> => (i === 0 ? cloneTensors(chain.endpointBuffers[0]) : i === last ? cloneTensors(chain.endpointBuffers[1]) : new Map<string, tf.Tensor>());
      const states = new Map(chain.pivots.map((pivot, i) => [`pivot${i}`, { params: unflattenParams(pivot, chain.layout), buffers: buffersOf(i) }]));
      return { method: 'autoneb', states, fields: {} };
    },
  };
}

/** How an AutoNEB chain was made: one row per cycle and the dense evaluation of the final chain. */
export interface AutoNebInfo {
  readonly cycles: NebCycleRow[];
  readonly dense: NebDensePoint[];
}

/**
 * AutoNEB between two networks in the shape of every path method (path.ts): `connectAutoNeb`
 * and the chain as a path (kind `autoneb`). The endpoints stay the caller's; the path owns the
 * chain. Stopped by `signal`, the path is the chain reached so far (`completed: false`).
 *
 * @example
 * const { path, info } = await findAutoNebPath(lenet5, [a, b], { train, evaluation }, { cycles: parseNebCycles('2x200@0.1') });
 */
export async function findAutoNebPath<C>(architecture: Architecture<C>, endpoints: readonly [Model<C>, Model<C>], data: ModelNebData, options: AutoNebOptions = {}): Promise<PathResult<AutoNebInfo>> {
  const [a, b] = endpoints;
  if (a.architecture !== architecture.name) throw new Error(`findAutoNebPath: the endpoints are ${a.architecture} models, the architecture given is ${architecture.name}`);
  const result = await connectAutoNeb(architecture, a, b, data, options);
  return { path: nebPath(result.chain), completed: result.completed, info: { cycles: result.rows, dense: result.dense } };
}
