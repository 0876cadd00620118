/**
 * `mode-connectivity/barriers`: barrier analyses between two modes — barrier metrics of a path,
 * single-layer and cumulative interpolation, robustness to random directions, training-subspace
 * directions — and the row types they produce.
 *
 * @module mode-connectivity/barriers
 */
export type * from '../rows/rows.js';
export { barrierMetrics, trapezoid, type BarrierMetrics } from '../barriers/metrics.js';
export {
  layerwiseBarriers,
  layerwiseBarriersByEpoch,
  cumulativeBarriers,
  layerOrder,
  type LayerwiseOptions,
  type LayerwiseByEpochOptions,
  type CumulativeOptions,
  type LayerOrder,
} from '../barriers/layerwise.js';
export { layerRobustness, randomDirection, type RobustnessOptions } from '../barriers/robustness.js';
export { subspacePerturbations, trainingSubspace, type SubspaceOptions, type TrainingSubspace } from '../barriers/subspace.js';
