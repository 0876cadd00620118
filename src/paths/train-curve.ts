/**
 * Training a curve between two modes (Garipov et al. 2018, "Loss Surfaces, Mode Connectivity,
 * and Fast Ensembling of DNNs", NeurIPS; their train.py and curves.py).
 *
 * Each minibatch draws one t ~ U(0, 1) (seeded by step, so resuming reproduces the draws) and
 * minimizes
 *
 *   ℓ(w) = CE(θ(t)) + ½·wd·‖θ(t)‖²,   θ(t) = Σ_i c_i(t)·w_i,
 *
 * with SGD (momentum 0.9, no weight decay in the optimizer: as in their code, the regularizer is
 * on θ(t), over every trainable tensor including biases and BatchNorm affine parameters). The
 * gradient is taken with respect to the trainable bends only; fixed endpoints are constants and
 * stay bit-identical. The learning rate follows their schedule per epoch: constant for 50% of
 * the epochs, linear down to 1% by 90%, then 1% (`learningRateAt({ kind: 'garipov' })`, called
 * with the integer epoch as their train.py does).
 *
 * BatchNorm: the forward pass runs in training mode (batch statistics). Their code also folds the
 * batch statistics of random t into shared running statistics, which evaluation then discards by
 * re-estimating them at each t; we skip that fold and leave running statistics to the
 * re-estimation (the path evaluation does it), which gives the same evaluated numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeTensors } from '../models/tensor-map.js';
import type { Architecture, TensorMap } from '../models/types.js';
import { crossEntropy } from '../train/loss.js';
import { createOptimizer } from '../train/optimizer.js';
import { learningRateAt, type Schedule } from '../train/schedule.js';
import { createGradientPool, resolveWorkers, type GradientPool, type WorkerCount } from '../train/gradient-pool.js';
import { pooledCurveLossAndGradients } from './pooled-curve-gradients.js';
import { createRandom } from '../util/random.js';
import { poolDataOf, withPoolBatch, type BatchSource, type LabeledBatch } from './batch-source.js';
import { createCurve, curvePath, curveCoefficients, disposeCurve, type CreateCurveOptions, type Curve } from './curve.js';
import type { Model } from '../models/types.js';
import type { PathResult } from './path.js';
import type { Progress } from '../progress.js';

export interface TrainCurveOptions {
  /** Number of epochs over the batch source (required; the schedule depends on it). */
  readonly epochs: number;
  /** Base learning rate (default 0.01, their train.py default; their README uses 0.015 for curves). */
  readonly lr?: number;
  /** SGD momentum (default 0.9). */
  readonly momentum?: number;
  /** wd of the regularizer ½·wd·‖θ(t)‖² (default 1e-4, their default; README curves use 5e-4). */
  readonly weightDecay?: number;
  /** Learning-rate schedule over epochs (default `{ kind: 'garipov' }`). */
  readonly schedule?: Schedule;
  /** Seed of the t draws (default 0). The data order is the batch source's. */
  readonly seed?: number;
  /** Continue a run from the state a previous call returned. */
  readonly resume?: CurveTrainingState;
  /** Stop after this many steps in this call (default: run to the end of the last epoch). */
  readonly maxSteps?: number;
  /**
   * Called after every step: task `curve`, step and total over the whole run (resumed steps
   * included), metrics `epoch`, `t`, `lr` and `loss` (cross-entropy of the minibatch at θ(t),
   * before the update, regularizer excluded).
   */
  readonly progress?: Progress;
  /**
   * Checked before every step: once aborted, training stops and the curve and state reached so
   * far come back with `completed: false`; pass `resume: state` to continue exactly.
   */
  readonly signal?: AbortSignal;
  /**
   * Worker threads computing each step's point gradient data-parallel (default 1: this thread,
   * as before). `auto`: one per core on wasm and cpu. See pooled-curve-gradients.ts.
   */
  readonly workers?: WorkerCount;
}

/** One row per completed epoch. */
export interface CurveEpochRow {
  readonly epoch: number;
  readonly lr: number;
  /** Mean minibatch cross-entropy at the sampled t over the epoch (regularizer excluded). */
  readonly loss: number;
}

/** What a resumed run needs besides the curve: the step and the momentum buffers. */
export interface CurveTrainingState {
  readonly step: number;
  /** Optimizer slots, keyed `bend{i}.{tensor}.momentum` (caller disposes). */
  readonly slots: Map<string, tf.Tensor>;
}

export interface TrainCurveResult<C> {
  /** The trained curve: new tensors; the input curve is left untouched (caller disposes both). */
  readonly curve: Curve<C>;
  readonly state: CurveTrainingState;
  readonly rows: CurveEpochRow[];
  /** False when stopped early by `signal` (state.step says where). */
  readonly completed: boolean;
}

/** The name of bend i's tensor in flat maps, optimizer slots and checkpoints: `bend{i}.{name}`. */
export function bendKey(bend: number, name: string): string {
  return `bend${bend}.${name}`;
}

/** The t drawn at `step` of a run seeded with `seed`: uniform in [0, 1), independent of earlier draws. */
export function curveTAt(seed: number, step: number): number {
  return createRandom(seed).fork(step).next();
}

export interface CurveLossAndGradients {
  /** CE(θ(t)) + ½·wd·‖θ(t)‖² (caller disposes). */
  readonly objective: tf.Scalar;
  /** CE(θ(t)) alone (caller disposes). */
  readonly loss: tf.Scalar;
  /** Gradient of the objective for every tensor of every trainable bend, keyed by `bendKey` (caller disposes). */
  readonly grads: Map<string, tf.Tensor>;
}

/**
 * The objective at t on one minibatch and its gradient with respect to the trainable bends:
 * ∂ℓ/∂w_i = c_i(t)·∇_θ ℓ(θ(t)), computed by differentiating through θ(t) = Σ_i c_i(t)·w_i.
 */
export function curveLossAndGradients<C>(
  arch: Architecture<C>,
  curve: Curve<C>,
  batch: LabeledBatch,
  t: number,
  weightDecay: number,
): CurveLossAndGradients {
  const coefficients = curveCoefficients(curve.kind, curve.bends.length, t);
  const first = curve.bends[0];
  if (first === undefined) throw new Error('curveLossAndGradients: the curve has no bends');
  const names = [...first.keys()];
  const trainableBends = curve.trainable.flatMap((trainable, i) => (trainable ? [i] : []));
  if (trainableBends.length === 0) throw new Error('curveLossAndGradients: no bend is trainable');
  const keys: string[] = [];
  const tensors: tf.Tensor[] = [];
  for (const i of trainableBends) {
    for (const name of names) {
      keys.push(bendKey(i, name));
      tensors.push((curve.bends[i] as TensorMap).get(name) as tf.Tensor);
    }
  }
  let loss: tf.Scalar | undefined;
  const { value, grads } = tf.valueAndGrads((...ws: tf.Tensor[]) => {
    const variable = new Map(keys.map((k, j) => [k, ws[j] as tf.Tensor]));
    const params = new Map<string, tf.Tensor>();
    for (const name of names) {
      // Every bend contributes, zero coefficients included, so each trainable bend gets a
      // (possibly zero) gradient and momentum keeps running as in PyTorch.
      const terms = curve.bends.map((bend, i) => tf.mul(variable.get(bendKey(i, name)) ?? (bend.get(name) as tf.Tensor), coefficients[i] as number));
      params.set(name, terms.length === 1 ? (terms[0] as tf.Tensor) : tf.addN(terms));
    }
    const out = arch.apply(curve.config, { params, buffers: curve.endpointBuffers[0] }, batch.x, { training: true });
    const ce = crossEntropy(out.logits, batch.y);
    loss = tf.keep(ce.clone());
    if (weightDecay === 0) return ce;
    const squared = tf.addN([...params.values()].map((p) => tf.sum(tf.square(p))));
    return tf.add(ce, tf.mul(squared, 0.5 * weightDecay));
  })(tensors);
  if (loss === undefined) throw new Error('curveLossAndGradients: the loss was not computed');
  return { objective: value as tf.Scalar, loss, grads: new Map(keys.map((k, j) => [k, grads[j] as tf.Tensor])) };
}

/**
 * Trains the bends of `curve` flagged trainable (formulas and choices in the file comment).
 * Deterministic for a given seed and batch source; `resume` + `maxSteps` split a run into calls
 * that give the same result as one call.
 */
export async function trainCurve<C>(
  arch: Architecture<C>,
  curve: Curve<C>,
  data: BatchSource,
  options: TrainCurveOptions,
): Promise<TrainCurveResult<C>> {
  const { epochs } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`trainCurve: expected epochs to be a positive integer, found ${epochs}`);
  if (!Number.isInteger(data.batchesPerEpoch) || data.batchesPerEpoch < 1) {
    throw new Error(`trainCurve: the batch source has ${data.batchesPerEpoch} batches per epoch, expected at least 1`);
  }
  const baseLr = options.lr ?? 0.01;
  const weightDecay = options.weightDecay ?? 1e-4;
  const schedule = options.schedule ?? { kind: 'garipov' };
  const seed = options.seed ?? 0;
  const totalSteps = epochs * data.batchesPerEpoch;
  const start = options.resume?.step ?? 0;
  const end = Math.min(totalSteps, start + (options.maxSteps ?? totalSteps));

  // The trainable bends live in one flat map so the optimizer (and a checkpoint) sees them by bendKey.
  let working: Curve<C> = { ...curve, bends: curve.bends.map((bend, i) => (curve.trainable[i] === true ? new Map(bend) : bend)) };
  const ownBends = new Set<number>();
  const optimizer = createOptimizer({ kind: 'sgd', momentum: options.momentum ?? 0.9, weightDecay: 0 });
  if (options.resume !== undefined) optimizer.loadSlots(options.resume.slots, start);
  const rows: CurveEpochRow[] = [];
  let epochLossSum = 0;
  let epochSteps = 0;
  let reached = end;
  const workers = resolveWorkers(options.workers, 'trainCurve workers');
  let pool: GradientPool | undefined;
  try {
    if (workers > 1) pool = await createGradientPool(arch, curve.config, poolDataOf(data), { workers });
    for (let step = start; step < end; step++) {
      if (options.signal?.aborted === true) {
        reached = step;
        break;
      }
      const epoch = Math.floor(step / data.batchesPerEpoch);
      const index = step % data.batchesPerEpoch;
      const lr = learningRateAt(schedule, baseLr, epoch, epochs);
      const t = curveTAt(seed, step);
      let computed: CurveLossAndGradients;
      if (pool === undefined) {
        const batch = data.batch(epoch, index);
        try {
          computed = curveLossAndGradients(arch, working, batch, t, weightDecay);
        } finally {
          tf.dispose([batch.x, batch.y]);
        }
      } else {
        const gradientPool = pool;
        computed = await withPoolBatch(data, epoch, index, (batch) => pooledCurveLossAndGradients(gradientPool, working, batch, t, weightDecay));
      }
      const flat = new Map<string, tf.Tensor>();
      working.bends.forEach((bend, i) => {
        if (working.trainable[i] === true) for (const [name, tensor] of bend) flat.set(bendKey(i, name), tensor);
      });
      const updated = optimizer.step(flat, computed.grads, lr);
      disposeTensors(computed.grads);
      computed.objective.dispose();
      const nextBends = working.bends.map((bend, i) => {
        if (working.trainable[i] !== true) return bend;
        return new Map([...bend.keys()].map((name) => [name, updated.get(bendKey(i, name)) as tf.Tensor]));
      });
      for (const i of ownBends) disposeTensors(working.bends[i]);
      working.trainable.forEach((trainable, i) => {
        if (trainable) ownBends.add(i);
      });
      working = { ...working, bends: nextBends };
      const loss = (await computed.loss.data())[0] as number;
      computed.loss.dispose();
      if (!Number.isFinite(loss)) throw new Error(`trainCurve: the loss became ${loss} at step ${step + 1} (epoch ${epoch}, t = ${t.toFixed(4)}, lr = ${lr})`);
      epochLossSum += loss;
      epochSteps += 1;
      options.progress?.({ task: 'curve', step: step + 1, total: totalSteps, message: `epoch ${epoch + 1}/${epochs} loss ${loss.toFixed(3)}`, metrics: { epoch, t, lr, loss } });
      if (index === data.batchesPerEpoch - 1) {
        rows.push({ epoch, lr, loss: epochLossSum / epochSteps });
        epochLossSum = 0;
        epochSteps = 0;
      }
    }
    const bends = working.bends.map((bend, i) => (ownBends.has(i) ? bend : new Map([...bend].map(([n, x]) => [n, x.clone()]))));
    const trained: Curve<C> = {
      ...curve,
      bends,
      endpointBuffers: [new Map([...curve.endpointBuffers[0]].map(([n, x]) => [n, x.clone()])), new Map([...curve.endpointBuffers[1]].map(([n, x]) => [n, x.clone()]))],
    };
    return { curve: trained, state: { step: reached, slots: optimizer.slots() }, rows, completed: reached === end };
  } catch (error) {
    for (const i of ownBends) disposeTensors(working.bends[i]);
    throw error;
  } finally {
    await pool?.close();
    optimizer.dispose();
  }
}

/** Options of `findCurve`: the curve's shape and its training (a run in one call: no resume). */
export interface FindCurveOptions extends CreateCurveOptions, Omit<TrainCurveOptions, 'resume' | 'maxSteps'> {}

/** How a curve was trained: one row per completed epoch and the steps done. */
export interface CurveInfo {
  readonly rows: CurveEpochRow[];
  readonly step: number;
}

/**
 * A curve between two modes, trained (Garipov et al. 2018): `createCurve` with the interior bends
 * on the straight line, `trainCurve`, and the result as a path (kind `bezier` or `polychain`).
 * The endpoints stay the caller's; the path owns the trained bends. Stopped by `signal`, the
 * path is the curve trained so far (`completed: false`); to resume a run, use `trainCurve`
 * with `resume` directly.
 *
 * @example
 * const { path, info } = await findCurve(lenet5, [a, b], splitBatchSource(train, preprocessing, { batchSize: 128 }), { epochs: 4, lr: 0.015, weightDecay: 5e-4 });
 */
export async function findCurve<C>(architecture: Architecture<C>, endpoints: readonly [Model<C>, Model<C>], data: BatchSource, options: FindCurveOptions): Promise<PathResult<CurveInfo>> {
  const [a, b] = endpoints;
  if (a.architecture !== architecture.name) throw new Error(`findCurve: the endpoints are ${a.architecture} models, the architecture given is ${architecture.name}`);
  const initial = createCurve(a, b, options);
  try {
    const trained = await trainCurve(architecture, initial, data, options);
    disposeTensors(trained.state.slots);
    return { path: curvePath(trained.curve), completed: trained.completed, info: { rows: trained.rows, step: trained.state.step } };
  } finally {
    disposeCurve(initial);
  }
}
