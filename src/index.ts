/**
 * mode-connectivity: the public API. This file only re-exports; each module documents its
 * algorithm and paper. The pipeline of a typical analysis:
 *
 *   1. initBackend            choose the compute backend (tfjs-node-gpu → tfjs-node → wasm → cpu)
 *   2. loadDataset            images and labels (embedded fashion-mnist-small, Fashion-MNIST, MNIST, CIFAR)
 *   3. trainMode / loadCheckpoint   independent modes as parameter maps (native, PyTorch, tfjs)
 *   4. linearPath / createCurve / connectAutoNeb / runLlpf / weightMatching   paths between modes
 *   5. evaluatePath / layerwiseBarriers / …   loss and accuracy along them, BN re-estimated
 *   6. pathChart / layerHeatmap / … / saveChart / writeHtmlReport   figures
 */

// 1. Compute backend
export { initBackend, backendFromEnv, parseBackendName, BACKEND_NAMES, type BackendName, type BackendChoice, type InitBackendOptions } from './backend/init-backend.js';
export { registerWasmGradientKernels, WASM_GRADIENT_KERNELS } from './backend/wasm-gradient-kernels.js';

// 2. Data
export type { ImageSplit, SplitName } from './data/types.js';
export { SPLIT_NAMES } from './data/types.js';
export { DATASET_NAMES, loadDataset, parseDatasetName, type DatasetName, type LoadDatasetOptions } from './data/datasets.js';
export { readIdx, writeIdx, readIdxSplit, writeIdxSplit } from './data/idx.js';
export { readCifarSplit, CIFAR10_FORMAT, CIFAR100_FORMAT } from './data/cifar.js';
export { takeSubset, subsetIndices, selectImages, classCounts } from './data/subset.js';
export {
  DEFAULT_PREPROCESSING,
  computeChannelStats,
  createPreprocessing,
  parsePreprocessing,
  describePreprocessing,
  preprocessedShape,
  type Preprocessing,
  type Normalization,
  type CreatePreprocessingOptions,
} from './data/preprocess.js';
export { batchIndices, toTensors, loadBatches, disposeBatches, type Batch, type BatchIndicesOptions } from './data/batches.js';

// 3. Models, checkpoints, training
export * from './models/types.js';
export { lenet5, type LeNet5Config } from './models/lenet5.js';
export { resnet18, resnet18Widths, type ResNet18Config } from './models/resnet18.js';
export { cct, CCT_PRESETS, type CctConfig, type CctPresetName } from './models/cct.js';
export { ARCHITECTURES, getArchitecture, createModel } from './models/registry.js';
export { updateRunningStats, resetRunningStats, BATCH_NORM_EPSILON, DEFAULT_BATCH_NORM_MOMENTUM, type BatchNormMomentum } from './models/batch-norm.js';
export { disposeTensors, mapTensors, cloneTensors, assertSameLayout, interpolateTensors, squaredNorm, countScalars } from './models/tensor-map.js';
export { readSafetensors, readSafetensorsHeader, writeSafetensors, parseSafetensors, serializeSafetensors, SAFETENSORS_DTYPES, type SafetensorsTensor, type SafetensorsContents, type SafetensorsHeader, type SafetensorsDtype, type SafetensorsTensorToWrite, type ReadSafetensorsOptions } from './checkpoint/safetensors.js';
export { saveCheckpoint, loadCheckpoint, type LoadCheckpointOptions, type LoadedCheckpoint, type CheckpointFileFormat } from './checkpoint/checkpoint.js';
export { CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, type CheckpointInfo, type CheckpointMetadata, type CheckpointMetadataOnDisk, type JsonValue } from './checkpoint/metadata.js';
export { importPyTorchStateDict, loadPyTorchStateDict, exportPyTorchStateDict, savePyTorchStateDict, detectPyTorchArchitecture, inferPyTorchConfig, type ImportPyTorchOptions, type ExportPyTorchOptions, type PyTorchNaming } from './checkpoint/pytorch.js';
export { loadTfjsLayersModel, importTfjsLayersModel, type ImportedTfjsLayersModel, type ImportTfjsLayersOptions } from './checkpoint/tfjs-layers.js';
export { createOptimizer, type Optimizer, type OptimizerConfig } from './train/optimizer.js';
export { learningRateAt, parseSchedule, SCHEDULE_KINDS, type Schedule } from './train/schedule.js';
export { crossEntropy, crossEntropySum, correctCount } from './train/loss.js';
export { trainStep, lossAndGradients, foldBatchStats, type TrainStepOptions, type TrainStepResult, type LossAndGradients } from './train/step.js';
export { trainMode, loadTrainingData, validateTrainOptions, checkpointPath, type TrainModeOptions, type TrainModeResult, type EpochMetrics, type TrainingData } from './train/train-mode.js';
export { createRandom, permutation, uniformArray, normalArray, type Random } from './util/random.js';

// 4. Paths between modes, alignment, averaging
export type { ParameterPath, PathContent, PathOptions, PathResult } from './paths/path.js';
export { savePath, loadPath, PATH_FORMAT, PATH_VERSION, PATH_METHODS, type PathMethod, type SavePathOptions } from './paths/saved-path.js';
export { openAnalysis, type Analysis, type OpenAnalysisOptions, type PreprocessingRequest } from './analysis/open-analysis.js';
export { CURVE_KINDS, parseCurveKind, curveCoefficients, combineBends, createCurve, curveParamsAt, curvePath, disposeCurve, type Curve, type CurveKind, type CreateCurveOptions } from './paths/curve.js';
export { findCurve, trainCurve, curveLossAndGradients, curveTAt, bendKey, type TrainCurveOptions, type TrainCurveResult, type CurveTrainingState, type CurveEpochRow, type FindCurveOptions, type CurveInfo } from './paths/train-curve.js';
export { saveCurve, loadCurve, CURVE_FORMAT, type SavedCurve } from './paths/curve-checkpoint.js';
export { tensorBatchSource, splitBatchSource, type BatchSource, type LabeledBatch } from './paths/batch-source.js';
export { findAutoNebPath, autoNeb, connectAutoNeb, modelNebEnergy, nebPath, disposeNebChain, parseNebCycles, DRAXLER_RESNET20_CYCLES, type NebEnergy, type NebChain, type NebCycle, type NebCycleRow, type NebDensePoint, type AutoNebOptions, type ConnectAutoNebResult, type ModelNebData, type AutoNebInfo } from './paths/autoneb.js';
export { saveNebChain, loadNebChain, NEB_FORMAT, type NebChainInfo, type SavedNebChain } from './paths/neb-checkpoint.js';
export { nebTangent, nudgeGradient, redistributeChain, choosePivotInsertions, insertPivots, segmentLengths } from './paths/neb.js';
export { flatLayout, flattenParams, unflattenParams, type FlatLayout } from './paths/flat-params.js';
export { findLlpfPath, runLlpf, llpfPath, disposeLlpfRun, defaultLlpfSchedule, defaultLrVarianceScaling, readLlpfRows, type LlpfTarget, type LlpfOptions, type LlpfRun, type LlpfData, type LlpfInfo } from './paths/llpf.js';
export { averageModels, projectToVariance, tensorVariances, tensorKinds, VARIANCE_CORRECTIONS, VARIANCE_EPSILON, type VarianceCorrection, type AverageModelsOptions, type AverageModelsResult } from './averaging/variance-correction.js';
export { averageModelList } from './averaging/average-models.js';
export { linearSumAssignment } from './align/lsap.js';
export { applyPermutation, permutationSpecFor, lenet5PermutationSpec, resnet18PermutationSpec, invertPermutation, type PermutationSpec, type Permutations } from './align/permutation-spec.js';
export { weightMatching, type WeightMatchingOptions, type WeightMatchingResult } from './align/weight-matching.js';
export { activationMatching } from './align/activation-matching.js';
export { repairInterpolated } from './align/repair.js';

// 5. Barriers
export * from './rows/rows.js';
export { createEvaluator, type Batch as EvaluationBatch, type EvaluationData, type Evaluator, type EvaluatorOptions, type PointMetrics, type SplitMetrics } from './evaluate/evaluate.js';
export { autoWorkerCount, createEvaluatorPool, type GridEvaluator, type PoolOptions } from './evaluate/worker-pool.js';
export { evaluatePoints, openEvaluator } from './evaluate/evaluate-points.js';
export { reestimateBatchNorm, type BnResetOptions } from './evaluate/bn-reset.js';
export { findLinearPath, linearPath, evaluatePath, assertCompatibleModels, uniformGrid, type EvaluatePathOptions, type GridOptions } from './paths/linear-path.js';
export type { Progress, ProgressEvent } from './progress.js';
export { barrierMetrics, trapezoid, type BarrierMetrics } from './barriers/metrics.js';
export { layerwiseBarriers, layerwiseBarriersByEpoch, cumulativeBarriers, layerOrder, type LayerwiseOptions, type LayerwiseByEpochOptions, type CumulativeOptions, type LayerOrder } from './barriers/layerwise.js';
export { layerRobustness, randomDirection, type RobustnessOptions } from './barriers/robustness.js';
export { subspacePerturbations, trainingSubspace, type SubspaceOptions, type TrainingSubspace } from './barriers/subspace.js';
export { createEvaluationData, disposeEvaluationData, type EvaluationDataOptions } from './evaluate/evaluation-data.js';

// 6. Charts and reports
export { pathChart, type PathChartOptions } from './charts/path-chart.js';
export { layerHeatmap, type LayerHeatmapOptions } from './charts/layer-heatmap.js';
export { cumulativeChart, type CumulativeChartOptions } from './charts/cumulative-chart.js';
export { robustnessChart, type RobustnessChartOptions } from './charts/robustness-chart.js';
export { subspaceChart, type SubspaceChartOptions } from './charts/subspace-chart.js';
export { surfaceChart, type SurfaceChartOptions } from './charts/surface-chart.js';
export { pcaChart, projectPca, type PcaChartOptions, type PcaPointMeta, type PcaProjection } from './charts/pca.js';
export { llpfChart, type LlpfChartOptions, type LlpfPanel } from './charts/llpf-chart.js';
export { layerVarianceChart, type LayerVarianceChartOptions } from './charts/layer-variance-chart.js';
export { accuracyBandChart, type AccuracyBandChartOptions, type AccuracyBandRow } from './charts/accuracy-band-chart.js';
export { renderSvg, renderPng, saveChart, type RenderPngOptions, type SaveChartOptions, type ChartFormat } from './charts/render.js';
export { writeHtmlReport, renderHtmlReport, missingReportFiles, formatNumber, escapeHtml, type HtmlReport, type ReportSection, type ReportFigure, type ReportTable } from './charts/report.js';
export { compileVegaLiteValidator } from './charts/schema.js';
export type { Metric } from './charts/messages.js';

// 7. Decentralized learning simulator (vanishing variance, Tian et al. 2024)
export { createTopology, ringTopology, starTopology, randomRegularTopology, erdosRenyiTopology, barabasiAlbertTopology, readEdgeList, parseEdgeList, isConnected, degrees, TOPOLOGY_SPECS, type Topology } from './simulate/topology.js';
export { createPartition, partitionIndices, parsePartitionSpec, sampleDirichlet, sampleGamma, PARTITION_SPECS, type PartitionSpec } from './simulate/partition.js';
export { createAveragingRule, federatedMean, AVERAGING_RULE_NAMES, type AveragingRule, type AveragingRuleName, type AveragingContext } from './simulate/averaging-rules.js';
export { createSimulation, loadSimulation, runSimulation, resolveSimulationConfig, DEFAULT_SIMULATION_CONFIG, SIMULATION_MODES, type SimulationConfig, type SimulationMode, type Simulation, type SimulationData, type SimulationOptions, type RunSimulationOptions } from './simulate/simulator.js';
export { plateauDelay, ticksToAccuracy, accuracyBandRows, type TickRow, type NodeRow, type SimulationRows, type PlateauDelay } from './simulate/metrics.js';
export { writeSimulationOutputs, delayChart, type SimulationRun } from './simulate/outputs.js';
export { toCsv } from './util/csv.js';
