import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { bandImageSplit } from '../../test/fixtures/band-images.js';
import { useTestBackend } from '../../test/helpers.js';
import { createSimulation, type SimulationConfig, type SimulationData } from './simulator.js';

beforeAll(async () => {
  await useTestBackend();
});

const DATA: SimulationData = { train: bandImageSplit('train', 400, 1), test: bandImageSplit('test', 60, 2) };

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
