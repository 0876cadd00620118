/**
 * One optimization step of a parameter-map model: forward in training mode, mean cross-entropy,
 * gradients with respect to every parameter, optimizer update, BatchNorm running statistics
 * updated from the batch statistics (PyTorch momentum 0.1 by default).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture, ModelState, TensorMap } from '../models/types.js';
import type { Batch } from '../data/batches.js';
import type { Optimizer } from './optimizer.js';
import { correctCount, crossEntropy } from './loss.js';

export type { Batch };

export interface LossAndGradients {
  /** Mean cross-entropy of the batch (caller disposes). */
  readonly loss: tf.Scalar;
  /** Gradient of the loss for every parameter (caller disposes). */
  readonly grads: Map<string, tf.Tensor>;
  /** Batch statistics for BatchNorm buffers (caller disposes). */
  readonly batchStats: Map<string, tf.Tensor>;
  /** Number of correctly classified examples of the batch (caller disposes). */
  readonly correct: tf.Scalar;
}

/** Loss and gradients at `state` on one batch, in training mode. */
export function lossAndGradients<C>(arch: Architecture<C>, config: C, state: ModelState, batch: Batch): LossAndGradients {
  const names = [...state.params.keys()];
  const tensors = names.map((n) => state.params.get(n) as tf.Tensor);
  const batchStats = new Map<string, tf.Tensor>();
  let correct: tf.Scalar | undefined;
  const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => {
    const params = new Map(names.map((n, i) => [n, ps[i] as tf.Tensor]));
    const out = arch.apply(config, { params, buffers: state.buffers }, batch.x, { training: true });
    for (const [k, v] of out.batchStats) batchStats.set(k, tf.keep(v));
    correct = tf.keep(correctCount(out.logits, batch.y));
    return crossEntropy(out.logits, batch.y);
  })(tensors);
  return {
    loss: value,
    grads: new Map(names.map((n, i) => [n, grads[i] as tf.Tensor])),
    batchStats,
    correct: correct ?? tf.scalar(Number.NaN),
  };
}

export interface TrainStepOptions {
  /** BatchNorm momentum for the running statistics (PyTorch default 0.1). */
  readonly bnMomentum?: number;
  /** Folds batch statistics into running statistics; provided by the model's BatchNorm module. */
  readonly updateBuffers?: (buffers: TensorMap, batchStats: TensorMap, momentum: number) => Map<string, tf.Tensor>;
}

export interface TrainStepResult {
  /** New parameters and buffers; the inputs are left untouched (caller disposes the old ones). */
  readonly state: ModelState;
  /** Mean cross-entropy of the batch before the update (caller disposes). */
  readonly loss: tf.Scalar;
  /** Correctly classified examples of the batch before the update (caller disposes). */
  readonly correct: tf.Scalar;
}

/** Running statistics update r ← (1 − m)·r + m·b for every buffer that has a batch statistic. */
export function foldBatchStats(buffers: TensorMap, batchStats: TensorMap, momentum: number): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, running] of buffers) {
    const stat = batchStats.get(name);
    out.set(name, stat === undefined ? running.clone() : tf.tidy(() => tf.add(tf.mul(running, 1 - momentum), tf.mul(stat, momentum))));
  }
  return out;
}

/**
 * The update of one step from its loss and gradients: the optimizer step on the parameters and
 * the running statistics folded from the batch statistics. Disposes `computed.grads` and
 * `computed.batchStats`; the inputs' state is left untouched. `trainStep` is
 * `applyGradients(lossAndGradients(…))`; a data-parallel step (gradient-pool.ts) is the same
 * update on the combined shards.
 */
export function applyGradients(
  state: ModelState,
  computed: LossAndGradients,
  optimizer: Optimizer,
  lr: number,
  options: TrainStepOptions = {},
): TrainStepResult {
  const { loss, grads, batchStats, correct } = computed;
  const params = optimizer.step(state.params, grads, lr);
  const update = options.updateBuffers ?? foldBatchStats;
  const buffers = state.buffers.size === 0 ? new Map<string, tf.Tensor>() : update(state.buffers, batchStats, options.bnMomentum ?? 0.1);
  for (const g of grads.values()) g.dispose();
  for (const s of batchStats.values()) s.dispose();
  return { state: { params, buffers }, loss, correct };
}

/** One SGD/Adam step on one batch. */
export function trainStep<C>(
  arch: Architecture<C>,
  config: C,
  state: ModelState,
  batch: Batch,
  optimizer: Optimizer,
  lr: number,
  options: TrainStepOptions = {},
): TrainStepResult {
  return applyGradients(state, lossAndGradients(arch, config, state, batch), optimizer, lr, options);
}
