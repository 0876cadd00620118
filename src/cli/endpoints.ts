/**
 * What the analysis commands (barrier, path, average) share: load checkpoints, find their dataset
 * and preprocessing, check them against each other and the data before any long computation, and
 * build the evaluation data once.
 *
 * Endpoints whose metadata name different datasets are an error unless `--dataset` names the one
 * to evaluate all of them on; endpoints with different preprocessing are always an error (one
 * input pipeline cannot be right for both), naming the differing fields.
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
import { assertInputFits, DATA_OPTIONS, DATA_OPTIONS_HELP, dataDirOption, EMBEDDED_DATASET, resolvePreprocessing, type DataOptionValues } from './data-options.js';
import { canonicalJson } from '../util/resume-check.js';

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
    // Endpoints trained on different datasets: evaluating all on the first one's would be silently
    // wrong for the others; the user may still name one dataset for all (e.g. MNIST vs Fashion-MNIST transfer).
    const trainedOn = checkpoints.flatMap((c, i) => (c.metadata.dataset === undefined ? [] : [{ path: paths[i] ?? '', dataset: c.metadata.dataset }]));
    const other = trainedOn.find((d) => d.dataset !== trainedOn[0]?.dataset);
    if (values.dataset === undefined && other !== undefined && trainedOn[0] !== undefined) {
      throw new Error(
        `${trainedOn[0].path} was trained on dataset ${trainedOn[0].dataset} but ${other.path} on dataset ${other.dataset}; name the dataset to evaluate all of them on with --dataset`,
      );
    }
    const dataset = values.dataset ?? trainedOn[0]?.dataset ?? EMBEDDED_DATASET;
    const loadOptions = dataDirOption(dataset, values['data-dir']);
    const [train, test] = [await loadDataset(dataset, 'train', loadOptions), await loadDataset(dataset, 'test', loadOptions)];
    const preprocessing = resolvePreprocessing(values, first.metadata.preprocessing ?? undefined, train, paths[0] ?? '');
    checkpoints.forEach((c, i) => {
      if (c.metadata.preprocessing === undefined) return;
      const own = resolvePreprocessing({}, c.metadata.preprocessing, train, paths[i] ?? '');
      const fields = [...new Set([...Object.keys(preprocessing), ...Object.keys(own)])] as (keyof typeof own)[];
      const differing = fields.filter((f) => canonicalJson(preprocessing[f]) !== canonicalJson(own[f]));
      if (differing.length > 0) {
        const show = (v: unknown): string => (v === undefined ? 'none' : typeof v === 'string' ? v : canonicalJson(v));
        throw new Error(
          `${paths[i]} was trained with another preprocessing than ${paths[0]} (${differing.map((f) => `${f}: ${show(preprocessing[f])} vs ${show(own[f])}`).join(', ')}); endpoints must share their input pipeline`,
        );
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
