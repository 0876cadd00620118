import { describe, expect, it } from 'vitest';
import { integerListOption, jsonOption, numberOption } from './args.js';

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
});
