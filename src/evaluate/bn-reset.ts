/**
 * BatchNorm re-estimation: after the weights move (interpolation, perturbation, curves), the stored
 * running statistics no longer describe the activations, and evaluating with them shows large fake
 * barriers (Garipov et al. 2018, issue #8 of their code; Jordan et al. 2023, REPAIR). The fix:
 * reset the running statistics and recompute them on training batches in training mode with the
 * cumulative average, momentum m_k = 1/(k+1) at 0-based batch k:
 *
 *   r_0 = s_0,  r_k = (1 − m_k)·r_{k−1} + m_k·s_k  ⇒  r_{K−1} = (1/K) Σ_k s_k
 *
 * where s_k is batch k's mean (for `running_mean`) or unbiased variance (for `running_var`). In
 * training mode BatchNorm normalizes with the batch statistics, so s_k does not depend on the
 * running statistics, and the recursion equals the plain mean of the per-batch statistics — which
 * is what is computed here (PyTorch's `momentum=None`). Every batch counts equally, as in the
 * recursion; use batches of equal size.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture, ModelState } from '../models/types.js';
import type { Batch } from './evaluate.js';

export interface BnResetOptions {
  /** Re-estimate BatchNorm statistics at every evaluated point (default true; no-op for models without buffers). */
  readonly bnReset?: boolean;
  /** Use only the first `bnBatchCount` batches of `bnBatches` (default: all of them). */
  readonly bnBatchCount?: number;
}

/**
 * Re-estimated BatchNorm buffers for `state`: the mean over `batches` of each batch's statistics
 * in training mode. Returns new buffers in the order of `state.buffers`; the caller owns them.
 * `state` is not modified.
 */
export function reestimateBatchNorm<Config>(
  architecture: Architecture<Config>,
  config: Config,
  state: ModelState,
  batches: readonly Pick<Batch, 'x'>[],
  options: Pick<BnResetOptions, 'bnBatchCount'> = {},
): Map<string, tf.Tensor> {
  const count = Math.min(options.bnBatchCount ?? batches.length, batches.length);
  if (options.bnBatchCount !== undefined && (!Number.isInteger(options.bnBatchCount) || options.bnBatchCount < 1)) {
    throw new Error(`BN re-estimation: bnBatchCount must be a positive integer, found ${options.bnBatchCount}`);
  }
  if (state.buffers.size === 0) return new Map();
  if (count === 0) throw new Error(`BN re-estimation (${architecture.name}): no training batches given`);
  const sums = new Map<string, tf.Tensor>();
  try {
    for (let k = 0; k < count; k++) {
      const batch = batches[k] as Pick<Batch, 'x'>;
      tf.tidy(() => {
        const { batchStats } = architecture.apply(config, state, batch.x, { training: true });
        for (const [name, buffer] of state.buffers) {
          const stat = batchStats.get(name);
          if (stat === undefined) {
            throw new Error(`BN re-estimation (${architecture.name}): training-mode apply returned no batch statistic for buffer "${name}"`);
          }
          if (stat.shape.join('x') !== buffer.shape.join('x')) {
            throw new Error(`BN re-estimation (${architecture.name}): batch statistic "${name}" has shape [${stat.shape.join(', ')}], buffer has [${buffer.shape.join(', ')}]`);
          }
          const previous = sums.get(name);
          sums.set(name, tf.keep(previous === undefined ? tf.clone(stat) : tf.add(previous, stat)));
          previous?.dispose();
        }
        // Batch statistics are the caller's to free, whether or not apply created them inside a tidy.
        tf.dispose([...batchStats.values()]);
      });
    }
    const out = new Map<string, tf.Tensor>();
    for (const name of state.buffers.keys()) {
      const sum = sums.get(name) as tf.Tensor;
      out.set(name, tf.tidy(() => tf.div(sum, count)));
    }
    return out;
  } finally {
    tf.dispose([...sums.values()]);
  }
}
