/**
 * `mode-connectivity/averaging`: averaging models with variance correction (Tian et al. 2024)
 * and the per-tensor variance helpers it is built from.
 *
 * @module mode-connectivity/averaging
 */
export {
  averageModels,
  projectToVariance,
  tensorVariances,
  tensorKinds,
  VARIANCE_CORRECTIONS,
  VARIANCE_EPSILON,
  type VarianceCorrection,
  type AverageModelsOptions,
  type AverageModelsResult,
} from '../averaging/variance-correction.js';
export { averageModelList, type AverageModelListResult } from '../averaging/average-models.js';
