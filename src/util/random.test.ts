import { describe, expect, it } from 'vitest';
import { createRandom, normalArray, permutation, uniformArray } from './random.js';

describe('createRandom', () => {
  it('the same seed gives the same sequence, another seed another one', () => {
    const a = createRandom(7), b = createRandom(7), c = createRandom(8);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
  });

  it('uniform samples have mean 1/2 and variance 1/12 within sampling error', () => {
    const x = uniformArray(200_000, 0, 1, createRandom(1));
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.003);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.001);
    expect(x.reduce((m, v) => Math.min(m, v), 1)).toBeGreaterThanOrEqual(0);
    expect(x.reduce((m, v) => Math.max(m, v), 0)).toBeLessThan(1);
  });

  it('normal samples have the requested mean and standard deviation', () => {
    const x = normalArray(200_000, 2, 3, createRandom(2));
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
    expect(Math.abs(mean - 2)).toBeLessThan(0.03);
    expect(Math.abs(std - 3)).toBeLessThan(0.03);
  });

  it('permutation contains every index once', () => {
    const p = permutation(1000, createRandom(3));
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(p.slice(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('fork gives independent, reproducible streams', () => {
    const f1 = createRandom(5).fork('data'), f2 = createRandom(5).fork('data'), g = createRandom(5).fork('init');
    const s1 = [f1.next(), f1.next()];
    expect([f2.next(), f2.next()]).toEqual(s1);
    expect([g.next(), g.next()]).not.toEqual(s1);
  });
});
