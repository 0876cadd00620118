/**
 * Reading and writing the safetensors format (https://github.com/huggingface/safetensors).
 *
 * Layout of a file:
 *
 *     [u64 little-endian N][N bytes of UTF-8 JSON header][data section]
 *
 * The header maps every tensor name to `{dtype, shape, data_offsets: [begin, end]}` (offsets are
 * relative to the data section, little-endian, row-major) and may hold `__metadata__`, a
 * string → string map. Tensors tile the data section exactly: sorted by offset they are
 * contiguous, start at 0 and end at the end of the file.
 *
 * In memory every tensor is held as a `Float32Array` whatever its stored dtype (F16, BF16, F64 and
 * the integer dtypes are converted on read), with the stored dtype kept beside it, so that callers
 * can reject e.g. an integer tensor where a weight is expected. The reader refuses NaN and ±Inf
 * unless asked not to: a checkpoint with a non-finite weight is broken, and it is better to say so
 * at load time, naming the tensor, than to produce NaN losses later. `readSafetensorsHeader` reads
 * only the length field and the header (to look at the metadata before loading), validated the same
 * way against the file's size. Files are never read whole: the header is read and checked against
 * the file's size first, then each tensor at its offset, so files over 2 GiB load.
 *
 * Writes are atomic (`writeFileAtomic`: an exclusive, randomly named temporary file beside `path`,
 * renamed over it once complete); on failure the temporary file is removed and `path` is untouched.
 */
import type { FileHandle } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import { openRegularFile, readAt, type OpenRegularFile } from '../util/regular-file.js';

/** The dtypes of the safetensors format that this reader understands. */
export const SAFETENSORS_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

/** Dtypes this writer can produce. */
export type SafetensorsWriteDtype = 'F32' | 'I64';

const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Floating-point dtypes: their values are real numbers that float32 can hold (up to rounding). */
export const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set(['F64', 'F32', 'F16', 'BF16']);

/** Headers longer than this are refused (the reference implementation's limit, 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Largest tensor, as stored and as float32, that the reader holds in one array (2 GiB − 1). */
export const MAX_TENSOR_BYTES = 2 ** 31 - 1;

/** One header entry as stored on disk. */
export interface SafetensorsHeaderEntryOnDisk {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data_offsets: readonly [number, number];
}

/** The header as stored on disk: tensor entries plus the optional `__metadata__` map. */
export type SafetensorsHeaderOnDisk = Readonly<Record<string, SafetensorsHeaderEntryOnDisk | Readonly<Record<string, string>>>>;

/** One tensor in memory: its values as float32 and the dtype it was (or is to be) stored with. */
export interface SafetensorsTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Row-major values, `product(shape)` of them. */
  readonly data: Float32Array;
}

/** The contents of a safetensors file in memory. */
export interface SafetensorsContents {
  /** Tensors in the order of their data offsets. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  /** The `__metadata__` map (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface ReadSafetensorsOptions {
  /** Accept NaN and ±Inf values (default false: they are an error naming the tensor). */
  readonly allowNonFinite?: boolean;
  /**
   * Read only these tensors (default: all). The whole header is still validated; a name the file
   * does not hold is an error. E.g. the weights of a checkpoint without its optimizer state.
   */
  readonly names?: readonly string[];
}

/**
 * A tensor to write; `dtype` defaults to F32. Values are held as float32 in memory, so floating
 * dtypes (F64, F16, BF16) are written as F32 and integer dtypes as I64 (values must be integers):
 * what `parseSafetensors` returns can be written back as it is.
 */
export interface SafetensorsTensorToWrite {
  readonly dtype?: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && (SAFETENSORS_DTYPES as readonly string[]).includes(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** IEEE 754 half precision → number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Converts the raw little-endian bytes of one tensor to float32 values. `owned`: `bytes` is a
 * fresh array of our own (read from a file), which F32 values can use as they are.
 */
function decodeValues(bytes: Uint8Array, dtype: SafetensorsDtype, count: number, owned = false): Float32Array {
  if (dtype === 'F32' && LITTLE_ENDIAN_HOST && owned && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  if (dtype === 'F32' && LITTLE_ENDIAN_HOST) {
    // Copy into a fresh, 4-byte-aligned buffer: the data section need not be aligned, and a Node
    // Buffer's slice() would be a view, not a copy.
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new Float32Array(copy.buffer, 0, count);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F64': out[i] = view.getFloat64(8 * i, true); break;
      case 'F32': out[i] = view.getFloat32(4 * i, true); break;
      case 'F16': out[i] = halfToNumber(view.getUint16(2 * i, true)); break;
      case 'BF16': out[i] = new Float32Array(new Uint32Array([view.getUint16(2 * i, true) << 16]).buffer)[0] as number; break;
      case 'I64': out[i] = Number(view.getBigInt64(8 * i, true)); break;
      case 'I32': out[i] = view.getInt32(4 * i, true); break;
      case 'I16': out[i] = view.getInt16(2 * i, true); break;
      case 'I8': out[i] = view.getInt8(i); break;
      case 'U8': out[i] = view.getUint8(i); break;
      case 'BOOL': out[i] = view.getUint8(i) === 0 ? 0 : 1; break;
    }
  }
  return out;
}

interface HeaderEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

/** What the header says: metadata, entries sorted by offset, and where the data section starts. */
interface ParsedHeader {
  readonly metadata: Record<string, string>;
  readonly entries: HeaderEntry[];
  readonly dataStart: number;
}

/**
 * Reads the 8-byte length field from `prefix` (at least 8 bytes) and checks it against the file's
 * length; returns the header's byte length.
 */
function headerLengthOf(prefix: Uint8Array, fileLength: number, fail: (message: string) => never): number {
  if (fileLength < 8 || prefix.byteLength < 8) fail(`is truncated: ${fileLength} bytes, fewer than the 8-byte header length`);
  const headerLength = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getBigUint64(0, true);
  if (headerLength < 2n || headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${headerLength} is not plausible (expected 2 to ${MAX_HEADER_BYTES} bytes); not a safetensors file?`);
  }
  if (8 + Number(headerLength) > fileLength) {
    fail(`is truncated: the header should be ${headerLength} bytes but only ${fileLength - 8} follow the length field`);
  }
  return Number(headerLength);
}

/**
 * Validates the JSON header (`headerBytes`, without the length field) of a file of `fileLength`
 * bytes: every entry's dtype, shape and offsets, and that the tensors tile the data section exactly.
 */
function parseHeader(headerBytes: Uint8Array, fileLength: number, fail: (message: string) => never): ParsedHeader {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    fail(`header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + headerBytes.byteLength;
  const dataLength = fileLength - dataStart;

  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ is not an object');
      for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof value !== 'string') fail(`__metadata__ value "${key}" is a ${typeof value}, expected a string`);
      }
      metadata = { ...(raw as Record<string, string>) };
      continue;
    }
    if (typeof raw !== 'object' || raw === null) fail(`tensor "${name}": header entry is not an object`);
    const entry = raw as Record<string, unknown>;
    if (!isDtype(entry.dtype)) fail(`tensor "${name}": unsupported dtype ${JSON.stringify(entry.dtype)} (supported: ${SAFETENSORS_DTYPES.join(', ')})`);
    const dtype = entry.dtype;
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
      fail(`tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) fail(`tensor "${name}": data_offsets [${begin}, ${end}] are reversed`);
    const expectedBytes = product(shape) * BYTES_PER_ELEMENT[dtype];
    if (end - begin !== expectedBytes) {
      fail(`tensor "${name}": ${dtype}${formatShape(shape)} needs ${expectedBytes} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    if (end > dataLength) {
      fail(`is truncated: tensor "${name}" ends at byte ${end} of the data section, which has only ${dataLength} bytes`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const entry of entries) {
    if (entry.begin !== cursor) {
      fail(entry.begin < cursor
        ? `tensor "${entry.name}" overlaps the previous tensor (starts at byte ${entry.begin}, previous ends at ${cursor})`
        : `gap in the data section before tensor "${entry.name}" (bytes ${cursor} to ${entry.begin} belong to no tensor)`);
    }
    cursor = entry.end;
  }
  if (cursor !== dataLength) fail(`${dataLength - cursor} trailing bytes after the last tensor (data section is ${dataLength} bytes, tensors end at ${cursor})`);
  return { metadata, entries, dataStart };
}

function failIn(source: string): (message: string) => never {
  return (message: string): never => {
    throw new Error(`safetensors file ${source}: ${message}`);
  };
}

/** Refuses NaN and ±Inf (unless allowed), naming the tensor and the first offending index. */
function checkFinite(entry: HeaderEntry, data: Float32Array, options: ReadSafetensorsOptions, fail: (message: string) => never): void {
  if (options.allowNonFinite === true) return;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      fail(`tensor "${entry.name}" ${entry.dtype}${formatShape(entry.shape)} holds a non-finite value (${data[i]}) at flat index ${i}`);
    }
  }
}

/** The entries to read: all, or those named in `options.names` (each must exist). */
function selectEntries(entries: readonly HeaderEntry[], options: ReadSafetensorsOptions, fail: (message: string) => never): readonly HeaderEntry[] {
  if (options.names === undefined) return entries;
  const wanted = new Set(options.names);
  const missing = [...wanted].filter((name) => !entries.some((e) => e.name === name));
  if (missing.length > 0) fail(`has no tensor ${missing.map((n) => JSON.stringify(n)).join(', ')} (it holds ${entries.length} tensors)`);
  return entries.filter((e) => wanted.has(e.name));
}

/**
 * Parses the bytes of a safetensors file. `source` (usually the path) names the file in errors.
 * Validates the header length, every entry's dtype, shape and offsets, that the tensors tile the
 * data section exactly, and (unless `allowNonFinite`) that every value is finite.
 */
export function parseSafetensors(bytes: Uint8Array, source: string, options: ReadSafetensorsOptions = {}): SafetensorsContents {
  const fail: (message: string) => never = failIn(source);
  const headerLength = headerLengthOf(bytes, bytes.byteLength, fail);
  const { metadata, entries, dataStart } = parseHeader(bytes.subarray(8, 8 + headerLength), bytes.byteLength, fail);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const entry of selectEntries(entries, options, fail)) {
    const data = decodeValues(bytes.subarray(dataStart + entry.begin, dataStart + entry.end), entry.dtype, product(entry.shape));
    checkFinite(entry, data, options, fail);
    tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data });
  }
  return { tensors, metadata };
}

/**
 * Opens a safetensors file (regular files only), reads the length field and the header, and
 * validates them against the file's size; the caller closes the handle.
 */
async function openSafetensors(path: string): Promise<{ handle: FileHandle; header: ParsedHeader }> {
  const fail: (message: string) => never = failIn(path);
  let file: OpenRegularFile;
  try {
    file = await openRegularFile(path, `safetensors file ${path}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === undefined) throw error;
    throw new Error(`cannot read safetensors file ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const prefix = new Uint8Array(8);
    const got = await readAt(file.handle, prefix, 0);
    const headerLength = headerLengthOf(prefix.subarray(0, got), file.size, fail);
    const headerBytes = new Uint8Array(headerLength);
    const done = await readAt(file.handle, headerBytes, 8);
    if (done < headerLength) fail(`is truncated: the header should be ${headerLength} bytes but the file ended after ${done}`);
    return { handle: file.handle, header: parseHeader(headerBytes, file.size, fail) };
  } catch (error) {
    await file.handle.close();
    throw error;
  }
}

/**
 * Reads and validates a safetensors file (see `parseSafetensors`) without holding it whole in
 * memory: the length field and the header are read and checked against the file's size first,
 * then each tensor is read at its own offset. So files of any size load (ResNet-scale checkpoints
 * with optimizer state exceed 2 GiB) as long as each tensor is under 2 GiB, and a file whose
 * header does not fit its size is refused before any tensor data is read. Non-regular files
 * (FIFOs, devices, folders) are refused.
 */
export async function readSafetensors(path: string, options: ReadSafetensorsOptions = {}): Promise<SafetensorsContents> {
  const fail: (message: string) => never = failIn(path);
  const { handle, header } = await openSafetensors(path);
  try {
    const entries = selectEntries(header.entries, options, fail);
    for (const entry of entries) {
      const bytes = entry.end - entry.begin;
      const asFloat32 = 4 * product(entry.shape);
      if (Math.max(bytes, asFloat32) > MAX_TENSOR_BYTES) {
        fail(`tensor "${entry.name}" ${entry.dtype}${formatShape(entry.shape)} is ${bytes} bytes (${asFloat32} as float32); a single tensor must be under 2 GiB (${MAX_TENSOR_BYTES + 1} bytes)`);
      }
    }
    const tensors = new Map<string, SafetensorsTensor>();
    for (const entry of entries) {
      const bytes = new Uint8Array(entry.end - entry.begin);
      const got = await readAt(handle, bytes, header.dataStart + entry.begin);
      if (got < bytes.byteLength) fail(`is truncated: tensor "${entry.name}" should be ${bytes.byteLength} bytes but the file ended after ${got} (did it shrink while being read?)`);
      const data = decodeValues(bytes, entry.dtype, product(entry.shape), true);
      checkFinite(entry, data, options, fail);
      tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data });
    }
    return { tensors, metadata: header.metadata };
  } finally {
    await handle.close();
  }
}

/** A safetensors file's header: tensor names, dtypes and shapes, and the metadata. */
export interface SafetensorsHeader {
  /** Tensors in the order of their data offsets. */
  readonly tensors: ReadonlyMap<string, { readonly dtype: SafetensorsDtype; readonly shape: readonly number[] }>;
  /** The `__metadata__` map (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Reads only the header of a safetensors file (the length field, then the JSON), e.g. to look at
 * its metadata before deciding how to load it. The header is validated as by `parseSafetensors`,
 * against the file's size (so truncation is caught); the values are not read.
 */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const { handle, header } = await openSafetensors(path);
  await handle.close();
  return { tensors: new Map(header.entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape }])), metadata: header.metadata };
}

/** The header (length field + padded JSON) and the list of data chunks of a safetensors file. */
function encodeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsTensorToWrite>,
  metadata: Readonly<Record<string, string>>,
): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (name === '__metadata__') throw new Error('safetensors: "__metadata__" cannot be a tensor name');
    const dtype: SafetensorsWriteDtype = tensor.dtype === undefined || FLOAT_DTYPES.has(tensor.dtype) ? 'F32' : 'I64';
    const count = product(tensor.shape);
    if (!tensor.shape.every(isNonNegativeInteger)) throw new Error(`safetensors: tensor "${name}" has an invalid shape ${formatShape(tensor.shape)}`);
    if (tensor.data.length !== count) {
      throw new Error(`safetensors: tensor "${name}" has shape ${formatShape(tensor.shape)} (${count} values) but ${tensor.data.length} values were given`);
    }
    const chunk = new Uint8Array(count * BYTES_PER_ELEMENT[dtype]);
    const view = new DataView(chunk.buffer);
    for (let i = 0; i < count; i++) {
      const value = tensor.data[i] as number;
      if (dtype === 'F32') {
        view.setFloat32(4 * i, value, true);
      } else {
        if (!Number.isSafeInteger(value)) throw new Error(`safetensors: tensor "${name}" is I64 but holds the non-integer ${value} at flat index ${i}`);
        view.setBigInt64(8 * i, BigInt(value), true);
      }
    }
    header[name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + chunk.byteLength] };
    offset += chunk.byteLength;
    chunks.push(chunk);
  }
  let json = JSON.stringify(header);
  // Pad with spaces so that the data section starts 8-byte aligned, as the reference writer does.
  const jsonBytes = new TextEncoder().encode(json);
  const padding = (8 - (jsonBytes.byteLength % 8)) % 8;
  json += ' '.repeat(padding);
  const headerBytes = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8 + headerBytes.byteLength);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  prefix.set(headerBytes, 8);
  return [prefix, ...chunks];
}

/** The bytes of a safetensors file holding `tensors` (in the given order) and `metadata`. */
export function serializeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsTensorToWrite>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const chunks = encodeSafetensors(tensors, metadata);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Writes a safetensors file atomically (see `util/atomic-write.ts`). */
export async function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, SafetensorsTensorToWrite>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
