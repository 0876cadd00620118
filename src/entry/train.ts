/**
 * `mode-connectivity/train`: training independent modes (resumable, checkpointed), and its parts:
 * optimizers, learning-rate schedules, the loss, one training step, and the seeded random source.
 *
 * @module mode-connectivity/train
 */
export { createOptimizer, type Optimizer, type OptimizerConfig } from '../train/optimizer.js';
export { learningRateAt, parseSchedule, SCHEDULE_KINDS, type Schedule } from '../train/schedule.js';
export { crossEntropy, crossEntropySum, correctCount } from '../train/loss.js';
export { trainStep, lossAndGradients, foldBatchStats, type TrainStepOptions, type TrainStepResult, type LossAndGradients } from '../train/step.js';
export {
  trainMode,
  loadTrainingData,
  validateTrainOptions,
  checkpointPath,
  type TrainModeOptions,
  type TrainModeResult,
  type EpochMetrics,
  type TrainingData,
} from '../train/train-mode.js';
export { createGradientPool, resolveWorkers, type GradientPool, type PoolBatch, type PoolTask, type GradientPoolData, type GradientPoolOptions, type WorkerCount } from '../train/gradient-pool.js';
export { createRandom, permutation, uniformArray, normalArray, type Random } from '../util/random.js';
