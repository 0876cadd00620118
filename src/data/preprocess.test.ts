import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEBIAN_FASHION_MNIST_DIR, loadDataset } from './datasets.js';
import {
  computeChannelStats,
  createPreprocessing,
  describePreprocessing,
  parsePreprocessing,
  pixelTables,
  preprocessedShape,
} from './preprocess.js';
import type { ImageSplit } from './types.js';

/** 3-channel 2×2 images with bytes drawn from a fixed pattern per channel. */
function rgbSplit(): ImageSplit {
  const count = 5;
  const images = new Uint8Array(count * 2 * 2 * 3);
  for (let i = 0; i < images.length; i++) {
    const c = i % 3;
    images[i] = c === 0 ? (i * 7) % 256 : c === 1 ? 255 - ((i * 3) % 100) : 17;
  }
  return { dataset: 'rgb', split: 'train', images, labels: new Uint8Array(count), count, height: 2, width: 2, channels: 3, classes: 2 };
}

describe('computeChannelStats', () => {
  it('matches a naive two-pass mean and population std per channel', () => {
    const split = rgbSplit();
    const stats = computeChannelStats(split);
    for (let c = 0; c < 3; c++) {
      const values: number[] = [];
      for (let i = c; i < split.images.length; i += 3) values.push((split.images[i] as number) / 255);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
      expect(stats.mean[c]).toBeCloseTo(mean, 12);
      expect(stats.std[c]).toBeCloseTo(Math.sqrt(variance), 10);
    }
    expect(stats.std[2]).toBeCloseTo(0, 12); // constant channel
    expect(() => createPreprocessing(split, { normalize: 'standardize' })).toThrow(/std > 0 in every channel/);
  });

  it.runIf(existsSync(DEBIAN_FASHION_MNIST_DIR))(
    'full Fashion-MNIST train: mean 0.2860, std 0.3530 (the values commonly published for it)',
    async () => {
      const stats = computeChannelStats(await loadDataset('fashion-mnist', 'train'));
      expect(stats.mean[0]).toBeCloseTo(0.286, 3);
      expect(stats.std[0]).toBeCloseTo(0.353, 3);
    },
  );
});

describe('preprocessing description', () => {
  it('pixel tables: unit is p/255, standardize is (p/255 − mean)/std', () => {
    const [unit] = pixelTables({ normalize: 'unit' }, 1);
    expect(unit?.[0]).toBe(0);
    expect(unit?.[255]).toBe(1);
    expect(unit?.[51]).toBeCloseTo(0.2, 7);
    const [, green] = pixelTables({ normalize: 'standardize', mean: [0.5, 0.25], std: [1, 0.5] }, 2);
    expect(green?.[0]).toBeCloseTo(-0.5, 7);
    expect(green?.[255]).toBeCloseTo(1.5, 7);
  });

  it('preprocessedShape: padding, channel repeat and their errors', () => {
    const grey = { height: 28, width: 28, channels: 1 };
    expect(preprocessedShape({ normalize: 'unit', padTo: 32, channels: 3 }, grey)).toEqual({ height: 32, width: 32, channels: 3 });
    expect(() => preprocessedShape({ normalize: 'unit', padTo: 24 }, grey, 'ckpt')).toThrow('ckpt: padTo 24 is smaller than the 28×28 images');
    expect(() => preprocessedShape({ normalize: 'unit', channels: 1 }, { height: 32, width: 32, channels: 3 })).toThrow(
      /channels 1 needs 1-channel images to repeat, found 3/,
    );
    expect(() => preprocessedShape({ normalize: 'standardize', mean: [0.1, 0.2], std: [1, 1] }, grey)).toThrow(
      /mean with one value per source channel \(1\), found 2/,
    );
  });

  it('parsePreprocessing accepts valid JSON and names the bad field', () => {
    const parsed = parsePreprocessing(JSON.parse('{"normalize":"standardize","mean":[0.286],"std":[0.353],"padTo":32,"channels":3}'));
    expect(parsed).toEqual({ normalize: 'standardize', mean: [0.286], std: [0.353], padTo: 32, channels: 3 });
    expect(parsePreprocessing({})).toEqual({ normalize: 'unit' });
    expect(() => parsePreprocessing({ normalize: 'zscore' }, 'meta.preprocessing')).toThrow(
      'meta.preprocessing.normalize: expected unit or standardize, found "zscore"',
    );
    expect(() => parsePreprocessing({ normalize: 'standardize', mean: [0.1] }, 'p')).toThrow('p.std: required when normalize is standardize');
    expect(() => parsePreprocessing({ normalize: 'standardize', mean: [0.1], std: [0] }, 'p')).toThrow('p.std[0]: expected a finite positive number, found 0');
    expect(() => parsePreprocessing({ padTo: 31.5 }, 'p')).toThrow('p.padTo: expected a positive integer, found 31.5');
    expect(() => parsePreprocessing({ pad: 32 }, 'p')).toThrow('p.pad: unknown field; expected normalize, mean, std, padTo, channels');
    expect(() => parsePreprocessing('unit', 'p')).toThrow('p: expected an object, found "unit"');
  });

  it('createPreprocessing round-trips through JSON and describes itself', () => {
    const split = rgbSplit();
    const p = createPreprocessing({ ...split, images: split.images.map((v, i) => (i % 3 === 2 ? i : v)) }, { normalize: 'standardize', padTo: 4 });
    expect(parsePreprocessing(JSON.parse(JSON.stringify(p)))).toEqual(p);
    expect(describePreprocessing(p)).toMatch(/^standardize \(mean [0-9.]+, [0-9.]+, [0-9.]+, std [0-9.]+, [0-9.]+, [0-9.]+\), pad to 4×4$/);
    expect(describePreprocessing({ normalize: 'unit', channels: 3 })).toBe('unit (x/255), 3 channels');
  });
});
