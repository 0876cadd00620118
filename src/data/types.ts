/**
 * The in-memory form of an image data set split, shared by every reader in src/data.
 *
 * Pixels stay raw bytes (0‥255) in NHWC order: a split is loaded once and converted to float
 * tensors batch by batch (see batches.ts), so 60,000 Fashion-MNIST images cost 47 MB, not 188 MB.
 * On-disk formats (IDX, CIFAR binary) are described in their readers, not here.
 */

/** One split (train or test) of an image classification data set. */
export interface ImageSplit {
  /** Data set name, e.g. `fashion-mnist`. */
  readonly dataset: string;
  readonly split: 'train' | 'test';
  /** Raw pixel bytes, N·H·W·C, NHWC (pixel (n, h, w, c) at ((n·H + h)·W + w)·C + c). */
  readonly images: Uint8Array;
  /** Class index of each image, 0 ≤ label < classes. */
  readonly labels: Uint8Array;
  /** N, the number of images. */
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Number of classes (10 for MNIST, Fashion-MNIST, CIFAR-10; 100 for CIFAR-100). */
  readonly classes: number;
}

/** `train` or `test`. */
export const SPLIT_NAMES = ['train', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** Checks the internal consistency of a split; errors name the split and what disagrees. */
export function assertImageSplit(split: ImageSplit): void {
  const where = `${split.dataset}/${split.split}`;
  const dims = [split.count, split.height, split.width, split.channels, split.classes];
  if (!dims.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${where}: count, height, width, channels, classes must be non-negative integers, found ${dims.join(', ')}`);
  }
  const pixels = split.count * split.height * split.width * split.channels;
  if (split.images.length !== pixels) {
    throw new Error(
      `${where}: expected ${pixels} pixel bytes (${split.count}×${split.height}×${split.width}×${split.channels}), found ${split.images.length}`,
    );
  }
  if (split.labels.length !== split.count) {
    throw new Error(`${where}: expected ${split.count} labels, found ${split.labels.length}`);
  }
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i] as number;
    if (label >= split.classes) {
      throw new Error(`${where}: label of image ${i} is ${label}, expected 0 ≤ label < ${split.classes}`);
    }
  }
}
