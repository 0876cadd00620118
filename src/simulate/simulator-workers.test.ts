import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import type { ImageSplit } from '../data/types.js';
import { createRandom } from '../util/random.js';
import { createSimulation, type SimulationConfig, type SimulationData } from './simulator.js';

beforeAll(async () => {
  await useTestBackend();
});

/** Class c = a bright row band at rows 2c+4‥2c+7 over uniform noise. */
function syntheticSplit(split: 'train' | 'test', count: number, seed: number): ImageSplit {
  const r = createRandom(seed);
  const images = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const c = r.int(10);
    labels[n] = c;
    for (let p = 0; p < 784; p++) {
      const row = Math.floor(p / 28);
      images[n * 784 + p] = row >= 2 * c + 4 && row < 2 * c + 8 ? 200 + r.int(55) : r.int(90);
    }
  }
  return { dataset: 'synthetic', split, images, labels, count, height: 28, width: 28, channels: 1, classes: 10 };
}

const DATA: SimulationData = { train: syntheticSplit('train', 400, 1), test: syntheticSplit('test', 60, 2) };

// Intervals of 1‥2 ticks: most ticks have several nodes training, which the workers share.
const CONFIG: Partial<SimulationConfig> = {
  mode: 'gossip',
  nodes: 5,
  topology: 'regular:2',
  averaging: 'corrected',
  batchSize: 8,
  trainInterval: [1, 2],
  ticks: 8,
  recordEvery: 4,
  testSubset: 30,
  seed: 5,
};

describe('simulator with workers', () => {
  it('gives bit-identical rows with 2 workers and 1 (each node step computed whole by one worker), and frees its tensors', async () => {
    const before = tf.memory().numTensors;
    const run = async (workers: number) => {
      const sim = createSimulation(CONFIG, DATA, { workers });
      await sim.run();
      const rows = sim.rows();
      sim.dispose();
      return rows;
    };
    const one = await run(1);
    const two = await run(2);
    expect(two.ticks.at(-1)?.trainSteps).toBeGreaterThan(8);
    expect(two).toEqual(one);
    expect(tf.memory().numTensors).toBe(before);
  });
});
