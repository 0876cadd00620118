import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeIdx, encodeIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, readIdx, readIdxSplit, writeIdx, writeIdxSplit } from './idx.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-idx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** IDX bytes written by hand from the format description (header big-endian), not by encodeIdx. */
function handWrittenImages(): Uint8Array {
  // magic 00 00 08 03, dims 2 × 2 × 3, then 12 pixels
  return Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
}

describe('IDX', () => {
  it('decodeIdx reads a hand-written header and row-major data', () => {
    const idx = decodeIdx(handWrittenImages(), 'hand.idx', IDX_IMAGES_MAGIC);
    expect(idx.dims).toEqual([2, 2, 3]);
    expect(Array.from(idx.data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  });

  it('encodeIdx writes exactly the hand-written bytes', () => {
    const data = Uint8Array.from([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    expect(Array.from(encodeIdx(data, [2, 2, 3]))).toEqual(Array.from(handWrittenImages()));
  });

  it('round trip through the gzip writer; the file starts with the gzip magic', async () => {
    const data = new Uint8Array(5 * 4 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
    const file = join(dir, 'round-trip-images.gz');
    await writeIdx(file, data, [5, 4, 3]);
    const raw = await readFile(file);
    expect([raw[0], raw[1]]).toEqual([0x1f, 0x8b]);
    const back = await readIdx(file, IDX_IMAGES_MAGIC);
    expect(back.dims).toEqual([5, 4, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });

  it('reads raw (uncompressed) files too', async () => {
    const file = join(dir, 'raw-labels');
    await writeIdx(file, Uint8Array.from([3, 1, 4]), [3], { gzip: false });
    expect((await readFile(file))[0]).toBe(0);
    const back = await readIdx(file, IDX_LABELS_MAGIC);
    expect(Array.from(back.data)).toEqual([3, 1, 4]);
  });

  it('a wrong magic names the file, the expected and the found magic', async () => {
    const file = join(dir, 'labels-as-images.gz');
    await writeIdx(file, Uint8Array.from([1, 2]), [2]);
    await expect(readIdx(file, IDX_IMAGES_MAGIC)).rejects.toThrow(
      `${file}: expected IDX magic 0x00000803, found 0x00000801`,
    );
  });

  it('a non-ubyte element type is refused', () => {
    const bytes = Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(() => decodeIdx(bytes, 'floats.idx')).toThrow(/floats\.idx: expected IDX element type 0x08.*found 0x0d/);
  });

  it('a truncated file names the file and expected vs found length', async () => {
    const full = handWrittenImages();
    const file = join(dir, 'truncated.gz');
    await writeFile(file, gzipSync(full.subarray(0, full.length - 5)));
    await expect(readIdx(file)).rejects.toThrow(`${file}: truncated: header dims [2, 2, 3] need 28 bytes, found 23`);
    expect(() => decodeIdx(full.subarray(0, 10), 'short-header')).toThrow(/short-header: truncated IDX header: expected 16 bytes/);
  });

  it('a truncated gzip stream names the file', async () => {
    const file = join(dir, 'cut-gzip.gz');
    const zipped = gzipSync(handWrittenImages());
    await writeFile(file, zipped.subarray(0, zipped.length - 8));
    await expect(readIdx(file)).rejects.toThrow(`${file}: corrupt or truncated gzip data`);
  });

  it('a missing file names the file', async () => {
    const file = join(dir, 'does-not-exist-ubyte.gz');
    await expect(readIdx(file)).rejects.toThrow(`${file}: file not found`);
  });

  it('readIdxSplit pairs images and labels and checks their counts and label range', async () => {
    const imagesFile = join(dir, 'split-images.gz');
    const labelsFile = join(dir, 'split-labels.gz');
    await writeFile(imagesFile, gzipSync(handWrittenImages()));
    await writeIdx(labelsFile, Uint8Array.from([7, 2]), [2]);
    const split = await readIdxSplit({ imagesFile, labelsFile, dataset: 'toy', split: 'train', classes: 10 });
    expect([split.count, split.height, split.width, split.channels]).toEqual([2, 2, 3, 1]);
    expect(Array.from(split.labels)).toEqual([7, 2]);

    const copyImages = join(dir, 'copy-images.gz');
    const copyLabels = join(dir, 'copy-labels.gz');
    await writeIdxSplit(split, copyImages, copyLabels);
    const copy = await readIdxSplit({ imagesFile: copyImages, labelsFile: copyLabels, dataset: 'toy', split: 'train', classes: 10 });
    expect(Array.from(copy.images)).toEqual(Array.from(split.images));

    await writeIdx(labelsFile, Uint8Array.from([7, 2, 1]), [3]);
    await expect(readIdxSplit({ imagesFile, labelsFile, dataset: 'toy', split: 'train', classes: 10 })).rejects.toThrow(
      `${labelsFile}: expected 2 labels`,
    );
    await writeIdx(labelsFile, Uint8Array.from([7, 12]), [2]);
    await expect(readIdxSplit({ imagesFile, labelsFile, dataset: 'toy', split: 'train', classes: 10 })).rejects.toThrow(
      `${labelsFile}: label 1 is 12, expected 0 ≤ label < 10`,
    );
  });
});
