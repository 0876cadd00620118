/**
 * Git Re-Basin weight matching (Ainsworth, Hayase, Srinivasa 2023, "Git Re-Basin: Merging Models
 * modulo Permutation Symmetries", Algorithm 1): find permutations π of B's hidden units that
 * maximize the alignment Σ_tensors ⟨W_A, π(W_B)⟩.
 *
 * Coordinate descent: in a seeded random order, for each P_l with the others fixed, build
 *
 *   S_l = Σ_{axes (W, d) of P_l} W_A^(d) · (π_{−l}(W_B)^(d))ᵀ      (n_l × n_l)
 *
 * where X^(d) moves axis d (in its blocks) to the front and flattens the rest, and π_{−l} applies
 * every permutation except P_l. P_l ← argmax_σ Σ_i S_l[i, σ(i)] (linear assignment). Stop after a
 * sweep with no improvement, or after `maxIterations` sweeps. Only parameters enter the objective;
 * `applyPermutation` then moves BatchNorm buffers with their conv.
 *
 * Activation matching solves the same assignment on the correlation of A's and B's activations over
 * data (see activation-matching.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelState } from '../models/types.js';
import { createRandom, permutation } from '../util/random.js';
import type { Progress } from '../progress.js';
import { assignmentScore, linearSumAssignment } from './lsap.js';
import { axesByTensor, checkPermutationSpec, permuteTensor, type PermutationSpec, type PermutedAxis, type Permutations } from './permutation-spec.js';

export interface WeightMatchingOptions {
  /** Seed of the random order of the coordinate-descent updates (default 0). */
  readonly seed?: number;
  /** Maximum number of sweeps over all permutations (default 100). */
  readonly maxIterations?: number;
  /** Called after every sweep with (sweep, maxIterations, label). */
  /** Called after each sweep (task `weight-matching`; total is the sweep limit). */
  readonly progress?: Progress;
}

export interface WeightMatchingResult {
  /** Permutations to apply to B (`applyPermutation(b, spec, perms)`) to align it to A. */
  readonly perms: Map<string, Int32Array>;
  /** Sweeps run (the last one made no improvement unless maxIterations was reached). */
  readonly iterations: number;
  /** Final alignment Σ ⟨W_A, π(W_B)⟩ over the parameters the spec touches. */
  readonly objective: number;
}

/** X with axis `axis` (blocks of `stride`, group size n) moved to the front: [n, rest]. */
export function unitsMatrix(x: tf.Tensor, axis: PermutedAxis, n: number): tf.Tensor2D {
  return tf.tidy(() => {
    const shape = x.shape;
    const stride = axis.stride ?? 1;
    const pre = shape.slice(0, axis.axis).reduce((a, b) => a * b, 1);
    const post = shape.slice(axis.axis + 1).reduce((a, b) => a * b, 1);
    const outer = (shape[axis.axis] as number) / (n * stride);
    const r = tf.reshape(x, [pre, outer, n, stride, post]);
    return tf.reshape(tf.transpose(r, [2, 0, 1, 3, 4]), [n, -1]);
  });
}

/**
 * Permutations aligning B to A by weight matching.
 *
 * @example
 * const spec = permutationSpecFor('lenet5', lenet5.spec(config));
 * const { perms } = weightMatching(a, b, spec, { seed: 1 });
 * const aligned = applyPermutation(b, spec, perms);
 */
export function weightMatching(a: ModelState, b: ModelState, spec: PermutationSpec, options: WeightMatchingOptions = {}): WeightMatchingResult {
  const maxIterations = options.maxIterations ?? 100;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new Error(`weightMatching: maxIterations must be a positive integer, found ${maxIterations}`);
  checkPermutationSpec(spec, new Map([...a.params, ...a.buffers]));
  checkPermutationSpec(spec, new Map([...b.params, ...b.buffers]));
  const entries = axesByTensor(spec);
  const perms = new Map<string, Int32Array>(spec.groups.map((g) => [g.name, Int32Array.from({ length: g.size }, (_, i) => i)]));
  const random = createRandom(options.seed ?? 0);
  let iterations = 0;
  const scoreMatrix = (groupIndex: number): Float64Array => {
    const group = spec.groups[groupIndex] as (typeof spec.groups)[number];
    const s = tf.tidy(() => {
      let total: tf.Tensor2D = tf.zeros([group.size, group.size]);
      for (const axis of group.axes) {
        const wa = a.params.get(axis.tensor);
        const wb = b.params.get(axis.tensor);
        if (wa === undefined || wb === undefined) continue; // buffers are not in the objective
        const pb = permuteTensor(wb, entries.get(axis.tensor) ?? [], perms, group.name);
        total = tf.add(total, tf.matMul(unitsMatrix(wa, axis, group.size), unitsMatrix(pb, axis, group.size), false, true));
      }
      return total;
    });
    const values = Float64Array.from(s.dataSync());
    s.dispose();
    return values;
  };
  for (let sweep = 0; sweep < maxIterations; sweep++) {
    iterations = sweep + 1;
    let improved = false;
    for (const g of permutation(spec.groups.length, random)) {
      const group = spec.groups[g] as (typeof spec.groups)[number];
      const s = scoreMatrix(g);
      const old = perms.get(group.name) as Int32Array;
      const next = linearSumAssignment(s, group.size);
      const oldScore = assignmentScore(s, group.size, old);
      const newScore = assignmentScore(s, group.size, next);
      if (newScore > oldScore + 1e-9 * Math.max(1, Math.abs(oldScore))) {
        improved = true;
        perms.set(group.name, next);
      }
    }
    options.progress?.({ task: 'weight-matching', step: iterations, total: maxIterations, message: 'weight matching' });
    if (!improved) break;
  }
  return { perms, iterations, objective: alignment(a, b, spec, perms) };
}

/** Σ ⟨W_A, π(W_B)⟩ over the parameters that any permutation of the spec touches. */
export function alignment(a: ModelState, b: ModelState, spec: PermutationSpec, perms: Permutations): number {
  const entries = axesByTensor(spec);
  let total = 0;
  for (const [name, list] of entries) {
    const wa = a.params.get(name);
    const wb = b.params.get(name);
    if (wa === undefined || wb === undefined) continue;
    const pb = permuteTensor(wb, list, perms);
    const dot = tf.tidy(() => tf.sum(tf.mul(wa, pb)));
    total += dot.dataSync()[0] as number;
    tf.dispose([dot, pb]);
  }
  return total;
}
