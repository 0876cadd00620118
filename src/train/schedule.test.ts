import { describe, expect, it } from 'vitest';
import { learningRateAt, parseSchedule } from './schedule.js';

describe('learningRateAt', () => {
  it('garipov: constant to 50%, linear to 1% at 90%, then 1%', () => {
    const s = { kind: 'garipov' } as const;
    expect(learningRateAt(s, 0.1, 0, 10)).toBe(0.1);
    expect(learningRateAt(s, 0.1, 5, 10)).toBe(0.1);
    expect(learningRateAt(s, 0.1, 7, 10)).toBeCloseTo(0.1 * (1 - 0.5 * 0.99), 12);
    expect(learningRateAt(s, 0.1, 9, 10)).toBeCloseTo(0.001, 12);
    expect(learningRateAt(s, 0.1, 9.5, 10)).toBeCloseTo(0.001, 12);
  });

  it('step and cosine follow their closed forms', () => {
    expect(learningRateAt({ kind: 'step', stepSize: 3, gamma: 0.1 }, 1, 7, 10)).toBeCloseTo(0.01, 12);
    expect(learningRateAt({ kind: 'cosine' }, 1, 5, 10)).toBeCloseTo(0.5, 12);
    expect(learningRateAt({ kind: 'cosine' }, 1, 10, 10)).toBeCloseTo(0, 12);
  });

  it('parseSchedule names the option on bad input', () => {
    expect(parseSchedule('step:10:0.5')).toEqual({ kind: 'step', stepSize: 10, gamma: 0.5 });
    expect(() => parseSchedule('linear')).toThrow(/--schedule: expected constant/);
  });
});
