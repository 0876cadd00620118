/**
 * Adversarial suite, IDX and CIFAR readers: gzip bombs, files larger than their header says, a
 * header claiming more than memory allows, non-regular files, and gzip data whose header is not
 * IDX. Each hostile read runs in a capped child process (see capped-child.ts). Wrong magic, wrong
 * element type, truncated files and streams, missing files and label checks are unit tests beside
 * the code (src/data/idx.test.ts, src/data/cifar.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx, readIdx } from '../../src/data/idx.js';
import { prepareCappedReaders, type CappedReaders, type ChildResult } from './capped-child.js';

let dir: string;
let readers: CappedReaders;
/** One gzip member holding 64 MiB of zeros (about 64 KB), the building block of the bombs. */
let zeros64MiB: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-adversarial-idx-'));
  readers = await prepareCappedReaders();
  zeros64MiB = gzipSync(new Uint8Array(64 * 2 ** 20), { level: 9 });
});
afterAll(async () => {
  await readers.dispose();
  await rm(dir, { recursive: true, force: true });
});

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function expectCleanRefusal(result: ChildResult, message: RegExp): void {
  expect(result.timedOut, `timed out; stderr: ${result.stderr}`).toBe(false);
  expect(result.code, `stderr: ${result.stderr}`).toBe(2);
  expect(result.report?.error).toMatch(message);
  expect(result.ms).toBeLessThan(10_000);
  expect(result.report?.maxRssMb).toBeLessThan(200);
}

/** The IDX header (big-endian) of an unsigned-byte array with these dims, without data. */
function idxHeader(dims: readonly number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  return out;
}

/**
 * A gzip bomb: `header` (its own gzip member) followed by `members` copies of one member holding
 * 64 MiB of zeros. Concatenated gzip members are one valid gzip stream (RFC 1952 §2.2).
 */
function gzipBomb(header: Uint8Array, members: number): { bytes: Buffer; inflated: number } {
  return { bytes: Buffer.concat([gzipSync(header), ...Array.from({ length: members }, () => zeros64MiB)]), inflated: header.length + members * 64 * 2 ** 20 };
}

describe('adversarial: IDX', () => {
  it('concatenated gzip members are one stream to the reader (what the bombs below rely on)', async () => {
    const data = Uint8Array.from({ length: 24 }, (_, i) => i);
    const whole = encodeIdx(data, [2, 3, 4]);
    const path = join(dir, 'members.gz');
    await writeFile(path, Buffer.concat([gzipSync(whole.subarray(0, 10)), gzipSync(whole.subarray(10))]));
    expect(gunzipSync(await readFile(path))).toEqual(Buffer.from(whole));
    expect(Array.from((await readIdx(path)).data)).toEqual(Array.from(data));
  });

  it('a 4 MB gzip IDX that inflates to 4 GiB is refused after the size its header gives, naming the file and that size, in 256 MB', async () => {
    const bomb = gzipBomb(idxHeader([10, 28, 28]), 64);
    expect(bomb.bytes.length).toBeLessThan(5_000_000);
    expect(bomb.inflated).toBeGreaterThan(4 * 2 ** 30);
    const path = join(dir, 'bomb-images-idx3-ubyte.gz');
    await writeFile(path, bomb.bytes);
    expectCleanRefusal(await readers.run('idx', path), new RegExp(`${escape(path)}: gzip data inflates to more than the 7856 bytes that the IDX header \\(dims \\[10, 28, 28\\]\\) describes`));
  });

  it('a gzip bomb behind a header claiming more than 2 GiB is refused at the header; one whose header is not IDX stops at its first bytes', async () => {
    const claims = join(dir, 'claims-idx3-ubyte.gz');
    await writeFile(claims, gzipBomb(idxHeader([60000, 65535, 65535]), 32).bytes);
    const notIdx = join(dir, 'not-idx.gz');
    await writeFile(notIdx, gzipBomb(new Uint8Array([0x50, 0x4b, 3, 4]), 32).bytes);
    const [fromClaims, fromNotIdx] = await Promise.all([readers.run('idx', claims), readers.run('idx', notIdx)]);
    expectCleanRefusal(fromClaims, new RegExp(`the IDX header \\(dims \\[60000, 65535, 65535\\]\\) describes ${16 + 60000 * 65535 * 65535} bytes, more than the ${2 ** 31 - 1} one file may hold here`));
    expectCleanRefusal(fromNotIdx, new RegExp(`${escape(notIdx)}: not an IDX file`));
  });

  it('an uncompressed file larger than its header says (1.5 GB, sparse) is refused from its size, without reading it', async () => {
    const path = join(dir, 'huge-labels-idx1-ubyte');
    const handle = await open(path, 'w');
    await handle.write(idxHeader([10]), 0, 8, 0);
    await handle.truncate(1_500_000_000);
    await handle.close();
    expectCleanRefusal(await readers.run('idx', path), new RegExp(`${escape(path)}: the file has 1500000000 bytes, more than the 18 that the IDX header \\(dims \\[10\\]\\) describes`));
    await rm(path);
  });

  it('a FIFO and /dev/zero are refused as not regular files without blocking; so is a 1.5 GB CIFAR file (over 60000 records)', async () => {
    const fifo = join(dir, 'train-images-idx3-ubyte');
    execFileSync('mkfifo', [fifo]);
    const cifar = join(dir, 'data_batch_1.bin');
    const handle = await open(cifar, 'w');
    await handle.truncate(1_500_000_000);
    await handle.close();
    const [fromFifo, fromZero, fromCifar] = await Promise.all([
      readers.run('idx', fifo, { timeoutMs: 15_000 }),
      readers.run('idx', '/dev/zero', { timeoutMs: 15_000 }),
      readers.run('cifar10', cifar, { timeoutMs: 15_000 }),
    ]);
    expectCleanRefusal(fromFifo, new RegExp(`${escape(fifo)}: is a FIFO \\(named pipe\\), expected a regular file`));
    expectCleanRefusal(fromZero, /\/dev\/zero: is a character device, expected a regular file/);
    expectCleanRefusal(fromCifar, /the file has 1500000000 bytes, more than the 184380000 that 60000 cifar10 records of 3073 bytes take/);
    await rm(cifar);
  });
});
