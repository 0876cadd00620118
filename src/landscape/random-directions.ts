/**
 * Loss landscapes along filter-normalized random directions around one model (Li et al. 2018,
 * "Visualizing the Loss Landscape of Neural Nets", NeurIPS):
 *
 *   1-D: f(α) = L(θ + α·d),   2-D: f(α, β) = L(θ + α·d + β·e)
 *
 * with d, e independent filter-normalized directions (filter-normalized-direction.ts) and α, β on
 * an even grid over `range` (default [−1, 1], 21 points per axis). BatchNorm running statistics
 * are the model's at every point and re-estimated by the evaluator (`bnReset`, default on for BN
 * models). α = β = 0 is an exact copy of θ, so f(0) is the model's own loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import { cloneTensors, disposeTensors, mapTensors } from '../models/tensor-map.js';
import type { Architecture, Model, ModelState } from '../models/types.js';
import type { EvaluationData, EvaluatorOptions } from '../evaluate/evaluate.js';
import { evaluatePoints, openEvaluator } from '../evaluate/evaluate-points.js';
import type { PoolOptions } from '../evaluate/worker-pool.js';
import { throwIfAborted, type Progress } from '../progress.js';
import { filterNormalizedDirection, type BiasBnHandling } from './filter-normalized-direction.js';
import type { DirectionRow } from './rows.js';

export interface RandomDirectionsOptions extends EvaluatorOptions, PoolOptions {
  /** 1 (a line) or 2 (a plane); default 2. */
  readonly dimensions?: 1 | 2;
  /** Interval of α (and β); default [−1, 1]. */
  readonly range?: readonly [number, number];
  /** Grid points per axis, ≥ 2; default 21. */
  readonly points?: number;
  /** Seed of the directions (default 0): d is direction 0, e direction 1. */
  readonly seed?: number;
  /** Rank ≤ 1 tensors of the directions: zeroed (`ignore`, default) or copied from θ (`keep`). */
  readonly biasBn?: BiasBnHandling;
  readonly progress?: Progress;
  /** Checked before each point: once aborted, no further point starts and an AbortError is thrown. */
  readonly signal?: AbortSignal;
}

/** `points` evenly spaced values from lo to hi inclusive, 0 exact when it is a grid point. */
export function axisGrid(lo: number, hi: number, points: number, where: string): number[] {
  if (!Number.isInteger(points) || points < 2) throw new Error(`${where}: points must be an integer ≥ 2, found ${points}`);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) throw new Error(`${where}: expected a finite range lo < hi, found [${lo}, ${hi}]`);
  return Array.from({ length: points }, (_, i) => {
    const x = i === points - 1 ? hi : lo + ((hi - lo) * i) / (points - 1);
    return Math.abs(x) < 1e-12 * (hi - lo) ? 0 : x;
  });
}

/**
 * Loss and accuracy on the α (× β) grid, rows β-major then α, splits in the evaluator's order.
 * With `workers` > 1 the points are evaluated on worker threads; the rows are the same. Stopped
 * by `options.signal`, it throws an AbortError once the points in flight have settled (no partial
 * rows; workers terminated).
 */
export async function evaluateRandomDirections<Config>(
  architecture: Architecture<Config>,
  model: Model<Config>,
  data: EvaluationData,
  options: RandomDirectionsOptions = {},
): Promise<DirectionRow[]> {
  const dimensions = options.dimensions ?? 2;
  if (dimensions !== 1 && dimensions !== 2) throw new Error(`evaluateRandomDirections: dimensions must be 1 or 2, found ${String(dimensions)}`);
  const [lo, hi] = options.range ?? [-1, 1];
  const axis = axisGrid(lo, hi, options.points ?? 21, 'evaluateRandomDirections');
  const grid: [number, number][] = dimensions === 1 ? axis.map((a) => [a, 0]) : axis.flatMap((b) => axis.map((a): [number, number] => [a, b]));
  const spec = architecture.spec(model.config);
  throwIfAborted(options.signal, 'evaluateRandomDirections');
  const common = { seed: options.seed ?? 0, biasBn: options.biasBn ?? 'ignore' } as const;
  const d = filterNormalizedDirection(model, spec, { ...common, direction: 0 });
  const e = dimensions === 2 ? filterNormalizedDirection(model, spec, { ...common, direction: 1 }) : undefined;
  try {
    const evaluator = await openEvaluator(architecture, model.config, data, { ...options, points: grid.length });
    try {
      let done = 0;
      const pointAt = ([alpha, beta]: [number, number]): ModelState => {
        throwIfAborted(options.signal, 'evaluateRandomDirections');
        return {
          params: mapTensors(model.params, (theta, name) =>
            tf.tidy(() => {
              let out = theta.clone();
              if (alpha !== 0) out = tf.add(out, tf.mul(d.get(name) as tf.Tensor, alpha));
              if (beta !== 0 && e !== undefined) out = tf.add(out, tf.mul(e.get(name) as tf.Tensor, beta));
              return out;
            }),
          ),
          buffers: cloneTensors(model.buffers),
        };
      };
      const metrics = await evaluatePoints(evaluator, grid, pointAt, (i) => {
        const [alpha, beta] = grid[i] as [number, number];
        options.progress?.({ task: 'directions', step: ++done, total: grid.length, message: dimensions === 1 ? `α=${alpha.toFixed(3)}` : `α=${alpha.toFixed(3)} β=${beta.toFixed(3)}`, metrics: { alpha, beta } });
      });
      return grid.flatMap(([alpha, beta], i) =>
        evaluator.splits.flatMap((split) => {
          const m = metrics[i]?.[split];
          if (m === undefined) return [];
          return [dimensions === 1 ? { alpha, split, loss: m.loss, accuracy: m.accuracy } : { alpha, beta, split, loss: m.loss, accuracy: m.accuracy }];
        }),
      );
    } finally {
      await evaluator.close();
    }
  } finally {
    disposeTensors(d, e);
  }
}
