import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { correctCount, crossEntropy, crossEntropySum } from './loss.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('crossEntropy', () => {
  it('equals −log softmax of the true class computed in plain JS, also for large logits', () => {
    const z = [
      [1, 2, 3],
      [1000, 0, -1000],
    ];
    const y = [0, 1];
    const expected =
      z.reduce((s, row, n) => {
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
        return s + (lse - (row[y[n]!] as number));
      }, 0) / z.length;
    const logits = tf.tensor2d(z);
    const labels = tf.tensor1d(y, 'int32');
    expect(crossEntropy(logits, labels).dataSync()[0]).toBeCloseTo(expected, 4);
    expect(crossEntropySum(logits, labels).dataSync()[0]).toBeCloseTo(expected * 2, 3);
    expect(correctCount(logits, labels).dataSync()[0]).toBe(0);
    expect(correctCount(logits, tf.tensor1d([2, 0], 'int32')).dataSync()[0]).toBe(2);
  });
});
