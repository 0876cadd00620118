import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../util/random.js';
import { useTestBackend } from '../../test/helpers.js';
import { kaimingNormalArray, kernelFans, truncatedNormalArray } from './init.js';
import { lenet5 } from './lenet5/index.js';
import { disposeTensors } from './tensor-map.js';

beforeAll(async () => {
  await useTestBackend();
});

function moments(values: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    s += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = s / values.length;
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += ((values[i] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(ss / values.length), min, max };
}

describe('initialization', () => {
  const config = lenet5.parseConfig({});

  it('kernelFans follows PyTorch: HWIO fan_in = kh·kw·I, fan_out = kh·kw·O; dense [in, out]', () => {
    expect(kernelFans([5, 5, 6, 16])).toEqual({ fanIn: 150, fanOut: 400 });
    expect(kernelFans([400, 120])).toEqual({ fanIn: 400, fanOut: 120 });
    expect(() => kernelFans([3], 'b')).toThrow(/"b".*\[3\]/);
  });

  it('pytorch scheme: weights and biases U(±1/√fan_in), so std ≈ 1/√(3·fan_in)', () => {
    const state = lenet5.init(config, 1);
    for (const [name, fanIn] of [['conv2.weight', 150], ['fc1.weight', 400], ['fc1.bias', 400], ['fc2.weight', 120]] as const) {
      const m = moments(state.params.get(name)!.dataSync());
      const bound = 1 / Math.sqrt(fanIn);
      expect(m.max, name).toBeLessThanOrEqual(Math.fround(bound));
      expect(m.min, name).toBeGreaterThanOrEqual(-Math.fround(bound));
      if (name.endsWith('weight')) {
        expect(m.std / (1 / Math.sqrt(3 * fanIn)), name).toBeGreaterThan(0.97);
        expect(m.std / (1 / Math.sqrt(3 * fanIn)), name).toBeLessThan(1.03);
        expect(m.max, name).toBeGreaterThan(0.99 * bound);
      }
    }
    disposeTensors(state);
  });

  it('xavier scheme: weights U(±√(6/(fan_in+fan_out))), biases zero', () => {
    const state = lenet5.init(config, 1, { scheme: 'xavier' });
    const m = moments(state.params.get('fc1.weight')!.dataSync());
    const bound = Math.sqrt(6 / (400 + 120));
    expect(m.max).toBeLessThanOrEqual(Math.fround(bound));
    expect(m.max).toBeGreaterThan(0.99 * bound);
    expect(m.std / (bound / Math.sqrt(3))).toBeCloseTo(1, 1);
    const conv = moments(state.params.get('conv2.weight')!.dataSync());
    expect(conv.max).toBeLessThanOrEqual(Math.fround(Math.sqrt(6 / (150 + 400))));
    expect(Array.from(state.params.get('fc3.bias')!.dataSync())).toEqual(new Array(10).fill(0));
    disposeTensors(state);
  });

  it('is deterministic in the seed and differs between seeds', () => {
    const live = tf.memory().numTensors;
    const a = lenet5.init(config, 7), b = lenet5.init(config, 7), c = lenet5.init(config, 8);
    for (const [name, t] of a.params) expect(Array.from(b.params.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
    expect(Array.from(c.params.get('fc1.weight')!.dataSync())).not.toEqual(Array.from(a.params.get('fc1.weight')!.dataSync()));
    disposeTensors(a, b, c);
    expect(tf.memory().numTensors).toBe(live);
  });

  it('kaiming normal has std √(2/fan_in); truncated normal stays inside its absolute bounds', () => {
    const k = moments(kaimingNormalArray(20000, 50, createRandom(1)));
    expect(k.std / Math.sqrt(2 / 50)).toBeCloseTo(1, 1);
    const t = moments(truncatedNormalArray(20000, 1, createRandom(2), -1, 1));
    expect(t.min).toBeGreaterThanOrEqual(-1);
    expect(t.max).toBeLessThanOrEqual(1);
    // std of N(0,1) truncated to [−1, 1]: √(1 − 2φ(1)/(Φ(1) − Φ(−1))) = 0.5379
    expect(t.std).toBeCloseTo(0.5379, 1);
    const wide = moments(truncatedNormalArray(20000, 0.02, createRandom(3)));
    expect(wide.std / 0.02).toBeCloseTo(1, 1);
  });
});
