import { describe, expect, it } from 'vitest';
import { toCsv } from './output.js';

describe('toCsv', () => {
  it('unions the columns in first-seen order and quotes what needs quoting', () => {
    const csv = toCsv([
      { t: 0, split: 'test', loss: 0.5 },
      { t: 1, split: 'a,"b"', loss: Number.NaN, extra: 'x' },
    ]);
    expect(csv).toBe('t,split,loss,extra\n0,test,0.5,\n1,"a,""b""",NaN,x\n');
  });
});
