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
    const one = predictStepTime(step, exchange, 1);
    expect([one.computeSeconds, one.exchangeSeconds, one.stepSeconds, one.speedup]).toEqual([0.033, 0, 0.033, 1]);
    const four = predictStepTime(step, exchange, 4);
    // compute 0.01 + 0.002·3 + 0.003; exchange 2·1e-4 + (2·4·1.001e6 + 2·4e6)/1e9 + 1e6/1e9
    expect(four.computeSeconds).toBeCloseTo(0.019, 12);
    expect(four.exchangeSeconds).toBeCloseTo(2e-4 + 0.016008 + 0.001, 12);
    // CPU bound (4·(0.016 + 0.017008) + 0.003)/4 = 0.033758 < path 0.036208: the path decides.
    expect(four.cpuBoundSeconds).toBeCloseTo(0.033758, 12);
    expect(four.speedup).toBeCloseTo(0.033 / (0.019 + 0.017208), 10);
  });
  it('is bounded by the CPU all participants and helper threads need on C cores (LeNet5-like: a 1.4 ms, b 0.33 ms, h 3 ms)', () => {
    const step: StepCostMeasurement = { batch: 128, perCallSeconds: 0.0014, perExampleSeconds: 0.00033, optimizerSeconds: 0.0005, parameters: 0, buffers: 0, helperSeconds: 0.003 };
    // W = 2 on 2 cores: path 1.4 + 21.12 + 0.5 = 23.02 ms; CPU (2·(1.4 + 21.12 + 3) + 0.5)/2 = 25.77 ms;
    // T(1) = max(1.4 + 42.24 + 0.5, (1.4 + 42.24 + 3 + 0.5)/2) = 44.14 ms.
    const two = predictStepTime(step, free, 2);
    expect(two.pathSeconds).toBeCloseTo(0.02302, 12);
    expect(two.cpuBoundSeconds).toBeCloseTo(0.02577, 12);
    expect(two.stepSeconds).toBeCloseTo(0.02577, 12);
    expect(two.speedup).toBeCloseTo(0.04414 / 0.02577, 10);
    // Without h the same step scales to the path's 44.14 / 23.02: h alone costs the difference.
    expect(predictStepTime({ ...step, helperSeconds: 0 }, free, 2).speedup).toBeCloseTo(0.04414 / 0.02302, 10);
    // Two participants on one core: all CPU on it, 2·25.52 + 0.5 = 51.54 ms against T(1) = 1.4 + 42.24 + 3 + 0.5 = 47.14 ms.
    expect(predictStepTime(step, free, 2, 1).speedup).toBeCloseTo(0.04714 / 0.05154, 10);
    // 16 on 16 cores: path 1.4 + 0.33·8 + 0.5 = 4.54 ms, CPU (16·(1.4 + 2.64 + 3) + 0.5)/16 = 7.07125 ms.
    expect(predictStepTime(step, free, 16).stepSeconds).toBeCloseTo(0.00707125, 12);
  });
  it('rejects a worker or core count below 1', () => {
    const step: StepCostMeasurement = { batch: 1, perCallSeconds: 0, perExampleSeconds: 1, optimizerSeconds: 0, parameters: 1, buffers: 0 };
    expect(() => predictStepTime(step, free, 0)).toThrow(/workers ≥ 1, found 0/);
    expect(() => predictStepTime(step, free, 2, 0)).toThrow(/cores ≥ 1, found 0/);
  });
});
