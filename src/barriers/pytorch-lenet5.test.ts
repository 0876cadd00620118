/**
 * Cross-check against PyTorch (scripts/make-barrier-fixtures.py): two LeNet5 models trained by
 * PyTorch, imported with the checkpoint importer; our linear-path and single-layer losses on the
 * same 500 test images must match PyTorch's to 1e-4.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { loadPyTorchStateDict } from '../checkpoint/pytorch.js';
import { DEFAULT_PREPROCESSING } from '../data/preprocess.js';
import { loadDataset } from '../data/datasets.js';
import { disposeBatches, loadBatches, type Batch } from '../data/batches.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { layerwiseBarriers } from './layerwise.js';
import { evaluatePath, linearPath } from '../paths/linear-path.js';
import { barrierMetrics } from './metrics.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));

interface Point {
  readonly t: number;
  readonly loss: number;
  readonly accuracy: number;
}
interface Expected {
  readonly testImages: number;
  readonly linear: readonly Point[];
  readonly layers: readonly (Point & { readonly layer: string; readonly rest: 'A' | 'B' })[];
}

let expected: Expected;
let a: Model;
let b: Model;
let test: Batch[];

beforeAll(async () => {
  await useTestBackend();
  expected = JSON.parse(await readFile(fixture('barriers-lenet5-expected.json'), 'utf8')) as Expected;
  a = await loadPyTorchStateDict(fixture('barriers-lenet5-a.safetensors'));
  b = await loadPyTorchStateDict(fixture('barriers-lenet5-b.safetensors'));
  const split = await loadDataset('fashion-mnist-small', 'test');
  const indices = Int32Array.from({ length: expected.testImages }, (_, i) => i);
  test = loadBatches(split, [indices.slice(0, 250), indices.slice(250)], DEFAULT_PREPROCESSING);
});
afterAll(() => {
  disposeBatches(test);
  disposeTensors(a, b);
});

describe('LeNet5 barriers against PyTorch', () => {
  it('linear path: loss at 11 t matches PyTorch to 1e-4, accuracy to one image', async ({ annotate }) => {
    const path = linearPath(a, b);
    const started = performance.now();
    const rows = await evaluatePath(path, { test, bnBatches: [] }, { points: 11 });
    const seconds = (performance.now() - started) / 1000;
    path.dispose();
    let worst = 0;
    rows.forEach((row, i) => {
      const ref = expected.linear[i]!;
      expect(row.t).toBeCloseTo(ref.t, 12);
      worst = Math.max(worst, Math.abs(row.loss - ref.loss));
      expect(Math.abs(row.accuracy - ref.accuracy)).toBeLessThanOrEqual(1 / expected.testImages + 1e-12);
    });
    const [m] = barrierMetrics(rows);
    await annotate(
      `max |loss − PyTorch| = ${worst.toExponential(2)}; loss barrier ${m!.lossBarrier.toFixed(4)}, ` +
        `midpoint accuracy ${rows[5]!.accuracy}; ${(11 / seconds).toFixed(1)} points/s (500 images each)`,
    );
    expect(worst).toBeLessThan(1e-4);
    // The shape ALGORITHMS.md §1 describes: a large barrier, near-chance midpoint.
    expect(m!.lossBarrier).toBeGreaterThan(1);
  });

  it('single-layer interpolation at t = 0.5 matches PyTorch to 1e-4, and stays far below the full barrier', async () => {
    const rows = await layerwiseBarriers(a, b, { test, bnBatches: [] }, { ts: [0.5] });
    for (const ref of expected.layers) {
      const row = rows.find((r) => r.layer === ref.layer && r.rest === ref.rest && r.t === 0.5)!;
      expect(Math.abs(row.loss - ref.loss), `${ref.layer} rest ${ref.rest}`).toBeLessThan(1e-4);
      expect(Math.abs(row.accuracy - ref.accuracy)).toBeLessThanOrEqual(1 / expected.testImages + 1e-12);
    }
    const full = expected.linear[5]!.loss;
    for (const row of rows.filter((r) => r.t === 0.5)) expect(row.loss).toBeLessThan(full);
  });
});
