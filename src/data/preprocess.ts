/**
 * Input preprocessing as a JSON-serializable description, stored in checkpoint metadata so a
 * model is always evaluated on inputs prepared the way it was trained.
 *
 * For a raw byte p of source channel c at (h, w), the network input is
 *
 *   unit:         x = p / 255
 *   standardize:  x = (p / 255 − mean_c) / std_c      (per-channel statistics of the training split)
 *
 * then, optionally:
 *   padTo = S:    the H×W image is placed in the centre of an S×S canvas of raw black pixels (p = 0),
 *                 ⌊(S−H)/2⌋ rows above and ⌈(S−H)/2⌉ below (28→32: 2 on each side), likewise columns.
 *                 As with torchvision's Pad → ToTensor → Normalize, padding happens in pixel space, so
 *                 under `standardize` the border is −mean_c/std_c, the value of a black pixel.
 *   channels = 3: a single grey channel is repeated to 3, so 3-channel models (ResNet-18, CCT) run on
 *                 Fashion-MNIST.
 *
 * The statistics are those of torchvision.transforms.Normalize (per channel, population standard
 * deviation over all pixels of all training images).
 */
import type { ImageSplit } from './types.js';

export const NORMALIZATIONS = ['unit', 'standardize'] as const;
export type Normalization = (typeof NORMALIZATIONS)[number];

/** How raw bytes become network inputs (see the module doc for the formulas). */
export interface Preprocessing {
  /** `unit` (default): p/255; `standardize`: (p/255 − mean_c)/std_c. */
  readonly normalize: Normalization;
  /** Per source channel, in the [0, 1] scale; required for `standardize`. */
  readonly mean?: readonly number[];
  /** Per source channel, in the [0, 1] scale, > 0; required for `standardize`. */
  readonly std?: readonly number[];
  /** Zero-pad (black) symmetrically to padTo × padTo; absent = no padding. */
  readonly padTo?: number;
  /** Output channels; a single source channel is repeated. Absent = the source's channels. */
  readonly channels?: number;
}

/** x/255, no padding, channels unchanged. */
export const DEFAULT_PREPROCESSING: Preprocessing = Object.freeze({ normalize: 'unit' });

/** Height, width, channels of an image. */
export interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** Per-channel mean and population standard deviation of p/255 over all pixels of `split`. */
export function computeChannelStats(split: ImageSplit): { mean: number[]; std: number[] } {
  const channels = split.channels;
  const sum = new Float64Array(channels);
  const sumSquares = new Float64Array(channels);
  // Byte histograms keep the sums exact and the loop cheap.
  const images = split.images;
  const histogram = Array.from({ length: channels }, (_, c) => {
    const h = new Float64Array(256);
    for (let i = c; i < images.length; i += channels) h[images[i] as number]! += 1;
    return h;
  });
  const perChannel = images.length / channels;
  if (perChannel === 0) throw new Error(`${split.dataset}/${split.split}: cannot compute channel statistics of an empty split`);
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    const h = histogram[c] as Float64Array;
    for (let v = 0; v < 256; v++) {
      sum[c]! += (h[v] as number) * (v / 255);
      sumSquares[c]! += (h[v] as number) * (v / 255) ** 2;
    }
    const m = (sum[c] as number) / perChannel;
    mean.push(m);
    std.push(Math.sqrt(Math.max(0, (sumSquares[c] as number) / perChannel - m * m)));
  }
  return { mean, std };
}

/** Options of {@link createPreprocessing}. */
export interface CreatePreprocessingOptions {
  /** Default `unit`. */
  readonly normalize?: Normalization;
  readonly padTo?: number;
  readonly channels?: number;
}

/**
 * A preprocessing for models trained on `train`: computes the channel statistics when
 * standardizing and validates the result against the split's image shape.
 */
export function createPreprocessing(train: ImageSplit, options: CreatePreprocessingOptions = {}): Preprocessing {
  const normalize = options.normalize ?? 'unit';
  const stats = normalize === 'standardize' ? computeChannelStats(train) : undefined;
  const result: Preprocessing = {
    normalize,
    ...(stats === undefined ? {} : stats),
    ...(options.padTo === undefined ? {} : { padTo: options.padTo }),
    ...(options.channels === undefined ? {} : { channels: options.channels }),
  };
  preprocessedShape(result, train, `${train.dataset}/${train.split}`);
  return result;
}

/**
 * The image shape after preprocessing, validating that `preprocessing` fits `source`
 * (statistics per source channel, padTo ≥ height and width, repeat only from one channel).
 */
export function preprocessedShape(preprocessing: Preprocessing, source: ImageShape, where = 'preprocessing'): ImageShape {
  if (preprocessing.normalize === 'standardize') {
    for (const field of ['mean', 'std'] as const) {
      const values = preprocessing[field];
      if (values?.length !== source.channels) {
        throw new Error(
          `${where}: standardize needs ${field} with one value per source channel (${source.channels}), found ${values === undefined ? 'none' : values.length}`,
        );
      }
      if (field === 'std' && values.some((v) => !(v > 0))) {
        throw new Error(`${where}: standardize needs std > 0 in every channel, found [${values.join(', ')}]`);
      }
    }
  }
  const pad = preprocessing.padTo;
  if (pad !== undefined && (pad < source.height || pad < source.width)) {
    throw new Error(`${where}: padTo ${pad} is smaller than the ${source.height}×${source.width} images`);
  }
  const channels = preprocessing.channels ?? source.channels;
  if (channels !== source.channels && source.channels !== 1) {
    throw new Error(`${where}: channels ${channels} needs 1-channel images to repeat, found ${source.channels} channels`);
  }
  return { height: pad ?? source.height, width: pad ?? source.width, channels };
}

/**
 * For each source channel, the network input value of every byte 0‥255 (a lookup table, so
 * converting a batch is one table read per pixel).
 */
export function pixelTables(preprocessing: Preprocessing, sourceChannels: number): Float32Array[] {
  return Array.from({ length: sourceChannels }, (_, c) => {
    const table = new Float32Array(256);
    const standardize = preprocessing.normalize === 'standardize';
    const mean = standardize ? (preprocessing.mean?.[c] ?? 0) : 0;
    const std = standardize ? (preprocessing.std?.[c] ?? 1) : 1;
    for (let v = 0; v < 256; v++) table[v] = (v / 255 - mean) / std;
    return table;
  });
}

const FIELDS = ['normalize', 'mean', 'std', 'padTo', 'channels'] as const;

function parseNumbers(value: unknown, field: string, positive: boolean): number[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`${field}: expected a non-empty array of numbers, found ${JSON.stringify(value)}`);
  return value.map((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) {
      throw new Error(`${field}[${i}]: expected a finite${positive ? ' positive' : ''} number, found ${JSON.stringify(v)}`);
    }
    return v;
  });
}

function parsePositiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${field}: expected a positive integer, found ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Validates a preprocessing read from JSON (checkpoint metadata, CLI); errors name the field as
 * `${where}.field`. Unknown fields are refused, so a misspelt option is not silently ignored.
 */
export function parsePreprocessing(raw: unknown, where = 'preprocessing'): Preprocessing {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${where}: expected an object, found ${JSON.stringify(raw)}`);
  }
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw new Error(`${where}.${key}: unknown field; expected ${FIELDS.join(', ')}`);
    }
  }
  const normalize = record.normalize ?? 'unit';
  if (typeof normalize !== 'string' || !(NORMALIZATIONS as readonly string[]).includes(normalize)) {
    throw new Error(`${where}.normalize: expected ${NORMALIZATIONS.join(' or ')}, found ${JSON.stringify(normalize)}`);
  }
  const mean = record.mean === undefined ? undefined : parseNumbers(record.mean, `${where}.mean`, false);
  const std = record.std === undefined ? undefined : parseNumbers(record.std, `${where}.std`, true);
  if (normalize === 'standardize' && (mean === undefined || std === undefined)) {
    throw new Error(`${where}.${mean === undefined ? 'mean' : 'std'}: required when normalize is standardize`);
  }
  if (mean !== undefined && std !== undefined && mean.length !== std.length) {
    throw new Error(`${where}.std: expected ${mean.length} values (as many as mean), found ${std.length}`);
  }
  const padTo = record.padTo === undefined ? undefined : parsePositiveInteger(record.padTo, `${where}.padTo`);
  const channels = record.channels === undefined ? undefined : parsePositiveInteger(record.channels, `${where}.channels`);
  return {
    normalize: normalize as Normalization,
    ...(mean === undefined ? {} : { mean }),
    ...(std === undefined ? {} : { std }),
    ...(padTo === undefined ? {} : { padTo }),
    ...(channels === undefined ? {} : { channels }),
  };
}

function formatValues(values: readonly number[] | undefined): string {
  return (values ?? []).map((v) => v.toFixed(4)).join(', ');
}

/** One line for `info` output, e.g. `standardize (mean 0.2860, std 0.3530), pad to 32×32, 3 channels`. */
export function describePreprocessing(preprocessing: Preprocessing): string {
  const parts =
    preprocessing.normalize === 'standardize'
      ? [`standardize (mean ${formatValues(preprocessing.mean)}, std ${formatValues(preprocessing.std)})`]
      : ['unit (x/255)'];
  if (preprocessing.padTo !== undefined) parts.push(`pad to ${preprocessing.padTo}×${preprocessing.padTo}`);
  if (preprocessing.channels !== undefined) parts.push(`${preprocessing.channels} channels`);
  return parts.join(', ');
}
