/**
 * Layer robustness to random directions versus the interpolation direction (Adilova et al., ICLR
 * 2024, "Layer-wise linear mode connectivity", §5): move layer group l of A by t·d,
 *
 *   θ(t) = θ_A with θ^l = θ_A^l + t·d,   d ∈ { θ_B^l − θ_A^l,  g·‖θ_B^l − θ_A^l‖/‖g‖ with g ~ N(0, I) }
 *
 * at the same t grid for both, so a random direction has the same length as the interpolation
 * direction. Their finding: random directions barely change the loss where the interpolation
 * direction raises it — the interpolation direction is special.
 *
 * Directions act on the group's trainable parameters only; BatchNorm buffers stay A's and are
 * re-estimated at every point when BN reset is on (a random direction on running variances would
 * make them negative).
 */
import * as tf from '@tensorflow/tfjs-core';
import { disposeTensors, mapTensors } from '../models/tensor-map.js';
import type { Architecture, Model, ModelState } from '../models/types.js';
import { createRandom, normalArray } from '../util/random.js';
import type { EvaluationData, EvaluatorOptions, SplitMetrics } from '../evaluate/evaluate.js';
import { evaluatePoints, openEvaluator } from '../evaluate/evaluate-points.js';
import { gridOf, type GridOptions } from '../paths/linear-path.js';
import { throwIfAborted, type Progress } from '../progress.js';
import { prepareEndpoints } from './layerwise.js';
import type { RobustnessRow } from '../rows/rows.js';
import type { PoolOptions } from '../evaluate/worker-pool.js';

export interface RobustnessOptions extends GridOptions, EvaluatorOptions, PoolOptions {
  readonly architecture?: Architecture<unknown>;
  /** Layer groups to probe (default all). */
  readonly layers?: readonly string[];
  /** Random directions per layer (default 5). */
  readonly samples?: number;
  /** Seed of the random directions (default 0); direction s of layer l is the same for any other options. */
  readonly seed?: number;
  readonly progress?: Progress;
  /** Checked before each point: once aborted, no further point starts and an AbortError is thrown. */
  readonly signal?: AbortSignal;
}

/**
 * A Gaussian direction over the named tensors, scaled to total norm `norm`; seeded per
 * (seed, layer, sample). The caller disposes the returned tensors.
 */
export function randomDirection(
  shapes: ReadonlyMap<string, readonly number[]>,
  norm: number,
  seed: number,
  layer: string,
  sample: number,
): Map<string, tf.Tensor> {
  const random = createRandom(seed).fork(`robustness:${layer}`).fork(sample);
  const arrays = new Map<string, Float32Array>();
  let squared = 0;
  for (const [name, shape] of shapes) {
    const values = normalArray(shape.reduce((p, q) => p * q, 1), 0, 1, random);
    for (const v of values) squared += v * v;
    arrays.set(name, values);
  }
  const scale = squared > 0 ? norm / Math.sqrt(squared) : 0;
  const out = new Map<string, tf.Tensor>();
  for (const [name, values] of arrays) {
    for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) * scale;
    out.set(name, tf.tensor(values, [...(shapes.get(name) as readonly number[])], 'float32'));
  }
  return out;
}

/** Σ‖x‖² over the map (float64 sum of per-tensor float32 sums; the scalars are freed). */
function sumOfSquares(map: ReadonlyMap<string, tf.Tensor>): number {
  let total = 0;
  for (const tensor of map.values()) {
    const s = tf.tidy(() => tf.sum(tf.square(tensor)));
    total += s.dataSync()[0] as number;
    s.dispose();
  }
  return total;
}

/**
 * Loss and accuracy when one layer group of A moves along the interpolation direction and along
 * `samples` random directions of the same norm, on the t grid (11 points by default). Stopped by
 * `options.signal`, it throws an AbortError once the points in flight have settled (no partial
 * rows; workers terminated).
 */
export async function layerRobustness(a: Model, b: Model, data: EvaluationData, options: RobustnessOptions = {}): Promise<RobustnessRow[]> {
  const pair = prepareEndpoints(a, b, options.architecture);
  const ts = gridOf(options);
  const samples = options.samples ?? 5;
  if (!Number.isInteger(samples) || samples < 0) throw new Error(`robustness: samples must be an integer ≥ 0, found ${samples}`);
  const seed = options.seed ?? 0;
  const groups = options.layers === undefined
    ? pair.spec.layers
    : options.layers.map((name) => {
        const g = pair.spec.layers.find((l) => l.name === name);
        if (g === undefined) throw new Error(`robustness: unknown layer group "${name}"; the model has ${pair.spec.layers.map((l) => l.name).join(', ')}`);
        return g;
      });
  const rows: RobustnessRow[] = [];
  const total = groups.length * (samples + 1) * ts.length;
  let done = 0;
  let atA: SplitMetrics | undefined;
  try {
    throwIfAborted(options.signal, 'layerRobustness');
    const evaluator = await openEvaluator(pair.architecture, pair.config, data, options);
    try {
      for (const group of groups) {
        throwIfAborted(options.signal, 'layerRobustness');
        const delta = new Map(group.params.map((name) => [name, pair.delta.params.get(name) as tf.Tensor]));
        const norm = Math.sqrt(sumOfSquares(delta));
        const shapes = new Map(group.params.map((name) => [name, delta.get(name)!.shape]));
        // The interpolation direction (sample −1) and the random ones, all points of the layer at once.
        const directions = [delta, ...Array.from({ length: samples }, (_, sample) => randomDirection(shapes, norm, seed, group.name, sample))];
        const label = (sample: number, t: number) => `robustness ${group.name} ${sample < 0 ? 'interpolation' : `random ${sample}`} t=${t.toFixed(3)}`;
        try {
          const cells = directions.flatMap((direction, d) => ts.map((t) => ({ direction, sample: d - 1, t })));
          // θ_A itself (t = 0) is evaluated once for the whole analysis.
          const todo = cells.filter((c) => c.t !== 0 || (atA === undefined && c === cells.find((x) => x.t === 0)));
          const metrics = await evaluatePoints(
            evaluator,
            todo,
            ({ direction, t }): ModelState => {
              throwIfAborted(options.signal, 'layerRobustness');
              return {
                params: mapTensors(pair.a.params, (x, name) => {
                  const d = direction.get(name);
                  return d === undefined || t === 0 ? x.clone() : tf.tidy(() => tf.add(x, tf.mul(d, t)));
                }),
                buffers: mapTensors(pair.a.buffers, (x) => x.clone()),
              };
            },
            (i) => options.progress?.({ task: 'grid', step: ++done, total, message: label(todo[i]!.sample, todo[i]!.t) }),
          );
          const byCell = new Map(todo.map((c, i) => [c, metrics[i] as SplitMetrics]));
          for (const cell of cells) {
            const own = byCell.get(cell);
            if (own !== undefined && cell.t === 0) atA = own;
            if (own === undefined) options.progress?.({ task: 'grid', step: ++done, total, message: label(cell.sample, cell.t) });
            const m = own ?? atA;
            if (m === undefined) throw new Error(`robustness: no metrics for ${label(cell.sample, cell.t)}`);
            for (const split of evaluator.splits) {
              const r = m[split];
              if (r === undefined) continue;
              rows.push({ layer: group.name, direction: cell.sample < 0 ? 'interpolation' : 'random', sample: Math.max(cell.sample, 0), t: cell.t, split, loss: r.loss, accuracy: r.accuracy });
            }
          }
        } finally {
          for (const direction of directions.slice(1)) disposeTensors(direction);
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
