/**
 * mode-connectivity: the names a typical analysis needs, grouped by pipeline step. This file only
 * re-exports; each module documents its algorithm and paper.
 *
 * ```text
 *   backend ─▶ data ─▶ model states ─▶ paths ─▶ evaluate ─▶ rows ─▶ charts
 *   initBackend  loadDataset  loadCheckpoint  findLinearPath  evaluatePath  PathRow  pathChart
 *                             openAnalysis    findCurve       layerwise…    LayerRow saveChart
 *                             trainMode       findLlpfPath    barrierMetrics
 * ```
 *
 * Building blocks (every architecture, format, kernel, chart and the simulator) are in the
 * subpath exports, one per folder of `src/` (each entry is a file of `src/entry/`):
 * `mode-connectivity/backend`, `/data`, `/models`, `/checkpoint`, `/train`, `/paths`,
 * `/evaluate`, `/barriers`, `/landscape`, `/align`, `/averaging`, `/charts`, `/simulate`.
 *
 * @example
 * await initBackend('auto');
 * const { model: a } = await loadCheckpoint('a.safetensors');
 * const { model: b } = await loadCheckpoint('b.safetensors');
 * const data = createEvaluationData({ test: await loadDataset('fashion-mnist-small', 'test') }, DEFAULT_PREPROCESSING, { bnBatches: 0 });
 * const path = linearPath(a, b);
 * const rows = await evaluatePath(path, data, { points: 21 });
 * path.dispose();
 * console.log(barrierMetrics(rows));
 *
 * @module mode-connectivity
 */

// 1. Compute backend
export { initBackend, backendFromEnv, type BackendName } from './backend/init-backend.js';
export { WasmAllocationError } from './backend/wasm-failure.js';

// 2. Data
export { loadDataset, type DatasetName } from './data/datasets.js';
export { DEFAULT_PREPROCESSING, createPreprocessing, type Preprocessing } from './data/preprocess.js';
export { takeSubset } from './data/subset.js';
export type { ImageSplit } from './data/types.js';

// 3. Model states: architectures, checkpoints, training
export type { Architecture, Model, ModelState, TensorMap } from './models/types.js';
export { registerArchitecture, getArchitecture, listArchitectures, createModel } from './models/registry.js';
export { disposeTensors } from './models/tensor-map.js';
export { loadCheckpoint, saveCheckpoint, type LoadedCheckpoint } from './checkpoint/checkpoint.js';
export { trainMode, loadTrainingData, checkpointPath, type TrainModeOptions, type TrainModeResult, type TrainingData } from './train/train-mode.js';
export { openAnalysis, type Analysis, type AnalysisSplit, type OpenAnalysisOptions, type PreprocessingRequest } from './analysis/open-analysis.js';

// 4. Paths between modes, alignment, averaging: findXxx(architecture, endpoints, data, options) → PathResult
export type { ParameterPath, PathResult } from './paths/path.js';
export type { Progress, ProgressEvent } from './progress.js';
export { findLinearPath, linearPath } from './paths/linear-path.js';
export { findCurve, type FindCurveOptions } from './paths/train-curve.js';
export { findAutoNebPath, type AutoNebOptions } from './paths/autoneb.js';
export { findLlpfPath, type LlpfOptions, type LlpfTarget } from './paths/llpf.js';
export { savePath, loadPath } from './paths/saved-path.js';
export { splitBatchSource } from './paths/batch-source.js';
export { weightMatching } from './align/weight-matching.js';
export { permutationSpecFor, applyPermutation } from './align/permutation-spec.js';
export { averageModels } from './averaging/variance-correction.js';

// 5. Evaluation and barriers
export { createEvaluationData, disposeEvaluationData, type EvaluationDataOptions } from './evaluate/evaluation-data.js';
export type { EvaluationData } from './evaluate/evaluate.js';
export { evaluatePath, type EvaluatePathOptions } from './paths/linear-path.js';
export { barrierMetrics, type BarrierMetrics } from './barriers/metrics.js';
export { layerwiseBarriers, cumulativeBarriers } from './barriers/layerwise.js';
export type { PathRow, LayerRow, CumulativeRow, LlpfRow } from './rows/rows.js';

// 6. Charts and reports
export { pathChart } from './charts/path-chart.js';
export { layerHeatmap } from './charts/layer-heatmap.js';
export { cumulativeChart } from './charts/cumulative-chart.js';
export { llpfChart } from './charts/llpf-chart.js';
export { saveChart, type SaveChartOptions } from './charts/render.js';
export { writeHtmlReport } from './charts/report.js';
