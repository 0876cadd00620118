import { describe, expect, it } from 'vitest';
import { formatBar } from './progress.js';

describe('formatBar', () => {
  it('shows the fraction, counts and an eta from the elapsed time', () => {
    expect(formatBar('train', 5, 10, 20, 'loss 0.5')).toBe('train [############............]  50% 5/10 20s eta 20s loss 0.5');
    expect(formatBar('eval', 0, 4, 1)).toBe('eval [........................]   0% 0/4 1s');
  });
});
