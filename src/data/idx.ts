/**
 * IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., 1998,
 * http://yann.lecun.com/exdb/mnist/; Xiao, Rasul & Vollgraf, 2017, arXiv:1708.07747).
 *
 * Layout (big-endian): bytes 0‥1 are zero, byte 2 is the element type (0x08 = unsigned byte, the
 * only type these data sets use), byte 3 the number of dimensions d; then d uint32 sizes; then
 * ∏ sizes elements in row-major order. Images are magic 0x00000803 (N×H×W), labels 0x00000801 (N).
 * Files may be gzip-compressed (detected by the gzip magic 1f 8b, not by the file name).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import type { ImageSplit } from './types.js';
import { assertImageSplit } from './types.js';

const gunzip = promisify(gunzipCallback);
const gzip = promisify(gzipCallback);

/** Element type code of unsigned bytes in the IDX header. */
export const IDX_UBYTE = 0x08;

/** A decoded IDX array of unsigned bytes. */
export interface IdxArray {
  /** Sizes of the dimensions, outermost first. */
  readonly dims: readonly number[];
  /** Elements in row-major order. */
  readonly data: Uint8Array;
}

function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

/** True when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads a whole file, gunzipping it when it starts with the gzip magic. Errors name the file
 * (missing file, unreadable file, corrupt or truncated gzip stream).
 */
export async function readMaybeGzipped(file: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${file}: file not found`, { cause: error });
    throw new Error(`${file}: cannot read (${(error as Error).message})`, { cause: error });
  }
  if (!isGzip(raw)) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  try {
    const out = await gunzip(raw);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (error) {
    throw new Error(`${file}: corrupt or truncated gzip data (${(error as Error).message})`, { cause: error });
  }
}

/**
 * Decodes IDX bytes. `file` only names the source in errors; `expectedMagic`, when given, is the
 * whole 4-byte magic (e.g. 0x00000803) the caller requires.
 */
export function decodeIdx(bytes: Uint8Array, file: string, expectedMagic?: number): IdxArray {
  if (bytes.length < 4) {
    throw new Error(`${file}: expected an IDX header of at least 4 bytes, found ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (expectedMagic !== undefined && magic !== expectedMagic) {
    throw new Error(`${file}: expected IDX magic ${hex32(expectedMagic)}, found ${hex32(magic)}`);
  }
  const type = bytes[2] as number;
  const ndims = bytes[3] as number;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${file}: not an IDX file (expected magic 0x0000TTDD, found ${hex32(magic)})`);
  }
  if (type !== IDX_UBYTE) {
    throw new Error(`${file}: expected IDX element type 0x08 (unsigned byte), found 0x${type.toString(16).padStart(2, '0')}`);
  }
  if (ndims === 0) throw new Error(`${file}: expected at least one IDX dimension, found 0`);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new Error(`${file}: truncated IDX header: expected ${headerBytes} bytes for ${ndims} dimensions, found ${bytes.length}`);
  }
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  const expectedLength = headerBytes + size;
  if (bytes.length !== expectedLength) {
    const what = bytes.length < expectedLength ? 'truncated' : 'trailing bytes';
    throw new Error(
      `${file}: ${what}: header dims [${dims.join(', ')}] need ${expectedLength} bytes, found ${bytes.length}`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Encodes unsigned bytes as an (uncompressed) IDX array with the given dims. */
export function encodeIdx(data: Uint8Array, dims: readonly number[]): Uint8Array {
  if (dims.length === 0 || dims.length > 255) {
    throw new Error(`encodeIdx: expected 1‥255 dimensions, found ${dims.length}`);
  }
  const size = dims.reduce((a, b) => a * b, 1);
  if (!dims.every((d) => Number.isInteger(d) && d >= 0 && d <= 0xffffffff) || size !== data.length) {
    throw new Error(`encodeIdx: dims [${dims.join(', ')}] describe ${size} elements, data has ${data.length}`);
  }
  const headerBytes = 4 + 4 * dims.length;
  const out = new Uint8Array(headerBytes + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (IDX_UBYTE << 8) | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, headerBytes);
  return out;
}

/** Reads an IDX file (gzip or raw); errors name the file and what was wrong. */
export async function readIdx(file: string, expectedMagic?: number): Promise<IdxArray> {
  return decodeIdx(await readMaybeGzipped(file), file, expectedMagic);
}

/** Writes an IDX file, gzip-compressed unless `gzip: false`. */
export async function writeIdx(
  file: string,
  data: Uint8Array,
  dims: readonly number[],
  options: { readonly gzip?: boolean } = {},
): Promise<void> {
  const encoded = encodeIdx(data, dims);
  await writeFile(file, options.gzip === false ? encoded : await gzip(encoded, { level: 9 }));
}

/** Magic of an N×H×W unsigned-byte image file. */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic of an N unsigned-byte label file. */
export const IDX_LABELS_MAGIC = 0x00000801;

/** Where an IDX split comes from and what it is. */
export interface IdxSplitSource {
  readonly imagesFile: string;
  readonly labelsFile: string;
  readonly dataset: string;
  readonly split: 'train' | 'test';
  readonly classes: number;
}

/**
 * Reads an image file (magic 0x00000803) and its label file (magic 0x00000801) as one split
 * with a single channel. Errors name the file whose content disagrees.
 */
export async function readIdxSplit(source: IdxSplitSource): Promise<ImageSplit> {
  const [images, labels] = await Promise.all([
    readIdx(source.imagesFile, IDX_IMAGES_MAGIC),
    readIdx(source.labelsFile, IDX_LABELS_MAGIC),
  ]);
  const [count, height, width] = images.dims as [number, number, number];
  const labelCount = labels.dims[0] as number;
  if (labelCount !== count) {
    throw new Error(`${source.labelsFile}: expected ${count} labels (one per image in ${source.imagesFile}), found ${labelCount}`);
  }
  for (let i = 0; i < labelCount; i++) {
    const label = labels.data[i] as number;
    if (label >= source.classes) {
      throw new Error(`${source.labelsFile}: label ${i} is ${label}, expected 0 ≤ label < ${source.classes}`);
    }
  }
  const split: ImageSplit = {
    dataset: source.dataset,
    split: source.split,
    images: images.data,
    labels: labels.data,
    count,
    height,
    width,
    channels: 1,
    classes: source.classes,
  };
  assertImageSplit(split);
  return split;
}

/** Writes a single-channel split as gzip IDX image and label files (for subsets and tests). */
export async function writeIdxSplit(split: ImageSplit, imagesFile: string, labelsFile: string): Promise<void> {
  if (split.channels !== 1) {
    throw new Error(`writeIdxSplit: IDX image files hold one channel, ${split.dataset}/${split.split} has ${split.channels}`);
  }
  assertImageSplit(split);
  await writeIdx(imagesFile, split.images, [split.count, split.height, split.width]);
  await writeIdx(labelsFile, split.labels, [split.count]);
}
