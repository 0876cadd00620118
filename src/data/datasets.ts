/**
 * Named data sets and where their files live.
 *
 * | name                | source                                             | images            |
 * |---------------------|----------------------------------------------------|-------------------|
 * | fashion-mnist       | `dataDir` or /usr/share/datasets/fashion-mnist     | 60,000 / 10,000 28×28×1 |
 * | fashion-mnist-small | data/fashion-mnist-small in this package           | 10,000 / 2,000 28×28×1 |
 * | mnist               | `dataDir` (IDX files, gzip or raw)                 | 60,000 / 10,000 28×28×1 |
 * | cifar10             | `dataDir` (binary version)                         | 50,000 / 10,000 32×32×3 |
 * | cifar100            | `dataDir` (binary version, fine labels)            | 50,000 / 10,000 32×32×3 |
 *
 * Fashion-MNIST: Xiao, Rasul & Vollgraf (2017), arXiv:1708.07747. MNIST: LeCun et al. (1998).
 * CIFAR: Krizhevsky (2009). Nothing is cached: each call reads the files again, so callers that
 * need a split twice keep the returned object.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cifarArchiveFolder, cifarFileNames, CIFAR10_FORMAT, CIFAR100_FORMAT, readCifarSplit } from './cifar.js';
import type { CifarFormat } from './cifar.js';
import { readIdxSplit } from './idx.js';
import { findPackageRoot } from './package-root.js';
import type { ImageSplit, SplitName } from './types.js';

export const DATASET_NAMES = ['fashion-mnist', 'fashion-mnist-small', 'mnist', 'cifar10', 'cifar100'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Where Debian's `dataset-fashion-mnist` package installs the full Fashion-MNIST. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Folder of the embedded subset, relative to the package root. */
export const FASHION_MNIST_SMALL_FOLDER = 'data/fashion-mnist-small';

export interface LoadDatasetOptions {
  /**
   * Folder holding the data set's files (required for mnist, cifar10, cifar100; optional for
   * fashion-mnist, default /usr/share/datasets/fashion-mnist; ignored for fashion-mnist-small).
   */
  readonly dataDir?: string;
}

/** Parses a data set name (CLI or metadata), with an error listing the names. */
export function parseDatasetName(value: string, where = '--dataset'): DatasetName {
  if ((DATASET_NAMES as readonly string[]).includes(value)) return value as DatasetName;
  throw new Error(`${where}: unknown data set "${value}"; expected one of ${DATASET_NAMES.join(', ')}`);
}

/** Path of the folder holding the embedded Fashion-MNIST subset. */
export function fashionMnistSmallDir(): string {
  return join(findPackageRoot(import.meta.url), FASHION_MNIST_SMALL_FOLDER);
}

/** IDX file stems of a split, as MNIST and Fashion-MNIST name them. */
export function idxFileStems(split: SplitName): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
}

/** `stem.gz` if it exists, else `stem` if it exists, else an error naming both. */
function findIdxFile(dir: string, stem: string, dataset: string): string {
  const candidates = [join(dir, `${stem}.gz`), join(dir, stem)];
  const found = candidates.find((file) => existsSync(file));
  if (found === undefined) throw new Error(`${dataset}: neither ${candidates.join(' nor ')} exists`);
  return found;
}

async function loadIdxDataset(dataset: DatasetName, dir: string, split: SplitName): Promise<ImageSplit> {
  const stems = idxFileStems(split);
  return readIdxSplit({
    imagesFile: findIdxFile(dir, stems.images, dataset),
    labelsFile: findIdxFile(dir, stems.labels, dataset),
    dataset,
    split,
    classes: 10,
  });
}

function requireDataDir(name: DatasetName, dataDir: string | undefined, expected: string): string {
  if (dataDir === undefined) {
    throw new Error(`${name}: pass --data-dir (options.dataDir) with the folder holding ${expected}`);
  }
  if (!existsSync(dataDir)) throw new Error(`${name}: data folder ${dataDir} does not exist (expected it to hold ${expected})`);
  return dataDir;
}

async function loadCifar(format: CifarFormat, dataDir: string | undefined, split: SplitName): Promise<ImageSplit> {
  const names = cifarFileNames(format, split);
  const dir = requireDataDir(format.dataset, dataDir, `${names.join(', ')} (binary version)`);
  // Accept the folder the archive extracts to as well as its parent.
  const nested = join(dir, cifarArchiveFolder(format));
  const base = !existsSync(join(dir, names[0] as string)) && existsSync(join(nested, names[0] as string)) ? nested : dir;
  const files = names.map((name) => join(base, name));
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`${format.dataset}: missing ${missing.join(', ')}`);
  return readCifarSplit(files, format, split);
}

/**
 * Loads one split of a named data set as raw NHWC bytes.
 *
 * @example
 * const train = await loadDataset('fashion-mnist-small', 'train'); // 10,000 × 28 × 28 × 1
 */
export async function loadDataset(name: string, split: SplitName, options: LoadDatasetOptions = {}): Promise<ImageSplit> {
  const dataset = parseDatasetName(name, 'loadDataset');
  if (split !== 'train' && split !== 'test') {
    throw new Error(`loadDataset: unknown split "${String(split)}"; expected train or test`);
  }
  switch (dataset) {
    case 'fashion-mnist': {
      const dir = options.dataDir ?? DEBIAN_FASHION_MNIST_DIR;
      if (!existsSync(dir)) {
        throw new Error(
          `fashion-mnist: folder ${dir} does not exist; install Debian's copy with \`apt-get install dataset-fashion-mnist\` ` +
            `or pass --data-dir with a folder holding ${Object.values(idxFileStems(split)).join(', ')} (.gz or raw)`,
        );
      }
      return loadIdxDataset(dataset, dir, split);
    }
    case 'fashion-mnist-small':
      return loadIdxDataset(dataset, fashionMnistSmallDir(), split);
    case 'mnist': {
      const stems = idxFileStems(split);
      return loadIdxDataset(dataset, requireDataDir(dataset, options.dataDir, `${stems.images}, ${stems.labels} (.gz or raw)`), split);
    }
    case 'cifar10':
      return loadCifar(CIFAR10_FORMAT, options.dataDir, split);
    case 'cifar100':
      return loadCifar(CIFAR100_FORMAT, options.dataDir, split);
  }
}
