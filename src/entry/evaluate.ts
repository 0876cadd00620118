/**
 * `mode-connectivity/evaluate`: the evaluation service every analysis uses — evaluation data,
 * the evaluator (loss and accuracy of one parameter point, BatchNorm re-estimated), points of a
 * path on a grid, and the worker pool that evaluates points in parallel.
 *
 * @module mode-connectivity/evaluate
 */
export { createEvaluationData, disposeEvaluationData, type EvaluationDataOptions } from '../evaluate/evaluation-data.js';
export { createEvaluator, type Batch, type EvaluationData, type Evaluator, type EvaluatorOptions, type PointMetrics, type SplitMetrics } from '../evaluate/evaluate.js';
export { reestimateBatchNorm, type BnResetOptions } from '../evaluate/bn-reset.js';
export { evaluatePoints, openEvaluator } from '../evaluate/evaluate-points.js';
export { autoWorkerCount, createEvaluatorPool, type GridEvaluator, type PoolOptions } from '../evaluate/worker-pool.js';
export { evaluatePath, uniformGrid, type EvaluatePathOptions, type GridOptions } from '../paths/linear-path.js';
export type { Progress, ProgressEvent } from '../progress.js';
