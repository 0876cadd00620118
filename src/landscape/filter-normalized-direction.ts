/**
 * Filter-normalized random directions (Li et al. 2018, "Visualizing the Loss Landscape of Neural
 * Nets", NeurIPS, §4): draw d ~ N(0, I) shaped like θ, then for every filter j of every weight
 * tensor i rescale
 *
 *   d_ij ← d_ij · ‖θ_ij‖ / (‖d_ij‖ + 1e-10)
 *
 * so that every filter of the direction has the norm of the model's filter and scale differences
 * between layers do not distort the picture. In this toolkit's layouts (conv kernels HWIO, dense
 * kernels [in, out]) a filter is one slice along the LAST axis: an output channel or unit.
 * Tensors of rank ≤ 1 (biases, BatchNorm/LayerNorm γ and β: TensorSpec kinds `bias`,
 * `norm-scale`, `norm-shift`) are zeroed (`biasBn: 'ignore'`, their `--xignore biasbn`) or copied
 * from θ (`'keep'`, what their code does without that flag). BatchNorm running statistics are
 * never part of the direction (their "weights" versus "states").
 *
 * Seeded per (seed, direction, tensor name): a tensor's values do not depend on the others.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec, ModelState } from '../models/types.js';
import { createRandom, normalArray } from '../util/random.js';

export type BiasBnHandling = 'ignore' | 'keep';

export interface FilterNormalizedOptions {
  /** Seed of the Gaussian draw (default 0). */
  readonly seed?: number;
  /** Index of the direction, for independent directions from one seed (default 0). */
  readonly direction?: number;
  /** Rank ≤ 1 tensors: zeroed (`ignore`, default) or copied from θ (`keep`). */
  readonly biasBn?: BiasBnHandling;
}

/**
 * A filter-normalized direction over the model's trainable parameters (formula in the file
 * comment), in `spec.params` order. The caller disposes the returned tensors.
 */
export function filterNormalizedDirection(model: ModelState, spec: ModelSpec, options: FilterNormalizedOptions = {}): Map<string, tf.Tensor> {
  const seed = options.seed ?? 0;
  const direction = options.direction ?? 0;
  const biasBn = options.biasBn ?? 'ignore';
  if (biasBn !== 'ignore' && biasBn !== 'keep') throw new Error(`filterNormalizedDirection: biasBn must be "ignore" or "keep", found "${String(biasBn)}"`);
  const out = new Map<string, tf.Tensor>();
  try {
    for (const t of spec.params) {
      const theta = model.params.get(t.name);
      if (theta === undefined) throw new Error(`filterNormalizedDirection: tensor "${t.name}" of the spec is missing from the model`);
      if (theta.shape.join('x') !== t.shape.join('x')) {
        throw new Error(`filterNormalizedDirection: tensor "${t.name}" is [${theta.shape.join(', ')}], the spec says [${t.shape.join(', ')}]`);
      }
      if (theta.rank <= 1) {
        out.set(t.name, biasBn === 'keep' ? theta.clone() : tf.zerosLike(theta));
        continue;
      }
      const random = createRandom(seed).fork(`filter-normalized:${direction}:${t.name}`);
      const values = normalArray(theta.size, 0, 1, random);
      out.set(
        t.name,
        tf.tidy(() => {
          const d = tf.tensor(values, [...theta.shape], 'float32');
          const axes = theta.shape.slice(0, -1).map((_, i) => i);
          const thetaNorm = tf.sqrt(tf.sum(tf.square(theta), axes));
          const dNorm = tf.sqrt(tf.sum(tf.square(d), axes));
          return tf.mul(d, tf.div(thetaNorm, tf.add(dNorm, 1e-10)));
        }),
      );
    }
  } catch (error) {
    tf.dispose([...out.values()]);
    throw error;
  }
  return out;
}
