import { describe, expect, it } from 'vitest';
import { assertRowCount, GRID_BOUNDS, gridOption, integerListOption, jsonOption, numberOption } from './args.js';

describe('CLI option parsing', () => {
  it('integer lists accept commas and ranges', () => {
    expect(integerListOption('1,2,5-7', 'seeds')).toEqual([1, 2, 5, 6, 7]);
    expect(() => integerListOption('1,x', 'seeds')).toThrow(/--seeds: expected comma-separated integers, found "x"/);
  });

  it('numbers are checked and the option is named', () => {
    expect(numberOption('0.5', 'lr')).toBe(0.5);
    expect(() => numberOption('abc', 'lr')).toThrow(/--lr: expected a number/);
    expect(() => numberOption('2.5', 'epochs', { integer: true })).toThrow(/--epochs: expected an integer/);
    expect(() => numberOption('0', 'points', { min: 2 })).toThrow(/--points: expected at least 2/);
  });

  it('JSON options report the parse error', () => {
    expect(jsonOption('{"width":0.25}', 'config')).toEqual({ width: 0.25 });
    expect(() => jsonOption('{width}', 'config')).toThrow(/--config: expected JSON/);
  });

  it('grid sizes are bounded before any allocation, the error saying the bound and why', () => {
    expect(gridOption('61', 'points', 2)).toBe(61);
    expect(gridOption(String(GRID_BOUNDS.points.max), 'points', 2)).toBe(GRID_BOUNDS.points.max);
    expect(() => gridOption('1e9', 'points', 2)).toThrow(/^--points: at most 10000 \(each t is a full evaluation.*\), found 1000000000$/);
    expect(() => gridOption('1', 'points', 2)).toThrow(/--points: expected at least 2/);
    expect(() => gridOption('65', 'bends', 2)).toThrow(/--bends: at most 64/);
    expect(() => assertRowCount(1_000_001, '--samples 1001 × --points 999')).toThrow(/--samples 1001 × --points 999 gives 1000001 rows; at most 1000000/);
    expect(() => assertRowCount(1_000_000, 'x')).not.toThrow();
  });
});
