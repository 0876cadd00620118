/**
 * Builds the `EvaluationData` of a barrier analysis from image splits: evaluation batches of the
 * train and test splits (optionally a seeded class-balanced subset of each) and a fixed set of
 * training batches for BatchNorm re-estimation, all converted to tensors once.
 */
import { batchIndices, disposeBatches, loadBatches, type Batch } from '../data/batches.js';
import type { Preprocessing } from '../data/preprocess.js';
import { subsetIndices } from '../data/subset.js';
import type { ImageSplit } from '../data/types.js';
import type { EvaluationData } from './evaluate.js';

/** Training batches for BatchNorm re-estimation when none are asked for (the analyses' and `eval`'s default). */
export const DEFAULT_BN_BATCHES = 20;

export interface EvaluationDataOptions {
  /** Images per evaluation batch (default 500; affects speed and memory, not results). */
  readonly batchSize?: number;
  /** Evaluate on a seeded class-balanced subset of this many training images (default: all). */
  readonly trainExamples?: number;
  /** Evaluate on a seeded class-balanced subset of this many test images (default: all). */
  readonly testExamples?: number;
  /** Training batches for BN re-estimation (default 20; 0 when the model has no BatchNorm). */
  readonly bnBatches?: number;
  /** Images per BN batch (default 128). */
  readonly bnBatchSize?: number;
  /** Seed of the subsets and of the BN batches' order (default 0). */
  readonly seed?: number;
}

function evaluationIndices(split: ImageSplit, examples: number | undefined, seed: number, batchSize: number): Int32Array[] {
  const chosen = examples === undefined || examples >= split.count ? Int32Array.from({ length: split.count }, (_, i) => i) : subsetIndices(split, examples, seed);
  return batchIndices(chosen.length, { batchSize, shuffle: false }).map((batch) => batch.map((i) => chosen[i] as number));
}

/**
 * Converts the splits to tensors once. Give `train` for train-split rows and for BN
 * re-estimation; give `test` for test-split rows. Free with {@link disposeEvaluationData}.
 *
 * @example
 * const data = createEvaluationData({ train, test }, preprocessing, { trainExamples: 10000, bnBatches: 20 });
 */
export function createEvaluationData(
  splits: { readonly train?: ImageSplit; readonly test?: ImageSplit; readonly evaluateTrain?: boolean },
  preprocessing: Preprocessing,
  options: EvaluationDataOptions = {},
): EvaluationData {
  const batchSize = options.batchSize ?? 500;
  const seed = options.seed ?? 0;
  const bnCount = options.bnBatches ?? DEFAULT_BN_BATCHES;
  const bnBatchSize = options.bnBatchSize ?? 128;
  if (!Number.isInteger(bnCount) || bnCount < 0) throw new Error(`evaluation data: bnBatches must be an integer ≥ 0, found ${bnCount}`);
  if (bnCount > 0 && splits.train === undefined) throw new Error('evaluation data: BN re-estimation needs the training split (or bnBatches: 0)');
  const loaded: Batch[][] = [];
  try {
    const train = splits.train !== undefined && splits.evaluateTrain !== false
      ? loadBatches(splits.train, evaluationIndices(splits.train, options.trainExamples, seed, batchSize), preprocessing)
      : undefined;
    if (train !== undefined) loaded.push(train);
    const test = splits.test !== undefined ? loadBatches(splits.test, evaluationIndices(splits.test, options.testExamples, seed, batchSize), preprocessing) : undefined;
    if (test !== undefined) loaded.push(test);
    const bnBatches = bnCount > 0 && splits.train !== undefined
      ? loadBatches(splits.train, batchIndices(splits.train.count, { batchSize: bnBatchSize, seed, epoch: 0, shuffle: true, dropLast: true }).slice(0, bnCount), preprocessing)
      : [];
    return { ...(train !== undefined ? { train } : {}), ...(test !== undefined ? { test } : {}), bnBatches };
  } catch (error) {
    for (const batches of loaded) disposeBatches(batches);
    throw error;
  }
}

/** Frees every tensor of `data`. */
export function disposeEvaluationData(data: EvaluationData): void {
  for (const batches of [data.train, data.test, data.bnBatches]) {
    if (batches === undefined) continue;
    for (const batch of batches) {
      batch.x.dispose();
      batch.y.dispose();
    }
  }
}
