/**
 * Evaluation of one point in parameter space on preloaded data: mean cross-entropy and accuracy
 * per split, with BatchNorm statistics re-estimated first (see bn-reset.ts).
 *
 * The data batches are converted to tensors once by the caller (`EvaluationData`) and reused for
 * every point of a path; the only per-point work is what depends on the point: BN re-estimation
 * and the forward passes. Label indices for the loss are precomputed once per evaluator.
 *
 *   L(θ) = −(1/N) Σ_n log softmax(f(θ, x_n))[y_n],  accuracy = (1/N) Σ_n [argmax f(θ, x_n) = y_n]
 *
 * log softmax is computed stably as z − max z − log Σ exp(z − max z) (tf.logSoftmax). A NaN loss
 * (diverged point) is reported as NaN, never dropped.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture, ModelState } from '../models/types.js';
import type { Split } from '../rows/rows.js';
import { reestimateBatchNorm, type BnResetOptions } from './bn-reset.js';

/** One batch: images [N, H, W, C] float32 and labels, either class indices [N] or one-hot [N, K]. */
export interface Batch {
  readonly x: tf.Tensor4D;
  readonly y: tf.Tensor1D | tf.Tensor2D;
}

/** Data loaded once and reused for every evaluated point. The caller owns and disposes it. */
export interface EvaluationData {
  readonly train?: readonly Batch[];
  readonly test?: readonly Batch[];
  /** Training batches used for BatchNorm re-estimation (a fixed set, the same at every point). */
  readonly bnBatches: readonly Batch[];
}

/** Loss and accuracy of one point on one split. */
export interface PointMetrics {
  /** Mean cross-entropy in nats; NaN if any example's loss is NaN. */
  readonly loss: number;
  /** Fraction of correctly classified examples, 0..1. */
  readonly accuracy: number;
  /** Number of examples evaluated. */
  readonly count: number;
}

export type SplitMetrics = Partial<Record<Split, PointMetrics>>;

export interface EvaluatorOptions extends BnResetOptions {
  /** Splits to evaluate by default (default: every split present in the data, train first). */
  readonly splits?: readonly Split[];
}

/** Evaluates model states of one architecture on preloaded data. */
export interface Evaluator {
  /** Splits evaluated by default. */
  readonly splits: readonly Split[];
  /** Whether BatchNorm statistics are re-estimated before each evaluation. */
  readonly bnReset: boolean;
  /** Loss and accuracy of `state` (BN buffers re-estimated first when enabled). Does not take ownership of `state`. */
  evaluate(state: ModelState, splits?: readonly Split[]): Promise<SplitMetrics>;
  /** Frees the evaluator's precomputed label tensors (not the data). */
  dispose(): void;
}

interface PreparedBatch {
  readonly x: tf.Tensor4D;
  /** Class indices, int32 [N]. */
  readonly labels: tf.Tensor1D;
  /** n·K + y_n, int32 [N]: positions of the true-class log-probabilities in the flattened [N·K] array. */
  readonly flatIndex: tf.Tensor1D;
  readonly count: number;
}

function prepareBatch(batch: Batch, classes: number, where: string): PreparedBatch {
  const count = batch.x.shape[0];
  if (batch.y.shape[0] !== count) {
    throw new Error(`${where}: ${count} images but ${batch.y.shape[0]} labels (y shape [${batch.y.shape.join(', ')}])`);
  }
  if (batch.y.rank === 2 && batch.y.shape[1] !== classes) {
    throw new Error(`${where}: one-hot labels have ${batch.y.shape[1]} classes, the model has ${classes}`);
  }
  return tf.tidy(() => {
    const labels = (batch.y.rank === 2 ? tf.argMax(batch.y, 1) : tf.cast(batch.y, 'int32')) as tf.Tensor1D;
    const flatIndex = tf.add<tf.Tensor1D>(tf.mul(tf.range(0, count, 1, 'int32'), tf.scalar(classes, 'int32')), labels);
    return { x: batch.x, labels: tf.keep(labels), flatIndex: tf.keep(flatIndex), count };
  });
}

/**
 * Creates an evaluator for `architecture`/`config` on `data`.
 *
 * @example
 * const evaluator = createEvaluator(lenet5, config, { test: batches, bnBatches: [] });
 * const { test } = await evaluator.evaluate(model); // { loss, accuracy, count }
 * evaluator.dispose();
 */
export function createEvaluator<Config>(
  architecture: Architecture<Config>,
  config: Config,
  data: EvaluationData,
  options: EvaluatorOptions = {},
): Evaluator {
  const spec = architecture.spec(config);
  const present = (['train', 'test'] as const).filter((s) => data[s] !== undefined && data[s].length > 0);
  const splits = options.splits ?? present;
  for (const split of splits) {
    if (!present.includes(split)) throw new Error(`evaluate: split "${split}" was requested but the evaluation data has no ${split} batches`);
  }
  const bnReset = (options.bnReset ?? true) && spec.buffers.length > 0;
  if (bnReset && data.bnBatches.length === 0) {
    throw new Error(
      `evaluate: ${architecture.name} has ${spec.buffers.length} BatchNorm buffers, so BN re-estimation needs training batches (bnBatches is empty); pass bnReset: false to evaluate with the stored statistics`,
    );
  }
  const prepared: Partial<Record<Split, PreparedBatch[]>> = {};
  for (const split of present) {
    prepared[split] = (data[split] ?? []).map((batch, i) => prepareBatch(batch, spec.classes, `evaluate: ${split} batch ${i}`));
  }
  let disposed = false;

  async function evaluateSplit(state: ModelState, batches: readonly PreparedBatch[]): Promise<PointMetrics> {
    // One [2] tensor per batch (Σ nll, Σ correct), read in one transfer and summed in float64.
    const perBatch = batches.map((batch) =>
      tf.tidy(() => {
        const { logits } = architecture.apply(config, state, batch.x, { training: false });
        const logProbs = tf.logSoftmax(logits);
        const nll = tf.neg(tf.sum(tf.gather(tf.reshape(logProbs, [-1]), batch.flatIndex)));
        const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), batch.labels), 'float32'));
        return tf.stack([nll, correct]);
      }),
    );
    const stacked = tf.stack(perBatch);
    tf.dispose(perBatch);
    const values = await stacked.data();
    stacked.dispose();
    let nll = 0;
    let correct = 0;
    let count = 0;
    batches.forEach((batch, i) => {
      nll += values[2 * i] as number;
      correct += values[2 * i + 1] as number;
      count += batch.count;
    });
    return { loss: nll / count, accuracy: correct / count, count };
  }

  return {
    splits,
    bnReset,
    async evaluate(state, which = splits) {
      if (disposed) throw new Error('evaluate: this evaluator has been disposed');
      let evalState = state;
      let buffers: Map<string, tf.Tensor> | undefined;
      if (bnReset) {
        buffers = reestimateBatchNorm(architecture, config, state, data.bnBatches, options);
        evalState = { params: state.params, buffers };
      }
      try {
        const out: { -readonly [S in Split]?: PointMetrics } = {};
        for (const split of which) {
          const batches = prepared[split];
          if (batches === undefined) throw new Error(`evaluate: split "${split}" was requested but the evaluation data has no ${split} batches`);
          out[split] = await evaluateSplit(evalState, batches);
        }
        return out;
      } finally {
        if (buffers !== undefined) tf.dispose([...buffers.values()]);
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const batches of Object.values(prepared)) {
        for (const batch of batches) tf.dispose([batch.labels, batch.flatIndex]);
      }
    },
  };
}
