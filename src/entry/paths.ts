/**
 * `mode-connectivity/paths`: paths between modes — the straight line, Bezier/PolyChain curves
 * (and their training), AutoNEB chains, layer-wise path finding (LLPF) — with their saved formats
 * and the batch sources that feed their training.
 *
 * @module mode-connectivity/paths
 */
export type { ParameterPath, PathContent, PathOptions, PathResult } from '../paths/path.js';
export { findLinearPath, linearPath, uniformGrid, assertCompatibleModels } from '../paths/linear-path.js';
export { savePath, loadPath, PATH_FORMAT, PATH_VERSION, PATH_METHODS, type PathMethod, type SavePathOptions } from '../paths/saved-path.js';
export { CURVE_KINDS, parseCurveKind, curveCoefficients, combineBends, createCurve, curveParamsAt, curvePath, disposeCurve, type Curve, type CurveKind, type CreateCurveOptions } from '../paths/curve.js';
export {
  findCurve,
  type FindCurveOptions,
  type CurveInfo,
  trainCurve,
  curveLossAndGradients,
  type CurveLossAndGradients,
  curveTAt,
  bendKey,
  type TrainCurveOptions,
  type TrainCurveResult,
  type CurveTrainingState,
  type CurveEpochRow,
} from '../paths/train-curve.js';
export { saveCurve, loadCurve, CURVE_FORMAT, type SavedCurve } from '../paths/curve-checkpoint.js';
export { tensorBatchSource, splitBatchSource, type BatchSource, type IndexedBatches, type LabeledBatch, type SplitBatchOptions, type TensorBatchOptions } from '../paths/batch-source.js';
export {
  findAutoNebPath,
  type AutoNebInfo,
  autoNeb,
  connectAutoNeb,
  modelNebEnergy,
  nebPath,
  disposeNebChain,
  parseNebCycles,
  DRAXLER_RESNET20_CYCLES,
  type NebEnergy,
  type NebChain,
  type NebCycle,
  type NebCycleRow,
  type NebDensePoint,
  type AutoNebOptions,
  type AutoNebResult,
  type ConnectAutoNebResult,
  type ModelNebData,
} from '../paths/autoneb.js';
export { saveNebChain, loadNebChain, NEB_FORMAT, type NebChainInfo, type SavedNebChain } from '../paths/neb-checkpoint.js';
export { nebTangent, nudgeGradient, redistributeChain, choosePivotInsertions, insertPivots, segmentLengths, type InsertionOptions, type PivotInsertion } from '../paths/neb.js';
export { flatLayout, flattenParams, unflattenParams, type FlatLayout } from '../paths/flat-params.js';
export { findLlpfPath, type LlpfInfo, runLlpf, llpfPath, disposeLlpfRun, defaultLlpfSchedule, defaultLrVarianceScaling, readLlpfRows, type LlpfTarget, type LlpfOptions, type LlpfRun, type LlpfData, type LlpfPoint, type LlpfTrainingOptions } from '../paths/llpf.js';
