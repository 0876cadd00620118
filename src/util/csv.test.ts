import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.js';

describe('toCsv', () => {
  it('unions the columns in first-seen order and quotes what needs quoting', () => {
    const csv = toCsv([
      { t: 0, split: 'test', loss: 0.5 },
      { t: 1, split: 'a,"b"', loss: Number.NaN, extra: 'x' },
    ]);
    expect(csv).toBe('t,split,loss,extra\n0,test,0.5,\n1,"a,""b""",NaN,x\n');
  });

  it('empty cells for null/undefined, JSON for objects, nothing for no rows', () => {
    expect(toCsv([{ a: 1, b: 'x,y', c: null }, { a: 2, b: 'z', c: 0.5 }])).toBe('a,b,c\n1,"x,y",\n2,z,0.5\n');
    expect(toCsv([{ a: [1, 2] }])).toBe('a\n"[1,2]"\n');
    expect(toCsv([])).toBe('');
  });
});
