import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bandImageSplit } from '../../test/fixtures/band-images.js';
import { useTestBackend } from '../../test/helpers.js';
import { createSimulation, loadSimulation, resolveSimulationConfig, runSimulation, type SimulationConfig, type SimulationData } from './simulator.js';

beforeAll(async () => {
  await useTestBackend();
});

const DATA: SimulationData = { train: bandImageSplit('train', 600, 1), test: bandImageSplit('test', 100, 2) };

const SMALL: Partial<SimulationConfig> = {
  mode: 'gossip',
  nodes: 6,
  topology: 'regular:2',
  partition: 'dirichlet:0.5',
  averaging: 'corrected',
  batchSize: 8,
  trainInterval: [2, 4],
  ticks: 24,
  recordEvery: 6,
  testSubset: 40,
  seed: 3,
};

async function rowsOf(config: Partial<SimulationConfig>) {
  const sim = createSimulation(config, DATA);
  await sim.run();
  const rows = sim.rows();
  sim.dispose();
  return rows;
}

describe('simulator', () => {
  it('is deterministic: the same seed gives the same rows, another seed other rows', async () => {
    const a = await rowsOf(SMALL);
    expect(a.ticks.map((r) => r.tick)).toEqual([0, 6, 12, 18, 24]);
    expect(a.ticks.at(-1)?.trainSteps).toBeGreaterThan(6 * 4);
    expect(a.ticks.some((r) => r.averagings > 0)).toBe(true);
    expect(await rowsOf(SMALL)).toEqual(a);
    const b = await rowsOf({ ...SMALL, seed: 4 });
    expect(b.ticks.map((r) => r.lossMean)).not.toEqual(a.ticks.map((r) => r.lossMean));
  });

  it('a resumed run equals the uninterrupted one (state saved at tick 12, reloaded, run to 24)', async () => {
    const straight = await rowsOf(SMALL);
    const path = join(mkdtempSync(join(tmpdir(), 'simulate-')), 'state.safetensors');
    const first = createSimulation(SMALL, DATA);
    await first.run(12);
    await first.save(path);
    first.dispose();
    const resumed = await loadSimulation(path, DATA);
    expect(resumed.tick).toBe(12);
    await resumed.run();
    expect(resumed.rows()).toEqual(straight);
    resumed.dispose();
    // runSimulation resumes from its state file too.
    const path2 = join(mkdtempSync(join(tmpdir(), 'simulate-')), 'state.safetensors');
    await runSimulation({ ...SMALL, ticks: 12 }, DATA, { statePath: path2 });
    // A state write that a kill interrupted leaves its temporary file; the resume removes it.
    writeFileSync(join(dirname(path2), '.state.safetensors.0123456789abcdef.tmp'), 'partial');
    expect(await runSimulation(SMALL, DATA, { statePath: path2 })).toEqual(straight);
    expect(readdirSync(dirname(path2)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(runSimulation({ ...SMALL, seed: 9 }, DATA, { statePath: path2 })).rejects.toThrow(/seed/);
  });

  it('options.signal stops a run between ticks; runSimulation saves the state there and a later call resumes to the uninterrupted rows', async () => {
    const straight = await rowsOf(SMALL);
    const path = join(mkdtempSync(join(tmpdir(), 'simulate-')), 'state.safetensors');
    const controller = new AbortController();
    const steps: number[] = [];
    const stopped = await runSimulation(SMALL, DATA, {
      statePath: path,
      signal: controller.signal,
      progress: (event) => {
        steps.push(event.step);
        if (event.step === 12) controller.abort();
      },
    });
    expect(steps.at(-1)).toBe(12);
    expect(stopped.ticks.map((r) => r.tick)).toEqual([0, 6, 12]);
    expect(await runSimulation(SMALL, DATA, { statePath: path })).toEqual(straight);
  });

  it('plain gossip multiplies the weight variance by c² + (1−c)²/K at an averaging of independent models; corrected keeps it', async () => {
    // lr = 0 and wd = 0: training leaves the weights alone; at tick 1 every node sends its initial
    // model and averages with its K = 4 neighbours' independent models.
    const base: Partial<SimulationConfig> = { ...SMALL, nodes: 10, topology: 'regular:4', lr: 0, weightDecay: 0, trainInterval: [1, 1], ticks: 1, recordEvery: 1 };
    const expected = 0.25 + 0.25 / 4; // c = 0.5, K = 4
    const plain = await rowsOf({ ...base, averaging: 'plain' });
    const corrected = await rowsOf({ ...base, averaging: 'corrected' });
    const ratio = (rows: typeof plain, layer: string) => {
      const at = (tick: number) => rows.layers.find((r) => r.tick === tick && r.layer === layer)?.variance as number;
      return at(1) / at(0);
    };
    for (const layer of ['fc1', 'fc2', 'conv2']) {
      expect(Math.abs(ratio(plain, layer) / expected - 1), layer).toBeLessThan(0.05);
      // Corrected: Var(w′) = Var(avg)·(target + ε)/(Var(avg) + ε) with target ≈ σ², Var(avg) ≈ rσ², ε = 1e-4,
      // so the ratio is r·(σ² + ε)/(rσ² + ε): slightly below 1 for Xavier variances of a few 1e-3.
      const sigma2 = corrected.layers.find((r) => r.tick === 0 && r.layer === layer)?.variance as number;
      const expectedCorrected = (expected * (sigma2 + 1e-4)) / (expected * sigma2 + 1e-4);
      expect(Math.abs(ratio(corrected, layer) / expectedCorrected - 1), layer).toBeLessThan(0.03);
      expect(ratio(corrected, layer), layer).toBeGreaterThan(0.9);
    }
    expect(plain.ticks[1]?.averagings).toBe(10);
    expect(plain.ticks[1]?.correctionFactor).toBeNull();
    expect(corrected.ticks[1]?.correctionFactor).toBeGreaterThan(1);
    // Shared initialization: identical models, nothing lost.
    const shared = await rowsOf({ ...base, averaging: 'plain', init: 'shared' });
    expect(ratio(shared, 'fc1')).toBeCloseTo(1, 6);
  });

  it('federated averaging: clients restart from the server model after a round', async () => {
    const sim = createSimulation({ ...SMALL, mode: 'federated', trainInterval: [1, 1], ticks: 1, recordEvery: 1 }, DATA);
    await sim.run();
    expect(sim.nodeState(0)).toBe(sim.nodeState(5));
    const last = sim.rows().ticks.at(-1);
    expect(last?.accuracyMin).toBe(last?.accuracyMax);
    // 6 uploads and 6 downloads of 61,706 float32 parameters.
    expect(last?.bytesSent).toBe(12 * 61_706 * 4);
    sim.dispose();
  });

  it('the batched engine trains the same models as the separate one (1e-4)', async () => {
    const config = { ...SMALL, trainInterval: [1, 2] as const, ticks: 6 };
    const a = createSimulation({ ...config, engine: 'separate' }, DATA);
    const b = createSimulation({ ...config, engine: 'batched' }, DATA);
    await a.run();
    await b.run();
    for (let node = 0; node < 6; node++) {
      for (const [name, t] of a.nodeState(node).params) {
        const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(t, b.nodeState(node).params.get(name) as tf.Tensor))).dataSync()[0] as number);
        expect(diff, `node ${node} ${name}`).toBeLessThan(1e-4);
      }
    }
    a.dispose();
    b.dispose();
  });

  it('leaks no tensors: live tensors stay bounded across ticks and return to the baseline after dispose', async () => {
    const before = tf.memory().numTensors;
    const sim = createSimulation(SMALL, DATA);
    const counts: number[] = [];
    for (const until of [6, 12, 18, 24]) {
      await sim.run(until);
      counts.push(tf.memory().numTensors - before);
    }
    // At most: every node's model, a full inbox (2 models) each, momentum, test chunks.
    const bound = 6 * (1 + 2) * 10 + 6 * 10 + 2;
    for (const c of counts) expect(c).toBeLessThanOrEqual(bound);
    sim.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names bad config fields', () => {
    expect(() => resolveSimulationConfig({ nodes: 0 })).toThrow(/nodes must be an integer ≥ 1/);
    expect(() => resolveSimulationConfig({ trainInterval: [5, 2] })).toThrow(/trainInterval/);
    expect(() => resolveSimulationConfig({ nodez: 3 })).toThrow(/unknown field "nodez"/);
    expect(() => createSimulation({ ...SMALL, averaging: 'median' }, DATA)).toThrow(/averaging rule "median"/);
  });
});
