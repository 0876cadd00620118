/**
 * The models on the backend from MODECONN_BACKEND (default wasm) against the cpu backend, from the
 * same parameter values and inputs: evaluation logits, training logits, loss, BatchNorm batch
 * statistics, the gradient of every parameter, and the parameters after two SGD-momentum steps.
 * cpu is tfjs's reference implementation; this is how the same suite checks a GPU:
 *
 *   MODECONN_BACKEND=webgpu npx vitest run test/backend-comparison.test.ts
 *
 * The tolerance is the backend's ({@link BACKEND_TOLERANCE}) times a per-model factor stated
 * below: errors grow with depth (ResNet18 has 20 layers between input and loss) and with
 * subtraction of near-equal values (BatchNorm's centring, softmax's shift). Measured on wasm
 * (MODECONN_COMPARISON_REPORT=1): largest errors 1.3e-6 (LeNet5 gradients), 7.9e-6 (ResNet18
 * gradients), 6.4e-7 (CCT gradients), well inside 1e-5 × factor. ResNet18 runs at 16×16 with
 * batch 8: at 8×8 with batch 4 its last BatchNorm sees 4 values per channel and amplifies
 * rounding 10× (1.3e-4 on wasm).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { getArchitecture } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { ModelState } from '../src/models/types.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { lossAndGradients, trainStep } from '../src/train/step.js';
import { BACKEND_TOLERANCE, comparisonBackend, expectNoLeakedTensors, maxRelativeError, reportSkip, useTestBackend } from './helpers.js';

const target = await comparisonBackend();
if (target.skipReason !== undefined) reportSkip('backend-comparison.test.ts', `model comparisons of ${target.name} against cpu`, target.skipReason);

interface Case {
  readonly id: string;
  readonly architecture: string;
  readonly config: unknown;
  readonly batch: number;
  /** Factor on the backend tolerance for outputs and gradients (depth of the network). */
  readonly depth: number;
}

const CASES: readonly Case[] = [
  { id: 'LeNet5 28×28×1', architecture: 'lenet5', config: {}, batch: 4, depth: 5 },
  { id: 'ResNet18 k=1/16 16×16×3', architecture: 'resnet18', config: { width: 1 / 16, inputSize: 16 }, batch: 8, depth: 20 },
  { id: 'CCT tiny 8×8×3', architecture: 'cct', config: { preset: 'cct_tiny', inputSize: 8, classes: 3 }, batch: 4, depth: 10 },
];

type Values = Map<string, { readonly shape: number[]; readonly values: Float32Array }>;

/** Everything compared, as plain arrays, computed on the active backend from plain values. */
interface Outputs {
  readonly evalLogits: Float32Array;
  readonly trainLogits: Float32Array;
  readonly loss: number;
  readonly batchStats: Map<string, Float32Array>;
  readonly grads: Map<string, Float32Array>;
  readonly afterSteps: Map<string, Float32Array>;
}

function toValues(map: ReadonlyMap<string, tf.Tensor>): Values {
  return new Map([...map].map(([k, t]) => [k, { shape: t.shape, values: t.dataSync().slice() as Float32Array }]));
}

function toTensors(values: Values): Map<string, tf.Tensor> {
  return new Map([...values].map(([k, v]) => [k, tf.tensor(v.values, v.shape, 'float32')]));
}

/** The values of a tensor computed in `f`, read asynchronously (webgpu cannot read synchronously in Node). */
async function readBack(f: () => tf.Tensor): Promise<Float32Array> {
  const t = tf.tidy(f);
  const values = (await t.data()).slice() as Float32Array;
  t.dispose();
  return values;
}

async function plain(m: ReadonlyMap<string, tf.Tensor>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, t] of m) out.set(k, (await t.data()).slice() as Float32Array);
  return out;
}

async function compute(c: Case, params: Values, buffers: Values, x: Float32Array, labels: Int32Array): Promise<Outputs> {
  const arch = getArchitecture(c.architecture);
  const config = arch.parseConfig(c.config);
  const [h, w, ch] = arch.spec(config).inputShape as [number, number, number];
  let state: ModelState = { params: toTensors(params), buffers: toTensors(buffers) };
  const batch = { x: tf.tensor4d(x, [c.batch, h, w, ch]), y: tf.tensor1d(labels, 'int32') };
  const evalLogits = await readBack(() => arch.apply(config, state, batch.x, { training: false }).logits);
  const trainLogits = await readBack(() => arch.apply(config, state, batch.x, { training: true }).logits);
  const lg = lossAndGradients(arch, config, state, batch);
  const outputs = { loss: (await lg.loss.data())[0] as number, grads: await plain(lg.grads), batchStats: await plain(lg.batchStats) };
  tf.dispose([lg.loss, lg.correct, ...lg.grads.values(), ...lg.batchStats.values()]);
  const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
  for (let step = 0; step < 2; step++) {
    const result = trainStep(arch, config, state, batch, optimizer, 0.05);
    tf.dispose([result.loss, result.correct]);
    disposeTensors(state);
    state = result.state;
  }
  const afterSteps = new Map([...(await plain(state.params)), ...(await plain(state.buffers))]);
  optimizer.dispose();
  disposeTensors(state);
  tf.dispose([batch.x, batch.y]);
  return { evalLogits, trainLogits, afterSteps, ...outputs };
}

describe.skipIf(target.skipReason !== undefined)(`models on ${target.name} equal the cpu backend (tolerance ${target.tolerance} × depth factor)`, () => {
  afterAll(async () => {
    await useTestBackend();
  });

  for (const c of CASES) {
    it(`${c.id}: eval and train logits, loss, batch statistics, every gradient, two SGD steps`, async () => {
      const arch = getArchitecture(c.architecture);
      const config = arch.parseConfig(c.config);
      const spec = arch.spec(config);
      await tf.setBackend('cpu');
      const init = arch.init(config, 7);
      // Running statistics away from the (0, 1) start, so evaluation mode is not training mode in disguise.
      const buffers = new Map([...init.buffers].map(([k, t]) => [k, k.endsWith('running_var') ? tf.randomUniform(t.shape, 0.5, 2, 'float32', 3) : tf.randomNormal(t.shape, 0, 0.2, 'float32', 4)]));
      const params = toValues(init.params);
      const bufferValues = toValues(buffers);
      disposeTensors(init);
      tf.dispose([...buffers.values()]);
      const n = c.batch * spec.inputShape.reduce((a, b) => a * b, 1);
      const x = tf.tidy(() => tf.randomNormal([n], 0, 1, 'float32', 5).dataSync().slice() as Float32Array);
      const labels = Int32Array.from({ length: c.batch }, (_, i) => (i * 7) % spec.classes);

      const expected = await compute(c, params, bufferValues, x, labels);
      await tf.setBackend(target.name);
      const got = await compute(c, params, bufferValues, x, labels);

      const tol = target.tolerance * c.depth;
      if (process.env['MODECONN_COMPARISON_REPORT'] !== undefined) console.log(JSON.stringify(errorReport(c.id, got, expected)));
      expect(maxRelativeError(got.evalLogits, expected.evalLogits), 'eval logits').toBeLessThan(tol);
      expect(maxRelativeError(got.trainLogits, expected.trainLogits), 'train logits').toBeLessThan(tol);
      expect(Math.abs(got.loss - expected.loss) / Math.max(1, expected.loss), 'loss').toBeLessThan(tol);
      expect([...got.batchStats.keys()]).toEqual([...expected.batchStats.keys()]);
      for (const [name, values] of expected.batchStats) expect(maxRelativeError(got.batchStats.get(name)!, values), name).toBeLessThan(tol);
      expect([...got.grads.keys()]).toEqual([...expected.grads.keys()]);
      for (const [name, values] of expected.grads) {
        // Gradients are compared relative to the largest gradient of the tensor: they are small numbers.
        const scale = Math.max(1e-3, ...Array.from(values, Math.abs));
        const g = got.grads.get(name)!;
        expect(maxRelativeError(g.map((v) => v / scale), values.map((v) => v / scale)), `gradient ${name}`).toBeLessThan(tol);
      }
      for (const [name, values] of expected.afterSteps) expect(maxRelativeError(got.afterSteps.get(name)!, values), `after 2 steps: ${name}`).toBeLessThan(tol);
    });
  }

  it('a training step on the backend leaks no tensors', async () => {
    await tf.setBackend(target.name);
    const arch = getArchitecture('resnet18');
    const config = arch.parseConfig({ width: 1 / 16, inputSize: 8 });
    let state: ModelState = arch.init(config, 1);
    const batch = { x: tf.randomNormal<tf.Rank.R4>([4, 8, 8, 3], 0, 1, 'float32', 2), y: tf.tensor1d([0, 1, 2, 3], 'int32') };
    const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9 });
    await expectNoLeakedTensors(async () => {
      const result = trainStep(arch, config, state, batch, optimizer, 0.01);
      await result.loss.data();
      tf.dispose([result.loss, result.correct]);
      disposeTensors(state);
      state = result.state;
    });
    disposeTensors(state);
    optimizer.dispose();
    tf.dispose([batch.x, batch.y]);
  });
});

describe('backend tolerances', () => {
  it('are per backend and looser for the GPU than for wasm, as in tfjs', () => {
    expect(BACKEND_TOLERANCE['webgpu']).toBeGreaterThan(BACKEND_TOLERANCE['wasm']!);
    expect(Object.values(BACKEND_TOLERANCE)).toContain(target.tolerance);
  });
});

/** The largest error of each kind (MODECONN_COMPARISON_REPORT=1 prints it: how the factors were chosen). */
function errorReport(id: string, got: Outputs, expected: Outputs): Record<string, number | string> {
  const worst = (a: Map<string, Float32Array>, b: Map<string, Float32Array>, scaled: boolean) =>
    Math.max(...[...b].map(([k, v]) => {
      const s = scaled ? Math.max(1e-3, ...Array.from(v, Math.abs)) : 1;
      return maxRelativeError(a.get(k)!.map((x) => x / s), v.map((x) => x / s));
    }), 0);
  return {
    id,
    backend: target.name,
    evalLogits: maxRelativeError(got.evalLogits, expected.evalLogits),
    trainLogits: maxRelativeError(got.trainLogits, expected.trainLogits),
    batchStats: worst(got.batchStats, expected.batchStats, false),
    grads: worst(got.grads, expected.grads, true),
    afterSteps: worst(got.afterSteps, expected.afterSteps, false),
  };
}
