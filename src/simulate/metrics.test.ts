import { describe, expect, it } from 'vitest';
import { plateauDelay, toCsv, type TickRow } from './metrics.js';

function row(tick: number, accuracyMean: number): TickRow {
  return { series: 's', tick, accuracyMean, accuracyMin: 0, accuracyMax: 1, lossMean: 1, lossMin: 1, lossMax: 1, correctionFactor: null, averagings: 0, trainSteps: 0, bytesSent: 0 };
}

describe('plateau delay', () => {
  it('finds the first ticks at 50 % and 80 % and the end of the largest rise', () => {
    // A plateau near 10 % until tick 300, a jump to 60 % at 400, then 85 % at 600.
    const rows = [row(0, 0.1), row(100, 0.11), row(200, 0.1), row(300, 0.12), row(400, 0.6), row(500, 0.75), row(600, 0.85)];
    expect(plateauDelay([...rows].reverse())).toEqual({ series: 's', tick50: 400, tick80: 600, largestJumpTick: 400, largestJump: 0.6 - 0.12 });
  });

  it('reports null for levels never reached', () => {
    const d = plateauDelay([row(0, 0.1), row(10, 0.2)]);
    expect(d.tick50).toBeNull();
    expect(d.tick80).toBeNull();
    expect(d.largestJumpTick).toBe(10);
    expect(plateauDelay([row(0, 0.1)]).largestJumpTick).toBeNull();
  });
});

describe('toCsv', () => {
  it('writes a header, quotes cells with commas, and leaves nulls empty', () => {
    expect(toCsv([{ a: 1, b: 'x,y', c: null }, { a: 2, b: 'z', c: 0.5 }])).toBe('a,b,c\n1,"x,y",\n2,z,0.5\n');
    expect(toCsv([])).toBe('');
  });
});
