/**
 * What the analysis commands (barrier, path, average) share: load checkpoints, find their dataset
 * and preprocessing, check them against each other and the data before any long computation, and
 * build the evaluation data once.
 */
import { loadCheckpoint, type LoadedCheckpoint } from '../checkpoint/checkpoint.js';
import { createEvaluationData, disposeEvaluationData } from '../evaluate/evaluation-data.js';
import type { EvaluationData } from '../evaluate/evaluate.js';
import { assertCompatibleModels } from '../paths/linear-path.js';
import { loadDataset } from '../data/datasets.js';
import type { Preprocessing } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
import { getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { jsonOption, numberOption } from './args.js';
import { assertInputFits, DATA_OPTIONS, DATA_OPTIONS_HELP, resolvePreprocessing, type DataOptionValues } from './data-options.js';

/** parseArgs declarations for loading endpoints and evaluation data. */
export const ENDPOINT_OPTIONS = {
  arch: { type: 'string' },
  config: { type: 'string' },
  ...DATA_OPTIONS,
  split: { type: 'string', default: 'test' },
  'train-examples': { type: 'string' },
  'test-examples': { type: 'string' },
  'bn-batches': { type: 'string' },
  'no-bn-reset': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  csv: { type: 'string' },
} as const;

export const ENDPOINT_OPTIONS_HELP = `  --arch A             architecture of foreign (PyTorch) checkpoints
  --config JSON        config fields of foreign checkpoints
${DATA_OPTIONS_HELP}
  --split S            test (default) | train | both
  --train-examples N   evaluate on a seeded class-balanced subset of N training images
  --test-examples N    evaluate on a seeded class-balanced subset of N test images
  --bn-batches N       training batches for BatchNorm re-estimation at each point (default 20)
  --no-bn-reset        keep the stored BatchNorm statistics (on by default for BN models)
  --json               print JSON on stdout
  --csv FILE           also write the rows as CSV`;

export interface EndpointValues extends DataOptionValues {
  readonly arch?: string | undefined;
  readonly config?: string | undefined;
  readonly split?: string | undefined;
  readonly 'train-examples'?: string | undefined;
  readonly 'test-examples'?: string | undefined;
  readonly 'bn-batches'?: string | undefined;
  readonly 'no-bn-reset'?: boolean | undefined;
}

export interface LoadedAnalysis {
  readonly checkpoints: LoadedCheckpoint[];
  readonly models: Model[];
  readonly dataset: string;
  readonly preprocessing: Preprocessing;
  readonly train: ImageSplit;
  readonly test: ImageSplit;
  readonly splits: ('train' | 'test')[];
  readonly bnReset: boolean;
  readonly data: EvaluationData;
  dispose(): void;
}

/** Loads the checkpoints and the data, validates everything, and converts the data once. */
export async function loadAnalysis(paths: readonly string[], values: EndpointValues): Promise<LoadedAnalysis> {
  const config = jsonOption(values.config, 'config');
  const split = values.split ?? 'test';
  if (!['train', 'test', 'both'].includes(split)) throw new Error(`--split: expected train, test or both, found "${split}"`);
  const splits: ('train' | 'test')[] = split === 'both' ? ['train', 'test'] : [split as 'train' | 'test'];
  const trainExamples = numberOption(values['train-examples'], 'train-examples', { integer: true, min: 1 });
  const testExamples = numberOption(values['test-examples'], 'test-examples', { integer: true, min: 1 });
  const bnBatchCount = numberOption(values['bn-batches'], 'bn-batches', { integer: true, min: 1 });

  const checkpoints: LoadedCheckpoint[] = [];
  try {
    for (const path of paths) {
      checkpoints.push(
        await loadCheckpoint(path, { ...(values.arch === undefined ? {} : { architecture: values.arch }), ...(config === undefined ? {} : { config }) }),
      );
    }
    const first = checkpoints[0];
    if (first === undefined) throw new Error('no checkpoints given');
    checkpoints.forEach((c, i) => {
      if (i > 0) assertCompatibleModels(first.model, c.model, `${paths[0]} vs ${paths[i]}`);
    });
    const datasets = new Set(checkpoints.map((c) => c.metadata.dataset).filter((d) => d !== undefined));
    const dataset = values.dataset ?? [...datasets][0] ?? 'fashion-mnist-small';
    const loadOptions = values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] };
    const [train, test] = [await loadDataset(dataset, 'train', loadOptions), await loadDataset(dataset, 'test', loadOptions)];
    const preprocessing = resolvePreprocessing(values, first.metadata.preprocessing ?? undefined, train, paths[0] ?? '');
    const stored = JSON.stringify(preprocessing);
    checkpoints.forEach((c, i) => {
      if (c.metadata.preprocessing !== undefined && JSON.stringify(resolvePreprocessing({}, c.metadata.preprocessing, train, paths[i] ?? '')) !== stored) {
        throw new Error(`${paths[i]} was trained with another preprocessing than ${paths[0]}; endpoints must share their input pipeline`);
      }
    });
    const spec = getArchitecture(first.model.architecture).spec(first.model.config);
    assertInputFits(spec, preprocessing, test, `${paths[0]} (${first.model.architecture})`);
    const bnReset = spec.buffers.length > 0 && values['no-bn-reset'] !== true;
    const data = createEvaluationData(
      { train, ...(splits.includes('test') ? { test } : {}), evaluateTrain: splits.includes('train') },
      preprocessing,
      {
        ...(trainExamples === undefined ? {} : { trainExamples }),
        ...(testExamples === undefined ? {} : { testExamples }),
        bnBatches: bnReset ? (bnBatchCount ?? 20) : 0,
      },
    );
    const models = checkpoints.map((c) => c.model);
    return {
      checkpoints,
      models,
      dataset,
      preprocessing,
      train,
      test,
      splits,
      bnReset,
      data,
      dispose() {
        disposeTensors(...models);
        disposeEvaluationData(data);
      },
    };
  } catch (error) {
    disposeTensors(...checkpoints.map((c) => c.model));
    throw error;
  }
}
