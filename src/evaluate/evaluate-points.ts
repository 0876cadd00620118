/**
 * Evaluation of a list of independent points, in this thread or on a worker pool, with results
 * in the list's order whatever order they finish in.
 *
 * The points are generated lazily, at most `concurrency` alive at once: the parent makes point
 * i + N while the workers evaluate points i … i + N − 1, and frees each point once it is evaluated.
 * With one worker (the default) this is the plain loop make → evaluate → free.
 */
import { disposeTensors } from '../models/tensor-map.js';
import type { Architecture, ModelState } from '../models/types.js';
import { createEvaluator, type EvaluationData, type EvaluatorOptions, type SplitMetrics } from './evaluate.js';
import { checkWorkerCount, createEvaluatorPool, type GridEvaluator, type PoolOptions } from './worker-pool.js';

/**
 * An evaluator in this thread (`workers` 1, the default) or a pool of `workers` threads, never
 * more threads than `points` when given. Call `close()` when done.
 */
export async function openEvaluator<Config>(
  architecture: Architecture<Config>,
  config: Config,
  data: EvaluationData,
  options: EvaluatorOptions & PoolOptions & { readonly points?: number } = {},
): Promise<GridEvaluator> {
  const workers = Math.min(checkWorkerCount(options.workers ?? 1), Math.max(1, options.points ?? Infinity));
  if (workers > 1) return createEvaluatorPool(architecture, config, data, { ...options, workers });
  const evaluator = createEvaluator(architecture, config, data, options);
  return {
    splits: evaluator.splits,
    bnReset: evaluator.bnReset,
    concurrency: 1,
    evaluate: (state, splits) => evaluator.evaluate(state, splits),
    close: () => Promise.resolve(evaluator.dispose()),
  };
}

/**
 * Metrics of `pointAt(items[i], i)` for every item, in item order. Each point is freed once it is
 * evaluated. `onDone(i)` is called as point i finishes (in finishing order). The first error stops
 * further points and is thrown once the points in flight have settled (none is left unfreed).
 */
export async function evaluatePoints<T>(
  evaluator: GridEvaluator,
  items: readonly T[],
  pointAt: (item: T, index: number) => ModelState,
  onDone?: (index: number) => void,
): Promise<SplitMetrics[]> {
  const results: SplitMetrics[] = [];
  const inFlight = new Set<Promise<void>>();
  let failed = false;
  let failure: unknown;
  const fail = (error: unknown): void => {
    if (!failed) [failed, failure] = [true, error];
  };
  for (const [index, item] of items.entries()) {
    while (inFlight.size >= evaluator.concurrency) await Promise.race(inFlight);
    if (failed) break;
    let state: ModelState;
    try {
      state = pointAt(item, index);
    } catch (error) {
      fail(error);
      break;
    }
    // Never rejects: the first error is kept and thrown after every point in flight has settled.
    const task: Promise<void> = evaluator
      .evaluate(state)
      .then((metrics) => {
        results[index] = metrics;
        onDone?.(index);
      })
      .catch(fail)
      .finally(() => {
        disposeTensors(state);
        inFlight.delete(task);
      });
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  if (failed) throw failure;
  return results;
}
