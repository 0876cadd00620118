/**
 * IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., 1998,
 * http://yann.lecun.com/exdb/mnist/; Xiao, Rasul & Vollgraf, 2017, arXiv:1708.07747).
 *
 * Layout (big-endian): bytes 0‥1 are zero, byte 2 is the element type (0x08 = unsigned byte, the
 * only type these data sets use), byte 3 the number of dimensions d; then d uint32 sizes; then
 * ∏ sizes elements in row-major order. Images are magic 0x00000803 (N×H×W), labels 0x00000801 (N).
 * Files may be gzip-compressed (detected by the gzip magic 1f 8b, not by the file name). The header
 * bounds what is read: a raw file larger than its header describes is refused before it is read,
 * and gzip data is inflated only up to that size (a 4 MB gzip bomb of 4 GiB costs no memory).
 */
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGunzip, gzip as gzipCallback } from 'node:zlib';
import { writeFileAtomic } from '../util/atomic-write.js';
import { openRegularFile, readAt, type OpenRegularFile } from '../util/regular-file.js';
import type { ImageSplit } from './types.js';
import { assertImageSplit } from './types.js';

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

/** An upper bound on a file's (inflated) content, and why: refused beyond it. */
export interface ContentLimit {
  readonly bytes: number;
  /** Completes "more than the N bytes that …", e.g. "the IDX header (dims [2, 28, 28]) describes". */
  readonly because: string;
}

/** Bytes of content handed to `limit` to find the bound: room for an IDX header of 255 dims. */
export const CONTENT_PREFIX_BYTES = 4 + 4 * 255;

/** Largest content held in memory (2 GiB − 1), whatever a header claims: larger files are refused. */
export const MAX_CONTENT_BYTES = 2 ** 31 - 1;

/** The bound `limit` gives, refused outright when it exceeds `MAX_CONTENT_BYTES`. */
function boundOf(limit: (prefix: Uint8Array) => ContentLimit | undefined, prefix: Uint8Array, file: string): ContentLimit | undefined {
  const bound = limit(prefix);
  if (bound !== undefined && bound.bytes > MAX_CONTENT_BYTES) {
    throw new Error(`${file}: ${bound.because} ${bound.bytes} bytes, more than the ${MAX_CONTENT_BYTES} one file may hold here`);
  }
  return bound;
}

/**
 * Reads a file's content, gunzipping it when it starts with the gzip magic, never holding more
 * than `limit(prefix)` allows: `limit` gets the first `CONTENT_PREFIX_BYTES` bytes of the content
 * (fewer when the content is shorter) and returns the bound (e.g. from a header), or undefined
 * when it cannot make sense of them, in which case only that prefix is returned, for the decoder
 * to report. Gzip input is inflated as a stream and refused as soon as it passes the bound, so a
 * gzip bomb costs no more memory than the bound. Only regular files are read. Errors name the file
 * (missing, not a regular file, corrupt or truncated gzip stream, content over the bound).
 */
export async function readMaybeGzipped(file: string, limit: (prefix: Uint8Array) => ContentLimit | undefined): Promise<Uint8Array> {
  let opened: OpenRegularFile;
  try {
    opened = await openRegularFile(file, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${file}: file not found`, { cause: error });
    if (code === undefined) throw error;
    throw new Error(`${file}: cannot read (${(error as Error).message})`, { cause: error });
  }
  const { handle, size } = opened;
  try {
    const magic = new Uint8Array(Math.min(2, size));
    await readAt(handle, magic, 0);
    return isGzip(magic) ? await inflateWithin(handle, file, limit) : await readWithin(handle, size, file, limit);
  } finally {
    await handle.close();
  }
}

/** Reads an uncompressed file, checking its size against the bound before reading it whole. */
async function readWithin(handle: FileHandle, size: number, file: string, limit: (prefix: Uint8Array) => ContentLimit | undefined): Promise<Uint8Array> {
  const prefix = new Uint8Array(Math.min(CONTENT_PREFIX_BYTES, size));
  await readAt(handle, prefix, 0);
  const bound = boundOf(limit, prefix, file);
  if (bound === undefined || size === prefix.byteLength) return prefix;
  if (size > bound.bytes) throw new Error(`${file}: the file has ${size} bytes, more than the ${bound.bytes} that ${bound.because}`);
  const bytes = new Uint8Array(size);
  const got = await readAt(handle, bytes, 0);
  return bytes.subarray(0, got);
}

/** Inflates a gzip file as a stream, refusing it as soon as its content passes the bound. */
async function inflateWithin(handle: FileHandle, file: string, limit: (prefix: Uint8Array) => ContentLimit | undefined): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  let bound: ContentLimit | undefined;
  let prefixOnly = false;
  let overBound: Error | undefined;
  const collect = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      chunks.push(chunk);
      total += chunk.byteLength;
      if (bound === undefined && total >= CONTENT_PREFIX_BYTES) {
        try {
          bound = boundOf(limit, Buffer.concat(chunks).subarray(0, CONTENT_PREFIX_BYTES), file);
        } catch (error) {
          overBound = error as Error;
          throw error;
        }
        // A header the caller cannot read: its first bytes are enough for the decoder to say why.
        prefixOnly = bound === undefined;
        if (prefixOnly) return;
      }
      if (bound !== undefined && total > bound.bytes) {
        overBound = new Error(`${file}: gzip data inflates to more than the ${bound.bytes} bytes that ${bound.because} (a corrupt file or a gzip bomb); refused without inflating the rest`);
        throw overBound;
      }
    }
  };
  try {
    await pipeline(handle.createReadStream({ start: 0, autoClose: false }), createGunzip(), collect);
  } catch (error) {
    // pipeline() may reject with the AbortError of the streams it tore down rather than ours.
    if (overBound !== undefined) throw overBound;
    if (!prefixOnly) throw new Error(`${file}: corrupt or truncated gzip data (${(error as Error).message})`, { cause: error });
  }
  const content = Buffer.concat(chunks, total);
  const bytes = new Uint8Array(content.buffer, content.byteOffset, content.byteLength);
  return prefixOnly ? bytes.subarray(0, CONTENT_PREFIX_BYTES) : bytes;
}

/** Bytes per element of the IDX element types (0x08 ubyte … 0x0e double). */
const IDX_ELEMENT_BYTES: Readonly<Record<number, number>> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };

/**
 * The size an IDX file's header describes (header + ∏ dims × element size), from its first
 * bytes; undefined when they are not a complete IDX header (`decodeIdx` then says what is wrong).
 */
export function idxContentLimit(prefix: Uint8Array): ContentLimit | undefined {
  if (prefix.length < 4 || prefix[0] !== 0 || prefix[1] !== 0) return undefined;
  const elementBytes = IDX_ELEMENT_BYTES[prefix[2] as number];
  const ndims = prefix[3] as number;
  const headerBytes = 4 + 4 * ndims;
  if (elementBytes === undefined || ndims === 0 || prefix.length < headerBytes) return undefined;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  return { bytes: headerBytes + dims.reduce((a, b) => a * b, 1) * elementBytes, because: `the IDX header (dims [${dims.join(', ')}]) describes` };
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
  return decodeIdx(await readMaybeGzipped(file, idxContentLimit), file, expectedMagic);
}

/** Writes an IDX file, gzip-compressed unless `gzip: false`. */
export async function writeIdx(
  file: string,
  data: Uint8Array,
  dims: readonly number[],
  options: { readonly gzip?: boolean } = {},
): Promise<void> {
  const encoded = encodeIdx(data, dims);
  await writeFileAtomic(file, options.gzip === false ? encoded : await gzip(encoded, { level: 9 }));
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
