import { describe, expect, it } from 'vitest';
import { createRandom } from '../util/random.js';
import { createPartition, parsePartitionSpec, sampleDirichlet, sampleGamma } from './partition.js';

const CLASSES = 10;
/** 20,000 labels, 2,000 per class, in a scrambled order. */
const LABELS = Uint8Array.from({ length: 20_000 }, (_, i) => (i * 7) % CLASSES);

function assignedOnce(parts: readonly Int32Array[], count: number): boolean {
  const seen = new Uint8Array(count);
  for (const part of parts) {
    for (const i of part) {
      if (seen[i] === 1) return false;
      seen[i] = 1;
    }
  }
  return true;
}

/** Mean over nodes of Σ_c p̂_c², the empirical label concentration. */
function meanConcentration(parts: readonly Int32Array[]): number {
  let total = 0;
  for (const part of parts) {
    const counts = new Array<number>(CLASSES).fill(0);
    for (const i of part) counts[LABELS[i] as number] = (counts[LABELS[i] as number] as number) + 1;
    total += counts.reduce((s, c) => s + (c / part.length) ** 2, 0);
  }
  return total / parts.length;
}

describe('Gamma and Dirichlet sampling', () => {
  it('Gamma(k) has mean k and variance k (shapes below and above 1)', () => {
    for (const k of [0.3, 2.5]) {
      const r = createRandom(3);
      const n = 40_000;
      const xs = Array.from({ length: n }, () => sampleGamma(k, r));
      const mean = xs.reduce((a, b) => a + b, 0) / n;
      const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
      expect(Math.abs(mean - k)).toBeLessThan(4 * Math.sqrt(k / n));
      expect(Math.abs(variance / k - 1)).toBeLessThan(0.06);
    }
  });

  it('Dir(α) has E[q_c] = 1/C and E[Σ q_c²] = (α+1)/(Cα+1)', () => {
    for (const alpha of [0.1, 0.5, 5]) {
      const r = createRandom(7);
      const n = 20_000;
      let first = 0;
      let squares = 0;
      for (let i = 0; i < n; i++) {
        const q = sampleDirichlet(alpha, CLASSES, r);
        first += q[0] as number;
        squares += q.reduce((s, x) => s + x * x, 0);
      }
      expect(first / n).toBeCloseTo(1 / CLASSES, 2);
      const expected = (alpha + 1) / (CLASSES * alpha + 1);
      expect(Math.abs(squares / n / expected - 1)).toBeLessThan(0.03);
    }
  });
});

describe('partitions', () => {
  it('iid: equal sizes, every example at most once, class proportions near 1/C', () => {
    const parts = createPartition(LABELS, CLASSES, 20, 'iid', 1);
    expect(parts.map((p) => p.length)).toEqual(new Array(20).fill(1000));
    expect(assignedOnce(parts, LABELS.length)).toBe(true);
    // Hypergeometric: E[Σ p̂²] ≈ 1/C + (1 − 1/C)/m for m = 1000 examples per node.
    expect(meanConcentration(parts)).toBeCloseTo(0.1 + 0.9 / 1000, 3);
  });

  it('dirichlet: reproducible per seed, every example at most once, concentration (α+1)/(Cα+1) + (1 − that)/m', () => {
    const a = createPartition(LABELS, CLASSES, 10, 'dirichlet:0.5', 4, { perNode: 200 });
    expect(createPartition(LABELS, CLASSES, 10, 'dirichlet:0.5', 4, { perNode: 200 })).toEqual(a);
    expect(createPartition(LABELS, CLASSES, 10, 'dirichlet:0.5', 5, { perNode: 200 })).not.toEqual(a);
    expect(assignedOnce(a, LABELS.length)).toBe(true);
    // Many nodes with small shares so class pools never run out and the closed form applies.
    const m = 40;
    for (const alpha of [0.1, 1, 1000]) {
      const parts = createPartition(LABELS, CLASSES, 400, `dirichlet:${alpha}`, 2, { perNode: m });
      expect(parts.every((p) => p.length === m)).toBe(true);
      const q2 = (alpha + 1) / (CLASSES * alpha + 1);
      const expected = q2 + (1 - q2) / m; // multinomial sampling of m labels from q
      expect(Math.abs(meanConcentration(parts) - expected)).toBeLessThan(0.03);
    }
  });

  it('shards:s gives every node exactly s classes, every example at most once', () => {
    const parts = createPartition(LABELS, CLASSES, 20, 'shards:2', 3);
    expect(assignedOnce(parts, LABELS.length)).toBe(true);
    for (const part of parts) {
      expect(new Set([...part].map((i) => LABELS[i])).size).toBe(2);
      expect(part.length).toBe(1000);
    }
  });

  it('specs are parsed and bad ones named', () => {
    expect(parsePartitionSpec('dirichlet:0.5')).toEqual({ kind: 'dirichlet', alpha: 0.5 });
    expect(() => parsePartitionSpec('dirichlet:-1')).toThrow(/partition "dirichlet:-1"/);
    expect(() => parsePartitionSpec('shards:1.5')).toThrow(/shards:CLASSES/);
    expect(() => createPartition(LABELS, CLASSES, 10, 'iid', 1, { perNode: 5000 })).toThrow(/perNode must be/);
  });
});
