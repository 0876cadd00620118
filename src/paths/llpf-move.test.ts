import { describe, expect, it } from 'vitest';
import { lenet5 } from '../models/lenet5/index.js';
import { resnet18 } from '../models/resnet18/index.js';
import { moveUnit, movementUnits } from './llpf-move.js';
import { defaultLrVarianceScaling } from './llpf.js';

describe('moveUnit', () => {
  it('takes step = max(step_f, step_a·‖Δ‖) along Δ/‖Δ‖', () => {
    // P = (0, 0), D = (3, 4): ‖Δ‖ = 5
    const p = [Float32Array.from([0, 0])];
    const d = [Float32Array.from([3, 4])];
    const adaptive = moveUnit(p, d, 0.1, 0.2, false); // max(0.1, 1) = 1 ⇒ (0.6, 0.8)
    expect(adaptive.step).toBe(1);
    expect([...(adaptive.values[0] as Float32Array)].map((x) => Math.round(x * 1e6) / 1e6)).toEqual([0.6, 0.8]);
    const fixed = moveUnit(p, d, 2, 0.01, false); // max(2, 0.05) = 2 ⇒ (1.2, 1.6)
    expect(fixed.step).toBe(2);
    expect([...(fixed.values[0] as Float32Array)].map((x) => Math.round(x * 1e6) / 1e6)).toEqual([1.2, 1.6]);
  });

  it('does not overshoot: a step longer than ‖Δ‖ lands exactly on D', () => {
    const out = moveUnit([Float32Array.from([1, 1]), Float32Array.from([2])], [Float32Array.from([1.5, 1]), Float32Array.from([2])], 3, 0, false);
    expect(out.step).toBeCloseTo(0.5, 12);
    expect([...(out.values[0] as Float32Array)]).toEqual([1.5, 1]);
    expect([...(out.values[1] as Float32Array)]).toEqual([2]);
  });

  it('merged weight and bias move as one vector; `away` moves the other way', () => {
    // Δ = (3, 4) split over two tensors; step 1 ⇒ (0.6) and (0.8); away ⇒ (−0.6) and (−0.8)
    const toward = moveUnit([Float32Array.from([0]), Float32Array.from([0])], [Float32Array.from([3]), Float32Array.from([4])], 1, 0, false);
    const away = moveUnit([Float32Array.from([0]), Float32Array.from([0])], [Float32Array.from([3]), Float32Array.from([4])], 1, 0, true);
    expect((toward.values[0] as Float32Array)[0]).toBeCloseTo(0.6, 6);
    expect((toward.values[1] as Float32Array)[0]).toBeCloseTo(0.8, 6);
    expect((away.values[0] as Float32Array)[0]).toBeCloseTo(-0.6, 6);
    expect((away.values[1] as Float32Array)[0]).toBeCloseTo(-0.8, 6);
  });
});

describe('movementUnits', () => {
  it('LeNet5: weight+bias merged, layers before their first tick excluded', () => {
    const spec = lenet5.spec(lenet5.defaultConfig);
    const schedule = new Map([['fc3', 10]]);
    const units = movementUnits(spec, { kind: 'origin' }, 0, schedule);
    expect(units.map((u) => u.names.join('+'))).toEqual(['conv1.weight+conv1.bias', 'conv2.weight+conv2.bias', 'fc1.weight+fc1.bias', 'fc2.weight+fc2.bias']);
    expect(movementUnits(spec, { kind: 'origin' }, 10, schedule).length).toBe(5);
    expect(movementUnits(spec, { kind: 'origin' }, 0, new Map(), { mergeBiasWithWeight: false }).length).toBe(10);
  });

  it('ResNet18 towards the origin: BatchNorm affine parameters stay; towards a model they move', () => {
    const spec = resnet18.spec({ width: 1 / 16, inputChannels: 3, inputSize: 8, classes: 10 });
    const origin = movementUnits(spec, { kind: 'origin' }, 0, new Map()).flatMap((u) => u.names);
    expect(origin.some((n) => n.includes('bn') || n.includes('downsample.1'))).toBe(false);
    expect(origin).toContain('conv1.weight');
    const toModel = movementUnits(spec, { kind: 'point', state: { params: new Map(), buffers: new Map() } }, 0, new Map()).flatMap((u) => u.names);
    expect(toModel).toContain('bn1.weight');
    expect(toModel.some((n) => n.includes('running'))).toBe(false);
  });
});

describe('defaultLrVarianceScaling', () => {
  it('scales the learning rate by the variance ratio only towards origin/infinity/mean of networks with normalization layers', () => {
    const lenet = lenet5.spec(lenet5.defaultConfig);
    const resnet = resnet18.spec(resnet18.defaultConfig);
    for (const target of [{ kind: 'origin' }, { kind: 'infinity' }] as const) {
      expect(defaultLrVarianceScaling(lenet, target)).toBe(false);
      expect(defaultLrVarianceScaling(resnet, target)).toBe(true);
    }
    expect(defaultLrVarianceScaling(resnet, { kind: 'point', state: { params: new Map(), buffers: new Map() } })).toBe(false);
  });
});
