import { describe, expect, it } from 'vitest';
import { createRandom } from '../util/random.js';
import { combineBatchNormStats, shardSizes, shardStarts, weightedSum } from './shards.js';

describe('shardSizes', () => {
  it('cuts N into W contiguous shards, the first N mod W one longer, covering the batch', () => {
    expect(shardSizes(10, 3)).toEqual([4, 3, 3]);
    expect(shardSizes(128, 2)).toEqual([64, 64]);
    expect(shardSizes(2, 4)).toEqual([1, 1, 0, 0]);
    expect(shardStarts([4, 3, 3])).toEqual([0, 4, 7]);
    for (const [n, w] of [[0, 1], [7, 7], [1000, 16], [5, 64]] as const) expect(shardSizes(n, w).reduce((a, b) => a + b, 0)).toBe(n);
  });
  it('rejects a non-integer count and fewer than one shard', () => {
    expect(() => shardSizes(3.5, 2)).toThrow(/batch size ≥ 0, found 3.5/);
    expect(() => shardSizes(4, 0)).toThrow(/≥ 1 shards, found 0/);
  });
});

describe('weightedSum', () => {
  it('is Σ_w a_w·x_w element-wise: shard-weighted means of shard means equal the full mean', () => {
    // Shard means of [1,2,3,4] and [5,6] with weights 4/6 and 2/6 give the mean of all six, 3.5.
    const out = weightedSum([Float32Array.of(2.5), Float32Array.of(5.5)], [4 / 6, 2 / 6], new Float32Array(1));
    expect(out[0]).toBeCloseTo(3.5, 6);
  });
  it('does not depend on anything but its inputs (same inputs, same bits)', () => {
    const r = createRandom(3);
    const parts = [0, 1, 2].map(() => Float32Array.from({ length: 50 }, () => r.next() - 0.5));
    const a = weightedSum(parts, [0.5, 0.25, 0.25], new Float32Array(50));
    const b = weightedSum(parts, [0.5, 0.25, 0.25], new Float32Array(50));
    expect([...a]).toEqual([...b]);
  });
  it('rejects parts of the wrong length', () => {
    expect(() => weightedSum([new Float32Array(2)], [1], new Float32Array(3))).toThrow(/part 0 has 2 values, expected 3/);
  });
});

describe('combineBatchNormStats', () => {
  it('gives the full batch mean exactly and its unbiased variance to O(1/m), from per-shard mean and unbiased variance', () => {
    const r = createRandom(11);
    const shards = [300, 200, 500].map((m, w) => Array.from({ length: m }, () => 2 * r.next() + w));
    const all = shards.flat();
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const unbiased = (xs: number[]): number => {
      const m = mean(xs);
      return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
    };
    const combined = combineBatchNormStats(
      shards.map((s) => Float32Array.of(mean(s))),
      shards.map((s) => Float32Array.of(unbiased(s))),
      shards.map((s) => s.length / all.length),
    );
    expect(combined.mean[0]).toBeCloseTo(mean(all), 5);
    expect(Math.abs((combined.variance[0] as number) - unbiased(all)) / unbiased(all)).toBeLessThan(3 / 200);
  });
  it('returns the one shard statistic unchanged for one shard', () => {
    const c = combineBatchNormStats([Float32Array.of(0.25, -1)], [Float32Array.of(2, 3)], [1]);
    expect([...c.mean]).toEqual([0.25, -1]);
    expect([...c.variance]).toEqual([2, 3]);
  });
});
