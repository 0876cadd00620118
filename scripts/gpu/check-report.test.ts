import { describe, expect, it } from 'vitest';
import { jsonLines, summaryRows, targets } from './check-report.js';

describe('GPU check report', () => {
  const bench = [
    { model: 'resnet18-k1', mode: 'eval', batch: 32, imagesPerSecond: 2000 },
    { model: 'resnet18-k1', mode: 'train', batch: 32, imagesPerSecond: 400 },
    { model: 'lenet5', mode: 'eval', batch: 128, imagesPerSecond: 9000 },
  ];

  it('pairs each webgpu row with the PyTorch CUDA row of the same model and mode (CPU rows ignored)', () => {
    const torch = [
      { model: 'resnet18-k1', mode: 'eval', imagesPerSecond: 8000, device: 'cuda' },
      { model: 'resnet18-k1', mode: 'train', imagesPerSecond: 100, device: 'cpu' },
      { model: 'resnet18-k1', mode: 'train', imagesPerSecond: 1600, device: 'cuda' },
    ];
    const rows = summaryRows(bench, torch);
    expect(rows[0]).toEqual({ model: 'resnet18-k1', mode: 'eval', batch: 32, imagesPerSecond: 2000, torchCudaImagesPerSecond: 8000, ratioToTorch: 0.25 });
    expect(rows[1]?.ratioToTorch).toBe(0.25);
    expect(rows[2]).toEqual({ model: 'lenet5', mode: 'eval', batch: 128, imagesPerSecond: 9000 });
  });

  it('targets: ResNet18 k=1 train >= 500 and eval >= 1350 images/s, demo < 30 s; unmeasured ones have no verdict', () => {
    const t = targets(bench, 31);
    expect(t.map((x) => [x.threshold, x.value, x.met])).toEqual([
      ['>= 500 images/s', 400, false],
      ['>= 1350 images/s', 2000, true],
      ['< 30 s', 31, false],
    ]);
    const none = targets([], undefined);
    expect(none.every((x) => x.met === undefined && x.value === undefined)).toBe(true);
  });

  it('jsonLines keeps the JSON objects of a log and skips the rest', () => {
    expect(jsonLines('PyTorch says hi\n{"model":"lenet5","mode":"eval"}\n{not json}\n  {"a":1}  \n')).toEqual([{ model: 'lenet5', mode: 'eval' }, { a: 1 }]);
  });
});
