/**
 * Opening an analysis: what every analysis of trained checkpoints (barriers, paths, averaging,
 * the figure scripts, the demo, the CLI) does first, in one place.
 *
 *   1. load the checkpoints (native files, or foreign ones with `architecture`/`config`);
 *   2. check that they are compatible: same architecture, config and tensor layout, same dataset
 *      and same preprocessing in their metadata (errors name the files and the field);
 *   3. load the dataset their metadata names (or `dataset`, or splits given in `data`);
 *   4. take the preprocessing from the metadata (options may only repeat it; checkpoints without
 *      one, e.g. PyTorch imports, get it from `preprocessing`), check that the preprocessed
 *      images fit the model's input;
 *   5. build the evaluation data once: the chosen splits, optionally class-balanced subsets
 *      (`trainExamples`, `testExamples`), and BatchNorm re-estimation batches for BN models.
 *
 * Errors name options in backticks (`testExamples`), so a front end can map them to its own
 * names (the CLI shows `--test-examples`).
 *
 * @example
 * const analysis = await openAnalysis(['runs/a.safetensors', 'runs/b.safetensors'], { splits: ['test'] });
 * const rows = await evaluatePath(linearPath(...analysis.models as [Model, Model]), analysis.data);
 * analysis.dispose();
 */
import { loadCheckpoint, type LoadedCheckpoint } from '../checkpoint/checkpoint.js';
import { loadDataset } from '../data/datasets.js';
import { canonicalJson } from '../util/resume-check.js';

/** The dataset shipped in the package (no files read, so no data folder applies). */
const EMBEDDED_DATASET = 'fashion-mnist-small';
import { createPreprocessing, NORMALIZATIONS, parsePreprocessing, preprocessedShape, type Normalization, type Preprocessing } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
import type { EvaluationData } from '../evaluate/evaluate.js';
import { createEvaluationData, DEFAULT_BN_BATCHES, disposeEvaluationData } from '../evaluate/evaluation-data.js';
import { getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model, ModelSpec } from '../models/types.js';
import { assertCompatibleModels } from '../paths/linear-path.js';

export type AnalysisSplit = 'train' | 'test';

/** Preprocessing asked for by the caller (each field optional: the checkpoints' own wins). */
export interface PreprocessingRequest {
  readonly normalize?: Normalization;
  readonly padTo?: number;
  readonly channels?: number;
}

export interface OpenAnalysisOptions {
  /** Architecture of foreign (PyTorch) checkpoints; native ones name theirs. */
  readonly architecture?: string;
  /** Config fields of foreign checkpoints (native ones must agree when given). */
  readonly config?: unknown;
  /** Dataset (default: the one the checkpoints' metadata names, else `fashion-mnist-small`). */
  readonly dataset?: string;
  /** Folder holding the dataset files. */
  readonly dataDir?: string;
  /** Splits already loaded, used instead of loading `dataset` (e.g. a training subset). */
  readonly data?: { readonly train: ImageSplit; readonly test?: ImageSplit };
  /** Preprocessing for checkpoints without one in their metadata; for the others it may only repeat theirs. */
  readonly preprocessing?: PreprocessingRequest;
  /** Splits to evaluate (default `['test']`). */
  readonly splits?: readonly AnalysisSplit[];
  /** Evaluate on a seeded class-balanced subset of this many training images (default: all). */
  readonly trainExamples?: number;
  /** Evaluate on a seeded class-balanced subset of this many test images (default: all). */
  readonly testExamples?: number;
  /** Re-estimate BatchNorm statistics at every point (default true; only BN models have them). */
  readonly bnReset?: boolean;
  /** Training batches for BN re-estimation (default 20). */
  readonly bnBatches?: number;
}

/** Checkpoints, data and evaluation data of an analysis. `dispose()` frees the models and the data. */
export interface Analysis {
  readonly checkpoints: LoadedCheckpoint[];
  readonly models: Model[];
  readonly dataset: string;
  readonly preprocessing: Preprocessing;
  readonly train: ImageSplit;
  readonly test: ImageSplit;
  readonly splits: AnalysisSplit[];
  readonly bnReset: boolean;
  readonly data: EvaluationData;
  dispose(): void;
}

function positiveInteger(value: number | undefined, name: string, min: number): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= min)) throw new Error(`\`${name}\`: expected an integer ≥ ${min}, found ${value}`);
}

/**
 * The preprocessing to use: the checkpoint's own when it has one (the request may only repeat
 * it), else the request, with standardization statistics computed from `train`.
 */
export function choosePreprocessing(request: PreprocessingRequest, fromCheckpoint: unknown, train: ImageSplit | undefined, where: string): Preprocessing {
  if (request.normalize !== undefined && !(NORMALIZATIONS as readonly string[]).includes(request.normalize)) {
    throw new Error(`\`normalize\`: expected ${NORMALIZATIONS.join(' or ')}, found "${String(request.normalize)}"`);
  }
  if (fromCheckpoint !== undefined) {
    const stored = parsePreprocessing(fromCheckpoint, `${where} metadata preprocessing`);
    for (const key of ['normalize', 'padTo', 'channels'] as const) {
      if (request[key] !== undefined && request[key] !== stored[key]) {
        throw new Error(`${where} was trained with ${key} = ${String(stored[key])}, but \`${key}\` ${String(request[key])} was given`);
      }
    }
    return stored;
  }
  if (request.normalize === 'standardize') {
    if (train === undefined) throw new Error('`normalize` standardize needs the training split to compute channel statistics');
    return createPreprocessing(train, request);
  }
  return parsePreprocessing({ normalize: request.normalize ?? 'unit', ...(request.padTo === undefined ? {} : { padTo: request.padTo }), ...(request.channels === undefined ? {} : { channels: request.channels }) }, 'preprocessing');
}

/** Checks before any computation that preprocessed images of `split` fit the model's input. */
export function assertInputFits(spec: ModelSpec, preprocessing: Preprocessing, split: ImageSplit, what: string): void {
  const shape = preprocessedShape(preprocessing, split, `${split.dataset}/${split.split}`);
  const [h, w, c] = spec.inputShape;
  if (shape.height !== h || shape.width !== w || shape.channels !== c) {
    throw new Error(
      `${what} expects ${h}×${w}×${c} inputs but ${split.dataset} gives ${shape.height}×${shape.width}×${shape.channels} after preprocessing` +
        (shape.channels !== c || shape.height !== h ? ` (try \`padTo\` ${h} \`channels\` ${c})` : ''),
    );
  }
  if (split.classes > spec.classes) throw new Error(`${what} has ${spec.classes} outputs but ${split.dataset} has ${split.classes} classes`);
}

/** Loads the checkpoints and the data, checks everything (see the file comment), and converts the data once. */
export async function openAnalysis(files: readonly string[], options: OpenAnalysisOptions = {}): Promise<Analysis> {
  const splits: AnalysisSplit[] = [...(options.splits ?? ['test'])];
  if (splits.length === 0 || !splits.every((s) => s === 'train' || s === 'test')) throw new Error(`\`splits\`: expected train and/or test, found [${splits.join(', ')}]`);
  positiveInteger(options.trainExamples, 'trainExamples', 1);
  positiveInteger(options.testExamples, 'testExamples', 1);
  positiveInteger(options.bnBatches, 'bnBatches', 1);

  const checkpoints: LoadedCheckpoint[] = [];
  try {
    // 1. Checkpoints.
    for (const file of files) {
      checkpoints.push(
        await loadCheckpoint(file, { ...(options.architecture === undefined ? {} : { architecture: options.architecture }), ...(options.config === undefined ? {} : { config: options.config }) }),
      );
    }
    const first = checkpoints[0];
    if (first === undefined) throw new Error('openAnalysis: no checkpoints given');
    const firstFile = files[0] as string;
    // 2. Compatibility: layout, then dataset.
    checkpoints.forEach((c, i) => {
      if (i > 0) assertCompatibleModels(first.model, c.model, `${firstFile} vs ${files[i]}`);
    });
    const named = checkpoints.flatMap((c, i) => (c.metadata.dataset === undefined ? [] : [{ file: files[i] as string, dataset: c.metadata.dataset }]));
    const other = named.find((n) => n.dataset !== named[0]?.dataset);
    // Evaluating all on the first one's dataset would be silently wrong for the others; the user may
    // still name one dataset for all (e.g. a MNIST vs Fashion-MNIST transfer study).
    if (options.dataset === undefined && other !== undefined && named[0] !== undefined) {
      throw new Error(
        `${named[0].file} was trained on dataset ${named[0].dataset} but ${other.file} on dataset ${other.dataset} (metadata field "dataset"); name the dataset to evaluate all of them on with \`dataset\``,
      );
    }
    // 3. Data.
    const dataset = options.dataset ?? named[0]?.dataset ?? EMBEDDED_DATASET;
    if (options.dataDir !== undefined && dataset === EMBEDDED_DATASET && options.data === undefined) {
      // A folder given for the embedded dataset would be silently ignored; whoever gives one expects it read.
      throw new Error(`\`dataDir\`: ${dataset} is embedded in the package and reads no files; drop \`dataDir\`, or name the dataset to read from it with \`dataset\` (fashion-mnist, mnist, cifar10, cifar100)`);
    }
    const loadOptions = options.dataDir === undefined ? {} : { dataDir: options.dataDir };
    const train = options.data?.train ?? (await loadDataset(dataset, 'train', loadOptions));
    const test = options.data?.test ?? (await loadDataset(dataset, 'test', loadOptions));
    // 4. Preprocessing.
    const request = options.preprocessing ?? {};
    const preprocessing = choosePreprocessing(request, first.metadata.preprocessing ?? undefined, train, firstFile);
    checkpoints.forEach((c, i) => {
      if (c.metadata.preprocessing === undefined) return;
      const own = choosePreprocessing({}, c.metadata.preprocessing, train, files[i] ?? '');
      const fields = [...new Set([...Object.keys(preprocessing), ...Object.keys(own)])] as (keyof Preprocessing)[];
      const differing = fields.filter((f) => canonicalJson(preprocessing[f]) !== canonicalJson(own[f]));
      if (differing.length > 0) {
        const show = (v: unknown): string => (v === undefined ? 'none' : typeof v === 'string' ? v : canonicalJson(v));
        throw new Error(
          `${files[i]} was trained with another preprocessing than ${firstFile} (metadata field "preprocessing": ${differing.map((f) => `${f}: ${show(preprocessing[f])} vs ${show(own[f])}`).join(', ')}); the checkpoints of one analysis share their input pipeline`,
        );
      }
    });
    const spec = getArchitecture(first.model.architecture).spec(first.model.config);
    assertInputFits(spec, preprocessing, test, `${firstFile} (${first.model.architecture})`);
    // 5. Evaluation data.
    const bnReset = spec.buffers.length > 0 && options.bnReset !== false;
    const data = createEvaluationData(
      { train, ...(splits.includes('test') ? { test } : {}), evaluateTrain: splits.includes('train') },
      preprocessing,
      {
        ...(options.trainExamples === undefined ? {} : { trainExamples: options.trainExamples }),
        ...(options.testExamples === undefined ? {} : { testExamples: options.testExamples }),
        bnBatches: bnReset ? (options.bnBatches ?? DEFAULT_BN_BATCHES) : 0,
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
