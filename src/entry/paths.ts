/**
 * `mode-connectivity/paths`: paths between modes — the straight line, Bezier/PolyChain curves
 * (and their training), AutoNEB chains, layer-wise path finding (LLPF) — with their saved formats
 * and the batch sources that feed their training.
 *
 * @module mode-connectivity/paths
 */
export type { ParameterPath } from '../paths/path.js';
export { linearPath, uniformGrid, assertCompatibleModels } from '../paths/linear-path.js';
export { CURVE_KINDS, parseCurveKind, curveCoefficients, combineBends, createCurve, curveParamsAt, curvePath, disposeCurve, type Curve, type CurveKind, type CreateCurveOptions } from '../paths/curve.js';
export {
  trainCurve,
  curveLossAndGradients,
  type CurveLossAndGradients,
  curveTAt,
  bendKey,
  type TrainCurveOptions,
  type TrainCurveResult,
  type CurveTrainingState,
  type CurveTrainingProgress,
  type CurveEpochRow,
} from '../paths/train-curve.js';
export { saveCurve, loadCurve, CURVE_FORMAT, type SavedCurve } from '../paths/curve-checkpoint.js';
export { tensorBatchSource, splitBatchSource, type BatchSource, type LabeledBatch, type SplitBatchOptions, type TensorBatchOptions } from '../paths/batch-source.js';
export {
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
  type NebProgress,
  type AutoNebOptions,
  type AutoNebResult,
  type ConnectAutoNebResult,
  type ModelNebData,
} from '../paths/autoneb.js';
export { saveNebChain, loadNebChain, NEB_FORMAT, type NebChainInfo, type SavedNebChain } from '../paths/neb-checkpoint.js';
export { nebTangent, nudgeGradient, redistributeChain, choosePivotInsertions, insertPivots, segmentLengths, type InsertionOptions, type PivotInsertion } from '../paths/neb.js';
export { flatLayout, flattenParams, unflattenParams, type FlatLayout } from '../paths/flat-params.js';
export { runLlpf, llpfPath, disposeLlpfRun, defaultLlpfSchedule, defaultLrVarianceScaling, readLlpfRows, type LlpfTarget, type LlpfOptions, type LlpfRun, type LlpfData, type LlpfPoint, type LlpfProgress, type LlpfTrainingOptions } from '../paths/llpf.js';
