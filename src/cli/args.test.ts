import { describe, expect, it } from 'vitest';
import { assertRowCount, editDistance, GRID_BOUNDS, gridOption, integerListOption, jsonOption, numberOption, parseArgs, RETIRED_FLAGS, suggestFlag } from './args.js';

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

  it('edit distance counts an adjacent transposition as one edit (independent check: by hand)', () => {
    expect(editDistance('pionts', 'points')).toBe(1);
    expect(editDistance('points', 'points')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3); // the textbook Levenshtein example
    expect(editDistance('sample', 'samples')).toBe(1);
  });

  it('a typo gets the nearest known flag; a word far from every flag gets none', () => {
    const known = ['points', 'samples', 'seed', 'layers', 'json'];
    expect(suggestFlag('pionts', known)).toBe('points');
    expect(suggestFlag('sampels', known)).toBe('samples');
    expect(suggestFlag('jsno', known)).toBe('json');
    expect(suggestFlag('banana', known)).toBeUndefined();
    expect(suggestFlag('x', known)).toBeUndefined();
  });

  const options = { points: { type: 'string' }, json: { type: 'boolean' }, 'checkpoints-a': { type: 'string' } } as const;
  it('parseArgs names an unknown option and the nearest declared one', () => {
    expect(() => parseArgs({ args: ['A', '--pionts', '3'], options, allowPositionals: true, strict: true })).toThrow(/^unknown option --pionts \(did you mean --points\?\)$/);
    expect(() => parseArgs({ args: ['--pionts=3'], options, strict: true })).toThrow(/^unknown option --pionts \(did you mean --points\?\)$/);
    expect(() => parseArgs({ args: ['--qiet'], options, strict: true })).toThrow(/did you mean --quiet\?/); // a global option
    expect(() => parseArgs({ args: ['--zzzzzz'], options, strict: true })).toThrow(/^unknown option --zzzzzz; --help lists the options$/);
  });

  it('parseArgs checks names only: not inline values, nor words after --', () => {
    const { values, positionals } = parseArgs({ args: ['--points=--pionts', 'A', '--', '--nope'], options, allowPositionals: true, strict: true });
    expect(values.points).toBe('--pionts');
    expect(positionals).toEqual(['A', '--nope']);
  });

  it('every retired flag is refused with a message naming what to use instead', () => {
    const replacement: Record<string, RegExp> = {
      'epochs-a': /renamed --checkpoints-a/,
      'epochs-b': /renamed --checkpoints-b/,
      'test-subset': /renamed --test-examples/,
      'eval-examples': /renamed --train-examples/,
      resume: /resuming is the default.*--no-resume starts over/,
      'bn-reset': /re-estimated by default.*--no-bn-reset/,
    };
    expect(Object.keys(RETIRED_FLAGS).sort()).toEqual(Object.keys(replacement).sort());
    for (const [flag, message] of Object.entries(replacement)) {
      expect(() => parseArgs({ args: [`--${flag}`, 'x'], options, allowPositionals: true, strict: true })).toThrow(message);
    }
    // A command that declares a name itself keeps it.
    expect(parseArgs({ args: ['--resume'], options: { resume: { type: 'boolean' } }, strict: true }).values.resume).toBe(true);
  });
});
