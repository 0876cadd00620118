import { describe, expect, it } from 'vitest';
import { predictStepTime, type ExchangeCostMeasurement, type StepCostMeasurement } from './scaling-model.js';

const free: ExchangeCostMeasurement = { latencySeconds: 0, copyBytesPerSecond: Infinity, sumElementsPerSecond: Infinity };

describe('predictStepTime', () => {
  it('is Amdahl with free exchange: a + b·⌈B/W⌉ + T_opt, speed-up W when only per-example work exists', () => {
    const step: StepCostMeasurement = { batch: 128, perCallSeconds: 0, perExampleSeconds: 0.001, optimizerSeconds: 0, parameters: 1000, buffers: 0 };
    for (const w of [1, 2, 8, 64]) expect(predictStepTime(step, free, w).speedup).toBeCloseTo(w, 10);
    // A serial 0.128 s optimizer caps the speed-up below 2: at W ≥ B one example per shard, 0.256 / (0.001 + 0.128).
    expect(predictStepTime({ ...step, optimizerSeconds: 0.128 }, free, 1_000_000).speedup).toBeCloseTo(0.256 / 0.129, 10);
  });
  it('adds two round trips, copies and the spread W-slot sum when W > 1, none at W = 1', () => {
    const step: StepCostMeasurement = { batch: 10, perCallSeconds: 0.01, perExampleSeconds: 0.002, optimizerSeconds: 0.003, parameters: 1e6, buffers: 1e3 };
    const exchange: ExchangeCostMeasurement = { latencySeconds: 1e-4, copyBytesPerSecond: 1e9, sumElementsPerSecond: 1e9 };
    expect(predictStepTime(step, exchange, 1)).toEqual({ workers: 1, computeSeconds: 0.033, exchangeSeconds: 0, stepSeconds: 0.033, speedup: 1 });
    const four = predictStepTime(step, exchange, 4);
    // compute 0.01 + 0.002·3 + 0.003; exchange 2·1e-4 + (2·4·1.001e6 + 2·4e6)/1e9 + 1e6/1e9
    expect(four.computeSeconds).toBeCloseTo(0.019, 12);
    expect(four.exchangeSeconds).toBeCloseTo(2e-4 + 0.016008 + 0.001, 12);
    expect(four.speedup).toBeCloseTo(0.033 / (0.019 + 0.017208), 10);
  });
  it('rejects a worker count below 1', () => {
    expect(() => predictStepTime({ batch: 1, perCallSeconds: 0, perExampleSeconds: 1, optimizerSeconds: 0, parameters: 1, buffers: 0 }, free, 0)).toThrow(/workers ≥ 1, found 0/);
  });
});
