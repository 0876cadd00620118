/**
 * CIFAR-10 and CIFAR-100 in their "binary version" (Krizhevsky, 2009, "Learning Multiple Layers of
 * Features from Tiny Images", https://www.cs.toronto.edu/~kriz/cifar.html).
 *
 * A file is a sequence of fixed-size records. CIFAR-10: 1 label byte + 3072 pixel bytes
 * (3073 bytes); CIFAR-100: 1 coarse label + 1 fine label + 3072 pixel bytes (3074 bytes), of which
 * we keep the fine label. The 3072 pixels are channel-major (CHW): 1024 red, 1024 green, 1024 blue,
 * each 32×32 row-major. We convert to NHWC: pixel (c, h, w) of record n goes to
 * ((n·32 + h)·32 + w)·3 + c.
 *
 * Files: CIFAR-10 `data_batch_1.bin` … `data_batch_5.bin` (train) and `test_batch.bin`, usually in
 * `cifar-10-batches-bin/`; CIFAR-100 `train.bin` and `test.bin`, usually in `cifar-100-binary/`.
 */
import { readMaybeGzipped } from './idx.js';
import type { ImageSplit } from './types.js';
import { assertImageSplit } from './types.js';

/** Side of a CIFAR image. */
export const CIFAR_SIZE = 32;
/** Pixel bytes per CIFAR record (3·32·32). */
export const CIFAR_PIXELS = 3 * CIFAR_SIZE * CIFAR_SIZE;

/** How a CIFAR variant lays out its records. */
export interface CifarFormat {
  readonly dataset: 'cifar10' | 'cifar100';
  /** Label bytes before the pixels (1 for CIFAR-10, 2 for CIFAR-100). */
  readonly labelBytes: number;
  /** Which of the label bytes is the class (CIFAR-100: 1, the fine label). */
  readonly labelIndex: number;
  readonly classes: number;
}

export const CIFAR10_FORMAT: CifarFormat = { dataset: 'cifar10', labelBytes: 1, labelIndex: 0, classes: 10 };
export const CIFAR100_FORMAT: CifarFormat = { dataset: 'cifar100', labelBytes: 2, labelIndex: 1, classes: 100 };

/** Decoded records of one CIFAR file: NHWC pixels and labels. */
export interface CifarRecords {
  readonly count: number;
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
}

/** Decodes the records of one CIFAR binary file; `file` names the source in errors. */
export function decodeCifar(bytes: Uint8Array, file: string, format: CifarFormat): CifarRecords {
  const recordBytes = format.labelBytes + CIFAR_PIXELS;
  if (bytes.length === 0 || bytes.length % recordBytes !== 0) {
    throw new Error(
      `${file}: expected a whole number of ${format.dataset} records of ${recordBytes} bytes, found ${bytes.length} bytes ` +
        `(${Math.floor(bytes.length / recordBytes)} records and ${bytes.length % recordBytes} bytes left over)`,
    );
  }
  const count = bytes.length / recordBytes;
  const images = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Uint8Array(count);
  const plane = CIFAR_SIZE * CIFAR_SIZE;
  for (let n = 0; n < count; n++) {
    const record = n * recordBytes;
    const label = bytes[record + format.labelIndex] as number;
    if (label >= format.classes) {
      throw new Error(`${file}: record ${n} has label ${label}, expected 0 ≤ label < ${format.classes}`);
    }
    labels[n] = label;
    const pixels = record + format.labelBytes;
    const out = n * CIFAR_PIXELS;
    for (let c = 0; c < 3; c++) {
      const src = pixels + c * plane;
      for (let p = 0; p < plane; p++) images[out + p * 3 + c] = bytes[src + p] as number;
    }
  }
  return { count, images, labels };
}

/** Records in the largest CIFAR file (CIFAR-100's train.bin has 50000); a bound on what is read. */
export const CIFAR_MAX_RECORDS = 60_000;

/** Reads one CIFAR binary file (gzip allowed, at most `CIFAR_MAX_RECORDS` records); errors name the file. */
export async function readCifarFile(file: string, format: CifarFormat): Promise<CifarRecords> {
  const recordBytes = format.labelBytes + CIFAR_PIXELS;
  const limit = { bytes: CIFAR_MAX_RECORDS * recordBytes, because: `${CIFAR_MAX_RECORDS} ${format.dataset} records of ${recordBytes} bytes take` };
  return decodeCifar(await readMaybeGzipped(file, () => limit), file, format);
}

/** Reads and concatenates CIFAR files into one split (e.g. the five CIFAR-10 training batches). */
export async function readCifarSplit(files: readonly string[], format: CifarFormat, split: 'train' | 'test'): Promise<ImageSplit> {
  if (files.length === 0) throw new Error(`${format.dataset}/${split}: no files given`);
  const parts: CifarRecords[] = [];
  for (const file of files) parts.push(await readCifarFile(file, format));
  const count = parts.reduce((sum, part) => sum + part.count, 0);
  const images = new Uint8Array(count * CIFAR_PIXELS);
  const labels = new Uint8Array(count);
  let offset = 0;
  for (const part of parts) {
    images.set(part.images, offset * CIFAR_PIXELS);
    labels.set(part.labels, offset);
    offset += part.count;
  }
  const result: ImageSplit = {
    dataset: format.dataset,
    split,
    images,
    labels,
    count,
    height: CIFAR_SIZE,
    width: CIFAR_SIZE,
    channels: 3,
    classes: format.classes,
  };
  assertImageSplit(result);
  return result;
}

/** File names of a CIFAR split, in reading order. */
export function cifarFileNames(format: CifarFormat, split: 'train' | 'test'): string[] {
  if (format.dataset === 'cifar10') {
    return split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'];
  }
  return [split === 'train' ? 'train.bin' : 'test.bin'];
}

/** The sub-folder the official archive extracts to (`cifar-10-batches-bin`, `cifar-100-binary`). */
export function cifarArchiveFolder(format: CifarFormat): string {
  return format.dataset === 'cifar10' ? 'cifar-10-batches-bin' : 'cifar-100-binary';
}
