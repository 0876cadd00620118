import { describe, expect, it } from 'vitest';
import { createRandom } from '../util/random.js';
import { assignmentScore, linearSumAssignment } from './lsap.js';

/** Best score over all n! permutations (Heap's algorithm). */
function bruteForceBest(scores: Float64Array, n: number): number {
  const perm = Array.from({ length: n }, (_, i) => i);
  let best = -Infinity;
  const c = new Array<number>(n).fill(0);
  best = Math.max(best, assignmentScore(scores, n, perm));
  let i = 0;
  while (i < n) {
    if ((c[i] as number) < i) {
      const k = i % 2 === 0 ? 0 : (c[i] as number);
      [perm[k], perm[i]] = [perm[i] as number, perm[k] as number];
      best = Math.max(best, assignmentScore(scores, n, perm));
      c[i] = (c[i] as number) + 1;
      i = 0;
    } else {
      c[i] = 0;
      i++;
    }
  }
  return best;
}

function isPermutation(a: Int32Array, m: number): boolean {
  const seen = new Set(a);
  return seen.size === a.length && [...a].every((x) => x >= 0 && x < m);
}

describe('linearSumAssignment', () => {
  it('matches brute force on random matrices for n ≤ 7 (incl. ties from integer scores)', () => {
    const random = createRandom(11);
    for (let n = 1; n <= 7; n++) {
      for (let trial = 0; trial < 20; trial++) {
        const integer = trial % 2 === 0;
        const scores = Float64Array.from({ length: n * n }, () => (integer ? random.int(5) : random.normal()));
        const sigma = linearSumAssignment(scores, n);
        expect(isPermutation(sigma, n)).toBe(true);
        expect(assignmentScore(scores, n, sigma)).toBeCloseTo(bruteForceBest(scores, n), 10);
      }
    }
  });

  it('solves a known instance (a 4×4 cost matrix solved by hand, negated)', () => {
    // Worked by hand: rows take columns 2, 1, 0, 3 for cost 69 + 37 + 11 + 23 = 140; brute force agrees.
    const cost = [82, 83, 69, 92, 77, 37, 49, 92, 11, 69, 5, 86, 8, 9, 98, 23];
    const scores = Float64Array.from(cost, (c) => -c);
    const sigma = linearSumAssignment(scores, 4);
    expect([...sigma]).toEqual([2, 1, 0, 3]); // 69 + 37 + 11 + 23 = 140
    expect(-assignmentScore(scores, 4, sigma)).toBe(140);
    expect(bruteForceBest(scores, 4)).toBe(-140);
  });

  it('recovers a hidden permutation from a noisy permuted identity', () => {
    const random = createRandom(3);
    const n = 64;
    const hidden = Array.from({ length: n }, (_, i) => (i * 17 + 5) % n);
    const scores = Float64Array.from({ length: n * n }, (_, k) => (hidden[Math.floor(k / n)] === k % n ? 1 : 0) + 0.1 * random.next());
    expect([...linearSumAssignment(scores, n)]).toEqual(hidden);
  });

  it('handles rectangular n < m', () => {
    const scores = Float64Array.from([1, 5, 3, 4, 2, 9]); // 2 × 3
    expect([...linearSumAssignment(scores, 2, 3)]).toEqual([1, 2]);
  });

  it('rejects bad shapes and non-finite scores', () => {
    expect(() => linearSumAssignment([1, 2, 3], 2)).toThrow(/3 entries, expected 2×2/);
    expect(() => linearSumAssignment([1, NaN, 3, 4], 2)).toThrow(/score \[0, 1\] is NaN/);
    expect(() => linearSumAssignment([1, 2], 2, 1)).toThrow(/rows ≤ cols/);
  });

  it('solves 512 × 512 in well under a second', () => {
    const random = createRandom(5);
    const n = 512;
    const scores = Float64Array.from({ length: n * n }, () => random.normal());
    const start = performance.now();
    const sigma = linearSumAssignment(scores, n);
    const ms = performance.now() - start;
    expect(isPermutation(sigma, n)).toBe(true);
    expect(ms).toBeLessThan(1000);
  });
});
