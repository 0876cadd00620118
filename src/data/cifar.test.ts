import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_FORMAT, CIFAR100_FORMAT, readCifarFile, readCifarSplit } from './cifar.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-cifar-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A known pixel pattern: distinct per record, channel, row and column. */
function pixel(n: number, c: number, h: number, w: number): number {
  return (n * 11 + c * 85 + h * 5 + w * 3) % 256;
}

/** Writes records the way the CIFAR page describes them: label byte(s), then R plane, G plane, B plane. */
function cifarBytes(labels: readonly (readonly number[])[]): Uint8Array {
  const chunks: number[] = [];
  labels.forEach((labelBytes, n) => {
    chunks.push(...labelBytes);
    for (let c = 0; c < 3; c++) for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) chunks.push(pixel(n, c, h, w));
  });
  return Uint8Array.from(chunks);
}

describe('CIFAR binary reader', () => {
  it('CIFAR-10: labels and CHW → NHWC conversion of a known pattern', async () => {
    const file = join(dir, 'data_batch_test.bin');
    await writeFile(file, cifarBytes([[3], [9], [0]]));
    const records = await readCifarFile(file, CIFAR10_FORMAT);
    expect(records.count).toBe(3);
    expect(Array.from(records.labels)).toEqual([3, 9, 0]);
    // Every pixel checked at its NHWC address.
    let mismatches = 0;
    for (let n = 0; n < 3; n++)
      for (let h = 0; h < 32; h++)
        for (let w = 0; w < 32; w++)
          for (let c = 0; c < 3; c++) if (records.images[((n * 32 + h) * 32 + w) * 3 + c] !== pixel(n, c, h, w)) mismatches++;
    expect(mismatches).toBe(0);
    // Spot values written out: record 1, row 2, column 4, green = (11 + 85 + 10 + 12) % 256 = 118.
    expect(records.images[((1 * 32 + 2) * 32 + 4) * 3 + 1]).toBe(118);
  });

  it('CIFAR-100: keeps the fine label (second byte)', async () => {
    const file = join(dir, 'train100.bin');
    await writeFile(file, cifarBytes([[4, 77], [19, 5]]));
    const records = await readCifarFile(file, CIFAR100_FORMAT);
    expect(Array.from(records.labels)).toEqual([77, 5]);
    expect(records.images[((1 * 32 + 31) * 32 + 31) * 3 + 2]).toBe(pixel(1, 2, 31, 31));
  });

  it('readCifarSplit concatenates files in order', async () => {
    const a = join(dir, 'a.bin');
    const b = join(dir, 'b.bin');
    await writeFile(a, cifarBytes([[1]]));
    await writeFile(b, cifarBytes([[2], [3]]));
    const split = await readCifarSplit([a, b], CIFAR10_FORMAT, 'train');
    expect([split.count, split.height, split.width, split.channels, split.classes]).toEqual([3, 32, 32, 3, 10]);
    expect(Array.from(split.labels)).toEqual([1, 2, 3]);
    // The second file's first record is pattern record 0 again, stored as image 1.
    expect(split.images[3072 + 2]).toBe(pixel(0, 2, 0, 0));
  });

  it('a record size mismatch names the file and the sizes', async () => {
    const file = join(dir, 'cifar100-read-as-cifar10.bin');
    await writeFile(file, cifarBytes([[1, 2], [3, 4]]));
    await expect(readCifarFile(file, CIFAR10_FORMAT)).rejects.toThrow(
      `${file}: expected a whole number of cifar10 records of 3073 bytes, found 6148 bytes (2 records and 2 bytes left over)`,
    );
  });

  it('an out-of-range label and a missing file name the file', async () => {
    const file = join(dir, 'bad-label.bin');
    await writeFile(file, cifarBytes([[0], [10]]));
    await expect(readCifarFile(file, CIFAR10_FORMAT)).rejects.toThrow(`${file}: record 1 has label 10, expected 0 ≤ label < 10`);
    await expect(readCifarFile(join(dir, 'nope.bin'), CIFAR10_FORMAT)).rejects.toThrow(/nope\.bin: file not found/);
  });
});
