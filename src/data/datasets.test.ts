import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_FASHION_MNIST_DIR, fashionMnistSmallDir, loadDataset } from './datasets.js';
import { writeIdx } from './idx.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-datasets-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PIXELS = 28 * 28;

describe('loadDataset: embedded fashion-mnist-small', () => {
  it('has 10,000 / 2,000 images of 28×28×1, 10 classes, 1,000 / 200 per class', async () => {
    for (const [split, count] of [['train', 10_000], ['test', 2_000]] as const) {
      const data = await loadDataset('fashion-mnist-small', split);
      expect([data.dataset, data.split, data.count, data.height, data.width, data.channels, data.classes]).toEqual([
        'fashion-mnist-small', split, count, 28, 28, 1, 10,
      ]);
      expect(data.images.length).toBe(count * PIXELS);
      const perClass = new Array<number>(10).fill(0);
      for (const label of data.labels) perClass[label]! += 1;
      expect(perClass).toEqual(new Array<number>(10).fill(count / 10));
    }
  });

  it.runIf(existsSync(DEBIAN_FASHION_MNIST_DIR))(
    'every image and label equals the original at the index recorded in indices.json',
    async () => {
      const indices = JSON.parse(await readFile(join(fashionMnistSmallDir(), 'indices.json'), 'utf8')) as Record<string, number[]>;
      for (const split of ['train', 'test'] as const) {
        const [small, full] = await Promise.all([loadDataset('fashion-mnist-small', split), loadDataset('fashion-mnist', split)]);
        expect(full.count).toBe(split === 'train' ? 60_000 : 10_000);
        const chosen = indices[split] as number[];
        expect(chosen.length).toBe(small.count);
        expect(new Set(chosen).size).toBe(small.count);
        let pixelMismatches = 0;
        let labelMismatches = 0;
        chosen.forEach((original, i) => {
          if (small.labels[i] !== full.labels[original]) labelMismatches++;
          const a = small.images.subarray(i * PIXELS, (i + 1) * PIXELS);
          const b = full.images.subarray(original * PIXELS, (original + 1) * PIXELS);
          if (Buffer.compare(a, b) !== 0) pixelMismatches++;
        });
        expect(labelMismatches).toBe(0);
        expect(pixelMismatches).toBe(0);
      }
    },
  );
});

describe('loadDataset: errors and other data sets', () => {
  it('an unknown name lists the names', async () => {
    await expect(loadDataset('imagenet', 'train')).rejects.toThrow(
      'unknown data set "imagenet"; expected one of fashion-mnist, fashion-mnist-small, mnist, cifar10, cifar100',
    );
  });

  it('fashion-mnist in a missing folder says how to get it', async () => {
    const missing = join(dir, 'no-such-folder');
    await expect(loadDataset('fashion-mnist', 'test', { dataDir: missing })).rejects.toThrow(
      new RegExp(`${missing} does not exist; install Debian's copy with \`apt-get install dataset-fashion-mnist\` or pass --data-dir`),
    );
  });

  it('mnist needs a dataDir, and reads raw or gzip IDX files from it', async () => {
    await expect(loadDataset('mnist', 'train')).rejects.toThrow(/mnist: pass --data-dir/);
    const mnistDir = join(dir, 'mnist');
    await mkdir(mnistDir);
    await expect(loadDataset('mnist', 'test', { dataDir: mnistDir })).rejects.toThrow(
      `mnist: neither ${join(mnistDir, 't10k-images-idx3-ubyte.gz')} nor ${join(mnistDir, 't10k-images-idx3-ubyte')} exists`,
    );
    await writeIdx(join(mnistDir, 't10k-images-idx3-ubyte'), new Uint8Array(3 * PIXELS).fill(9), [3, 28, 28], { gzip: false });
    await writeIdx(join(mnistDir, 't10k-labels-idx1-ubyte.gz'), Uint8Array.from([0, 5, 9]), [3]);
    const test = await loadDataset('mnist', 'test', { dataDir: mnistDir });
    expect([test.dataset, test.count, test.height, test.channels]).toEqual(['mnist', 3, 28, 1]);
    expect(Array.from(test.labels)).toEqual([0, 5, 9]);
  });

  it('cifar10 reads the five training batches from the extracted archive folder', async () => {
    const cifarDir = join(dir, 'cifar');
    await mkdir(join(cifarDir, 'cifar-10-batches-bin'), { recursive: true });
    await expect(loadDataset('cifar10', 'train', { dataDir: cifarDir })).rejects.toThrow(/cifar10: missing .*data_batch_1\.bin/);
    for (let b = 1; b <= 5; b++) {
      // b records in batch b, each labelled b, pixels all b.
      const bytes = new Uint8Array(b * 3073).fill(b);
      await writeFile(join(cifarDir, 'cifar-10-batches-bin', `data_batch_${b}.bin`), bytes);
    }
    const train = await loadDataset('cifar10', 'train', { dataDir: cifarDir });
    expect([train.count, train.height, train.width, train.channels, train.classes]).toEqual([15, 32, 32, 3, 10]);
    expect(Array.from(train.labels)).toEqual([1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5]);
  });

  it('cifar100 reads test.bin with fine labels', async () => {
    const cifarDir = join(dir, 'cifar-100-binary');
    await mkdir(cifarDir);
    const bytes = new Uint8Array(2 * 3074);
    bytes[0] = 3; // coarse
    bytes[1] = 42; // fine
    bytes[3074] = 19;
    bytes[3075] = 99;
    await writeFile(join(cifarDir, 'test.bin'), bytes);
    const test = await loadDataset('cifar100', 'test', { dataDir: cifarDir });
    expect([test.dataset, test.count, test.classes]).toEqual(['cifar100', 2, 100]);
    expect(Array.from(test.labels)).toEqual([42, 99]);
    await expect(loadDataset('cifar100', 'test', { dataDir: join(dir, 'absent') })).rejects.toThrow(/cifar100: data folder .*absent does not exist/);
  });
});
