import { describe, expect, it } from 'vitest';
import { kernelFlops } from './flops.js';

describe('kernelFlops', () => {
  it('counts 2·MACs of convolutions and matrix products from shapes', () => {
    // LeNet5 conv1: 28×28×6 outputs, 5×5×1 filter → 2·4704·25 = 235,200
    expect(kernelFlops('FusedConv2D', [[1, 28, 28, 1], [5, 5, 1, 6]], [[1, 28, 28, 6]])).toBe(235_200);
    // fc1 400→120 on one image: 2·120·400
    expect(kernelFlops('_FusedMatMul', [[1, 400], [400, 120], [120]], [[1, 120]])).toBe(96_000);
    // batched attention scores: 4 heads, 64 tokens, head dim 32: 2·4·64·64·32
    expect(kernelFlops('BatchMatMul', [[4, 64, 32], [4, 32, 64]], [[4, 64, 64]])).toBe(2 * 4 * 64 * 64 * 32);
    expect(kernelFlops('Relu', [[1, 10]], [[1, 10]])).toBe(0);
  });
});
