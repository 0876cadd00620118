/**
 * The data options shared by commands that read a dataset (train, eval, barrier, path): which
 * dataset, where, and how inputs are preprocessed. A checkpoint is only meaningful with the
 * preprocessing it was trained with: native checkpoints carry it in their metadata; foreign
 * checkpoints get it from `--normalize/--pad-to/--channels`.
 */
import { assertInputFits as libraryAssertInputFits, choosePreprocessing } from '../analysis/open-analysis.js';
import { NORMALIZATIONS, type Normalization, type Preprocessing } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
import type { ModelSpec } from '../models/types.js';
import { numberOption } from './args.js';
import { inFlagTermsSync } from './option-flags.js';

/** parseArgs option declarations for the data options. */
export const DATA_OPTIONS = {
  dataset: { type: 'string' },
  'data-dir': { type: 'string' },
  normalize: { type: 'string' },
  'pad-to': { type: 'string' },
  channels: { type: 'string' },
} as const;

export const DATA_OPTIONS_HELP = `  --dataset D          fashion-mnist-small (default, embedded) | fashion-mnist | mnist | cifar10 | cifar100
  --data-dir DIR       folder holding the dataset files
  --normalize N        unit (x/255) | standardize (per-channel statistics of the training split)
  --pad-to S           zero-pad images to S×S (e.g. 32 for ResNet18/CCT on Fashion-MNIST)
  --channels C         repeat a single channel C times (e.g. 3)`;

export interface DataOptionValues {
  readonly dataset?: string | undefined;
  readonly 'data-dir'?: string | undefined;
  readonly normalize?: string | undefined;
  readonly 'pad-to'?: string | undefined;
  readonly channels?: string | undefined;
}

/** The dataset built into the package (the default): nothing to read, so `--data-dir` has no meaning with it. */
export const EMBEDDED_DATASET = 'fashion-mnist-small';

/**
 * The load options for `dataset` from `--data-dir`. With the embedded dataset `--data-dir` would
 * be silently ignored, so it is refused: the user who gives it expects those files to be read.
 */
export function dataDirOption(dataset: string, dataDir: string | undefined): { dataDir?: string } {
  if (dataDir === undefined) return {};
  if (dataset === EMBEDDED_DATASET) {
    throw new Error(`--data-dir: ${dataset} is embedded in the package and reads no files; drop --data-dir, or name the dataset to read from it with --dataset (fashion-mnist, mnist, cifar10, cifar100)`);
  }
  return { dataDir };
}

/** The preprocessing options given on the command line, validated (undefined fields = not given). */
export function preprocessingFlags(values: DataOptionValues): { normalize?: Normalization; padTo?: number; channels?: number } {
  const normalize = values.normalize;
  if (normalize !== undefined && !(NORMALIZATIONS as readonly string[]).includes(normalize)) {
    throw new Error(`--normalize: expected ${NORMALIZATIONS.join(' or ')}, found "${normalize}"`);
  }
  const padTo = numberOption(values['pad-to'], 'pad-to', { integer: true, min: 1 });
  const channels = numberOption(values.channels, 'channels', { integer: true, min: 1 });
  return {
    ...(normalize === undefined ? {} : { normalize: normalize as Normalization }),
    ...(padTo === undefined ? {} : { padTo }),
    ...(channels === undefined ? {} : { channels }),
  };
}

/**
 * The preprocessing to use: the checkpoint's own when it has one (flags then may only repeat it),
 * else the flags, with standardization statistics computed from `train` (the library's
 * `choosePreprocessing`, errors in flag terms).
 */
export function resolvePreprocessing(values: DataOptionValues, fromCheckpoint: unknown, train: ImageSplit | undefined, where: string): Preprocessing {
  const flags = preprocessingFlags(values);
  return inFlagTermsSync(() => choosePreprocessing(flags, fromCheckpoint, train, where));
}

/** Checks before any computation that preprocessed images of `split` fit the model's input (the library's, in flag terms). */
export function assertInputFits(spec: ModelSpec, preprocessing: Preprocessing, split: ImageSplit, what: string): void {
  inFlagTermsSync(() => libraryAssertInputFits(spec, preprocessing, split, what));
}
