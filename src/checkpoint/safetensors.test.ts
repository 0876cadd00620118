import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseSafetensors, readSafetensors, readSafetensorsHeader, serializeSafetensors, writeSafetensors } from './safetensors.js';

// Lets a test make the n-th write() of a file handle fail, to simulate a disk that fills up midway.
const failure = vi.hoisted(() => ({ failOnWrite: 0, writes: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    open: async (...args: Parameters<typeof fs.open>) => {
      const handle = await fs.open(...args);
      const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<{ bytesWritten: number }>;
      (handle as unknown as { write: (...a: unknown[]) => Promise<{ bytesWritten: number }> }).write = async (...a: unknown[]) => {
        failure.writes += 1;
        if (failure.failOnWrite > 0 && failure.writes >= failure.failOnWrite) throw new Error('ENOSPC: no space left on device (simulated)');
        return write(...a);
      };
      return handle;
    },
  };
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-safetensors-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Builds a safetensors file byte by byte, independently of the writer under test:
 * u64 LE header length, JSON header, then the raw data.
 */
function handMade(header: unknown, data: number[], headerLengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32le = (...values: number[]) => Array.from(new Uint8Array(new Float32Array(values).buffer));

describe('safetensors reader', () => {
  it('reads F32, F16, BF16, F64 and I64 tensors, converting them to float32', () => {
    const bytes = handMade(
      {
        __metadata__: { format: 'pt', note: 'hand made' },
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        // F16: 1.0 = 0x3C00, -2 = 0xC000, 65504 = 0x7BFF, 2^-24 (smallest subnormal) = 0x0001
        h: { dtype: 'F16', shape: [2, 2], data_offsets: [8, 16] },
        // BF16: 1.0 = 0x3F80, -0.5 = 0xBF00
        b: { dtype: 'BF16', shape: [2], data_offsets: [16, 20] },
        d: { dtype: 'F64', shape: [], data_offsets: [20, 28] },
        n: { dtype: 'I64', shape: [1], data_offsets: [28, 36] },
      },
      [
        ...f32le(1.5, -3.25),
        0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00,
        0x80, 0x3f, 0x00, 0xbf,
        ...Array.from(new Uint8Array(new Float64Array([0.1]).buffer)),
        ...Array.from(new Uint8Array(new BigInt64Array([-12345n]).buffer)),
      ],
    );
    const { tensors, metadata } = parseSafetensors(bytes, 'hand.safetensors');
    expect(metadata).toEqual({ format: 'pt', note: 'hand made' });
    expect([...tensors.keys()]).toEqual(['a', 'h', 'b', 'd', 'n']);
    expect(Array.from(tensors.get('a')!.data)).toEqual([1.5, -3.25]);
    expect(tensors.get('h')!.shape).toEqual([2, 2]);
    expect(Array.from(tensors.get('h')!.data)).toEqual([1, -2, 65504, Math.fround(2 ** -24)]);
    expect(Array.from(tensors.get('b')!.data)).toEqual([1, -0.5]);
    expect(tensors.get('d')!.data[0]).toBe(Math.fround(0.1));
    expect(tensors.get('d')!.shape).toEqual([]);
    expect(tensors.get('n')!.dtype).toBe('I64');
    expect(tensors.get('n')!.data[0]).toBe(-12345);
  });

  it('reads a data section that is not 4-byte aligned', () => {
    const header = { x: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } };
    let bytes = handMade(header, f32le(1, 2, 3));
    if ((bytes.length - 12) % 4 === 0) bytes = handMade({ ...header, __metadata__: { k: 'v' } }, f32le(1, 2, 3));
    expect((bytes.length - 12) % 4).not.toBe(0);
    expect(Array.from(parseSafetensors(bytes, 'odd').tensors.get('x')!.data)).toEqual([1, 2, 3]);
  });

  it('readSafetensors (positioned reads, tensor by tensor) gives what parseSafetensors gives on the same bytes, unaligned and mixed dtypes', async () => {
    const bytes = handMade(
      {
        __metadata__: { k: 'v' },
        h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
        x: { dtype: 'F32', shape: [3], data_offsets: [6, 18] },
        n: { dtype: 'I64', shape: [1], data_offsets: [18, 26] },
      },
      [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, ...f32le(1.5, -2, 1e-30), ...Array.from(new Uint8Array(new BigInt64Array([-3n]).buffer))],
    );
    const path = join(dir, 'mixed.safetensors');
    await writeFile(path, bytes);
    const fromFile = await readSafetensors(path);
    const fromBytes = parseSafetensors(bytes, path);
    expect(fromFile.metadata).toEqual({ k: 'v' });
    expect([...fromFile.tensors.keys()]).toEqual(['h', 'x', 'n']);
    for (const [name, t] of fromBytes.tensors) expect(Array.from(fromFile.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
    expect(Array.from(fromFile.tensors.get('x')!.data)).toEqual([1.5, -2, Math.fround(1e-30)]);
    const some = await readSafetensors(path, { names: ['n'] });
    expect([...some.tensors.keys()]).toEqual(['n']);
    expect(some.tensors.get('n')!.data[0]).toBe(-3);
  });

  // Hostile inputs (truncation at every length, hostile header lengths, malformed entries, NaN/Inf,
  // non-regular and oversized files, files over 2 GiB) live in test/adversarial/safetensors.test.ts.
  it('refuses a missing file, naming it', async () => {
    await expect(readSafetensors(join(dir, 'missing.safetensors'))).rejects.toThrow(/cannot read safetensors file .*missing\.safetensors/);
  });
});

describe('safetensors header reader', () => {
  it('readSafetensorsHeader returns the metadata and the tensors’ dtypes and shapes of a hand-made file without reading values', async () => {
    const path = join(dir, 'header.safetensors');
    // NaN in the data: the header reader does not look at values, the full reader refuses them.
    const header = { __metadata__: { format: 'x', n: '2' }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    await writeFile(path, handMade(header, f32le(1, 2, NaN)));
    const read = await readSafetensorsHeader(path);
    expect(read.metadata).toEqual({ format: 'x', n: '2' });
    expect([...read.tensors]).toEqual([['a', { dtype: 'F32', shape: [2] }], ['b', { dtype: 'F32', shape: [1] }]]);
    await expect(readSafetensors(path)).rejects.toThrow(/non-finite/);
  });

  it('names the file when it is missing, empty, truncated in the header or in the data, or not safetensors', async () => {
    const good = serializeSafetensors(new Map([['w', { shape: [4, 4], data: new Float32Array(16).fill(0.5) }]]), { format: 'y' });
    const path = join(dir, 'header-truncated.safetensors');
    const escaped = path.replace(/[.\\/]/g, '\\$&');
    for (const keep of [0, 5, 20, good.length - 1]) {
      await writeFile(path, good.subarray(0, keep));
      await expect(readSafetensorsHeader(path), `keep ${keep}`).rejects.toThrow(new RegExp(`safetensors file ${escaped}: is truncated`));
    }
    await writeFile(path, new TextEncoder().encode('{"rows": [1, 2, 3]}\n'));
    await expect(readSafetensorsHeader(path)).rejects.toThrow(new RegExp(`safetensors file ${escaped}: header length \\d+ is not plausible`));
    await expect(readSafetensorsHeader(join(dir, 'missing.safetensors'))).rejects.toThrow(/cannot read safetensors file .*missing\.safetensors/);
    await writeFile(path, good);
    expect((await readSafetensorsHeader(path)).metadata).toEqual({ format: 'y' });
  });
});

describe('safetensors writer', () => {
  it('writes what the hand-made layout describes, with an 8-byte aligned data section', () => {
    const bytes = serializeSafetensors(
      new Map([
        ['w', { shape: [2, 1], data: [0.25, -1] }],
        ['steps', { dtype: 'I64' as const, shape: [], data: [7] }],
      ]),
      { format: 'pt' },
    );
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const n = Number(view.getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
    expect(header).toEqual({
      __metadata__: { format: 'pt' },
      w: { dtype: 'F32', shape: [2, 1], data_offsets: [0, 8] },
      steps: { dtype: 'I64', shape: [], data_offsets: [8, 16] },
    });
    expect(view.getFloat32(8 + n, true)).toBe(0.25);
    expect(view.getFloat32(8 + n + 4, true)).toBe(-1);
    expect(view.getBigInt64(8 + n + 8, true)).toBe(7n);
  });

  it('round-trips through a file and refuses inconsistent input', async () => {
    const path = join(dir, 'roundtrip.safetensors');
    const values = Float32Array.from({ length: 60 }, (_, i) => Math.sin(i) * 10 ** (i % 7 - 3));
    await writeSafetensors(path, new Map([['x', { shape: [3, 4, 5], data: values }]]), { a: 'b' });
    const back = await readSafetensors(path);
    expect(back.metadata).toEqual({ a: 'b' });
    expect(back.tensors.get('x')!.shape).toEqual([3, 4, 5]);
    expect(back.tensors.get('x')!.data).toEqual(values);
    expect(() => serializeSafetensors(new Map([['x', { shape: [3], data: [1, 2] }]]))).toThrow(/tensor "x" has shape \[3\] \(3 values\) but 2 values/);
    expect(() => serializeSafetensors(new Map([['c', { dtype: 'I64' as const, shape: [1], data: [0.5] }]]))).toThrow(/tensor "c" is I64 but holds the non-integer 0.5/);
  });

  it('is atomic: a write failing midway leaves the old file intact and no temporary file', async () => {
    const path = join(dir, 'atomic.safetensors');
    await writeSafetensors(path, new Map([['old', { shape: [1], data: [1] }]]));
    const before = await readFile(path);
    const big = new Map([
      ['a', { shape: [1000], data: new Float32Array(1000) }],
      ['b', { shape: [1000], data: new Float32Array(1000) }],
    ]);
    failure.writes = 0;
    failure.failOnWrite = 3; // header and 'a' are written, 'b' fails
    try {
      await expect(writeSafetensors(path, big)).rejects.toThrow(/cannot write .*atomic\.safetensors: ENOSPC/);
    } finally {
      failure.failOnWrite = 0;
    }
    expect(failure.writes).toBe(3);
    expect(await readFile(path)).toEqual(before);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
    // A fresh target that fails never appears at all.
    const fresh = join(dir, 'fresh.safetensors');
    failure.writes = 0;
    failure.failOnWrite = 2;
    try {
      await expect(writeSafetensors(fresh, big)).rejects.toThrow(/ENOSPC/);
    } finally {
      failure.failOnWrite = 0;
    }
    expect((await readdir(dir)).filter((f) => f.startsWith('fresh'))).toEqual([]);
  });

  it('is atomic when the final rename fails', async () => {
    const target = join(dir, 'a-directory');
    await mkdir(target);
    await expect(writeSafetensors(target, new Map([['x', { shape: [1], data: [1] }]]))).rejects.toThrow(/cannot write .*a-directory/);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});
