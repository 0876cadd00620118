/**
 * Adversarial suite, safetensors reader: truncation at every length, hostile header lengths,
 * malformed entries (bad offsets, gaps, overlaps, unknown dtypes), non-finite values, files that
 * are not regular files, files too large to read whole, and files over 2 GiB that must load.
 * Whatever could exhaust memory or block runs in a capped child process (see capped-child.ts).
 * Format and round-trip tests stay beside the code (src/checkpoint/safetensors.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, parseSafetensors, readSafetensors, readSafetensorsHeader, serializeSafetensors } from '../../src/checkpoint/safetensors.js';
import { prepareCappedReaders, type CappedReaders, type ChildResult } from './capped-child.js';

let dir: string;
let readers: CappedReaders;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-adversarial-safetensors-'));
  readers = await prepareCappedReaders();
});
afterAll(async () => {
  await readers.dispose();
  await rm(dir, { recursive: true, force: true });
});

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * A safetensors file built byte by byte, independently of the writer: u64 LE header length, the
 * JSON header, then the raw data.
 */
function handMade(header: unknown, data: number[], headerLengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32le = (...values: number[]): number[] => Array.from(new Uint8Array(new Float32Array(values).buffer));

/** A refusal: exit 2 with a one-line error, quickly, within the memory cap. */
function expectCleanRefusal(result: ChildResult, message: RegExp, maxMs = 10_000): void {
  expect(result.timedOut, `timed out; stderr: ${result.stderr}`).toBe(false);
  expect(result.code, `stderr: ${result.stderr}`).toBe(2);
  expect(result.report?.error).toMatch(message);
  expect(result.ms).toBeLessThan(maxMs);
  expect(result.report?.maxRssMb).toBeLessThan(200);
}

describe('adversarial: safetensors truncated and malformed', () => {
  it('a file cut at every length from 0 to its size − 1 is refused as truncated, naming the file (all three readers)', async () => {
    const good = serializeSafetensors(new Map([['w', { shape: [3, 2], data: new Float32Array(6).fill(0.5) }], ['n', { dtype: 'I64' as const, shape: [1], data: [7] }]]), { format: 'y' });
    const path = join(dir, 'cut.safetensors');
    const named = new RegExp(`safetensors file ${escape(path)}: is truncated`);
    for (let keep = 0; keep < good.length; keep++) {
      const cut = good.subarray(0, keep);
      await writeFile(path, cut);
      await expect(readSafetensors(path), `readSafetensors, ${keep} bytes`).rejects.toThrow(named);
      await expect(readSafetensorsHeader(path), `readSafetensorsHeader, ${keep} bytes`).rejects.toThrow(named);
      expect(() => parseSafetensors(cut, path), `parseSafetensors, ${keep} bytes`).toThrow(named);
    }
    await writeFile(path, good);
    expect((await readSafetensors(path)).tensors.size).toBe(2);
  });

  it('hostile header lengths (0, 1, 2^64 − 1, 2^63, just over the 100 MB limit, longer than the file) are refused before any allocation', async () => {
    const path = join(dir, 'hostile-length.safetensors');
    for (const length of [0n, 1n, 2n ** 64n - 1n, 2n ** 63n, BigInt(MAX_HEADER_BYTES) + 1n]) {
      await writeFile(path, handMade({}, [], length));
      await expect(readSafetensors(path), `length ${length}`).rejects.toThrow(new RegExp(`${escape(path)}: header length ${length} is not plausible`));
    }
    await writeFile(path, handMade({}, [1, 2, 3], 5000n));
    await expect(readSafetensors(path)).rejects.toThrow(/is truncated: the header should be 5000 bytes but only \d+ follow the length field/);
  });

  it('bad offsets, gaps, overlaps, wrong sizes, trailing bytes, unknown dtypes, bad shapes and bad metadata name the tensor', () => {
    const data = f32le(1, 2, 3, 4);
    const parse = (header: unknown, bytes = data, len?: bigint) => () => parseSafetensors(handMade(header, bytes, len), 'bad.safetensors');
    expect(parse({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 12] } })).toThrow(/tensor "w": F32\[2\] needs 8 bytes but data_offsets \[0, 12\] span 12/);
    expect(parse({ w: { dtype: 'F32', shape: [5], data_offsets: [0, 20] } })).toThrow(/truncated: tensor "w" ends at byte 20/);
    expect(parse({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } })).toThrow(/gap in the data section before tensor "w"/);
    expect(parse({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } })).toThrow(/tensor "b" overlaps/);
    expect(parse({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } })).toThrow(/tensor "b" overlaps/);
    expect(parse({ w: { dtype: 'F32', shape: [1], data_offsets: [16, 12] } })).toThrow(/tensor "w": data_offsets \[16, 12\] are reversed/);
    expect(parse({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } })).toThrow(/4 trailing bytes/);
    expect(parse({ w: { dtype: 'C64', shape: [2], data_offsets: [0, 16] } })).toThrow(/tensor "w": unsupported dtype "C64"/);
    expect(parse({ w: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } })).toThrow(/tensor "w": shape \[-4\]/);
    expect(parse({ w: { dtype: 'F32', shape: [2 ** 60], data_offsets: [0, 16] } })).toThrow(/tensor "w": shape|needs/);
    expect(parse({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 2 ** 60] } })).toThrow(/tensor "w"/);
    expect(parse({ w: 'not an entry' })).toThrow(/tensor "w": header entry is not an object/);
    expect(parse({ __metadata__: { epoch: 3 }, w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } })).toThrow(/__metadata__ value "epoch" is a number/);
    expect(parse([1, 2], data)).toThrow(/header is not a JSON object/);
    expect(() => parseSafetensors(handMade({}, []).map((b, i) => (i === 8 ? 0xff : b)), 'x')).toThrow(/header is not valid UTF-8 JSON/);
  });

  it('NaN and ±Inf are refused, naming the tensor and the index, in every float dtype', async () => {
    const bytes = serializeSafetensors(new Map([
      ['ok', { shape: [2], data: new Float32Array([1, 2]) }],
      ['layer.weight', { shape: [2, 2], data: new Float32Array([1, 2, NaN, 4]) }],
    ]));
    expect(() => parseSafetensors(bytes, 'nan.safetensors')).toThrow(/nan\.safetensors: tensor "layer\.weight" F32\[2, 2\] holds a non-finite value \(NaN\) at flat index 2/);
    expect(Number.isNaN(parseSafetensors(bytes, 'nan', { allowNonFinite: true }).tensors.get('layer.weight')?.data[2])).toBe(true);
    const path = join(dir, 'inf.safetensors');
    // F16 +Inf = 0x7C00, BF16 −Inf = 0xFF80, F64 NaN.
    for (const [dtype, raw] of [['F16', [0x00, 0x7c]], ['BF16', [0x80, 0xff]], ['F64', Array.from(new Uint8Array(new Float64Array([NaN]).buffer))]] as const) {
      await writeFile(path, handMade({ b: { dtype, shape: [1], data_offsets: [0, raw.length] } }, [...raw]));
      await expect(readSafetensors(path), dtype).rejects.toThrow(new RegExp(`tensor "b" ${dtype}\\[1\\] holds a non-finite value \\((-?Infinity|NaN)\\)`));
    }
  });
});

describe('adversarial: safetensors inputs that are not (small) regular files', () => {
  it('a 1.5 GB file of zeros is refused at once by a child capped at 256 MB heap (its 8-byte length field is 0)', async () => {
    const path = join(dir, 'zeros.safetensors');
    const handle = await open(path, 'w');
    await handle.truncate(1_500_000_000); // sparse: no disk used
    await handle.close();
    expectCleanRefusal(await readers.run('safetensors', path), new RegExp(`safetensors file ${escape(path)}: header length 0 is not plausible`));
    await rm(path);
  });

  it('a FIFO, /dev/zero and a folder are refused as not regular files, naming them, without blocking or growing', async () => {
    const fifo = join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    const folder = join(dir, 'folder.safetensors');
    await mkdir(folder);
    const [fromFifo, fromZero, fromFolder, headerOfFifo] = await Promise.all([
      readers.run('safetensors', fifo, { timeoutMs: 15_000 }),
      readers.run('safetensors', '/dev/zero', { timeoutMs: 15_000 }),
      readers.run('safetensors', folder, { timeoutMs: 15_000 }),
      readers.run('safetensors-header', fifo, { timeoutMs: 15_000 }),
    ]);
    expectCleanRefusal(fromFifo, new RegExp(`safetensors file ${escape(fifo)}: is a FIFO \\(named pipe\\), expected a regular file`));
    expectCleanRefusal(headerOfFifo, /is a FIFO/);
    expectCleanRefusal(fromZero, /safetensors file \/dev\/zero: is a character device, expected a regular file/);
    expectCleanRefusal(fromFolder, new RegExp(`safetensors file ${escape(folder)}: is a folder, expected a regular file`));
  });
});

describe('adversarial: safetensors files over 2 GiB', () => {
  /**
   * A sparse 2.2 GB file: small tensors a, n at the start, two U8 fillers of 1.2 GB and 1.0 GB
   * (zeros, never written), and a small tensor `tail` whose bytes lie beyond 2 GiB.
   */
  async function bigFile(): Promise<{ path: string; tailValues: number[] }> {
    const fillers = [1_200_000_000, 1_000_000_000];
    const tailValues = [0.25, -8, 3.5];
    const header = {
      __metadata__: { format: 'mode-connectivity/test' },
      a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
      n: { dtype: 'I64', shape: [1], data_offsets: [16, 24] },
      'optimizer/filler-1': { dtype: 'U8', shape: [fillers[0]], data_offsets: [24, 24 + fillers[0]!] },
      'optimizer/filler-2': { dtype: 'U8', shape: [fillers[1]], data_offsets: [24 + fillers[0]!, 24 + fillers[0]! + fillers[1]!] },
      tail: { dtype: 'F32', shape: [3], data_offsets: [24 + fillers[0]! + fillers[1]!, 36 + fillers[0]! + fillers[1]!] },
    };
    const head = handMade(header, [...f32le(1, 2, 3, 4), ...Array.from(new Uint8Array(new BigInt64Array([42n]).buffer))]);
    const dataStart = head.length - 24;
    const tailAt = dataStart + 24 + fillers[0]! + fillers[1]!;
    const path = join(dir, 'big.safetensors');
    const handle = await open(path, 'w');
    await handle.write(head, 0, head.length, 0);
    await handle.write(new Uint8Array(f32le(...tailValues)), 0, 12, tailAt);
    await handle.close();
    expect(tailAt).toBeGreaterThan(2 ** 31);
    return { path, tailValues };
  }

  it('loads: the header is validated against the size, tensors are read at offsets beyond 2 GiB; a tensor over 2 GiB as float32 is refused by name', async () => {
    const { path, tailValues } = await bigFile();
    const header = await readSafetensorsHeader(path);
    expect([...header.tensors.keys()]).toEqual(['a', 'n', 'optimizer/filler-1', 'optimizer/filler-2', 'tail']);
    const { tensors, metadata } = await readSafetensors(path, { names: ['a', 'n', 'tail'] });
    expect(metadata).toEqual({ format: 'mode-connectivity/test' });
    expect([...tensors.keys()]).toEqual(['a', 'n', 'tail']);
    expect(Array.from(tensors.get('a')?.data ?? [])).toEqual([1, 2, 3, 4]);
    expect(Array.from(tensors.get('n')?.data ?? [])).toEqual([42]);
    expect(Array.from(tensors.get('tail')?.data ?? [])).toEqual(tailValues);
    await expect(readSafetensors(path, { names: ['a', 'missing'] })).rejects.toThrow(/has no tensor "missing" \(it holds 5 tensors\)/);
    // Whole: the 1.2 GB U8 filler would be 4.8 GB as float32, refused before any data is read.
    expectCleanRefusal(await readers.run('safetensors', path), /tensor "optimizer\/filler-1" U8\[1200000000\] is 1200000000 bytes \(4800000000 as float32\); a single tensor must be under 2 GiB/);
    await rm(path);
  });
});
