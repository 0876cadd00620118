/**
 * What a user script does with its own model: define a small MLP as a pure function of a parameter
 * map, under its own name, register it, and run the toolkit's analyses and path methods on it —
 * the linear barrier, a Bezier curve, AutoNEB and LLPF — plus every optional capability it
 * declares (PyTorch names, weight and activation matching, LLPF stages). A second registration
 * without the optional capabilities checks the errors that name what is missing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activationMatching } from '../src/align/activation-matching.js';
import { applyPermutation, permutationSpecFor } from '../src/align/permutation-spec.js';
import { weightMatching } from '../src/align/weight-matching.js';
import { barrierMetrics } from '../src/barriers/metrics.js';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { exportPyTorchStateDict, importPyTorchStateDict } from '../src/checkpoint/pytorch.js';
import type { SafetensorsTensor } from '../src/checkpoint/safetensors.js';
import { configRecord, positiveIntField } from '../src/models/config-fields.js';
import { createModel, getArchitecture, isBuiltInArchitecture, listArchitectures, registerArchitecture } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { Architecture, Model, ModelSpec, ModelState } from '../src/models/types.js';
import { connectAutoNeb, disposeNebChain, nebPath, parseNebCycles } from '../src/paths/autoneb.js';
import { tensorBatchSource } from '../src/paths/batch-source.js';
import { createCurve, curvePath, disposeCurve } from '../src/paths/curve.js';
import { evaluatePath, linearPath } from '../src/paths/linear-path.js';
import { defaultLlpfSchedule, disposeLlpfRun, runLlpf } from '../src/paths/llpf.js';
import { trainCurve } from '../src/paths/train-curve.js';
import { createRandom, permutation, uniformArray } from '../src/util/random.js';
import { expectNoLeakedTensors, useTestBackend } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// The user's architecture: x (2 features as a 1×1×2 image) → fc1 [2, h] → ReLU → fc2 [h, 2].
// ---------------------------------------------------------------------------------------------

interface PairMlpConfig {
  readonly hidden: number;
}

function pairSpec(config: PairMlpConfig): ModelSpec {
  const h = config.hidden;
  return {
    params: [
      { name: 'fc1.weight', shape: [2, h], kind: 'weight', layer: 'fc1' },
      { name: 'fc1.bias', shape: [h], kind: 'bias', layer: 'fc1' },
      { name: 'fc2.weight', shape: [h, 2], kind: 'weight', layer: 'fc2' },
      { name: 'fc2.bias', shape: [2], kind: 'bias', layer: 'fc2' },
    ],
    buffers: [],
    layers: [
      { name: 'fc1', params: ['fc1.weight', 'fc1.bias'], buffers: [] },
      { name: 'fc2', params: ['fc2.weight', 'fc2.bias'], buffers: [] },
    ],
    inputShape: [1, 1, 2],
    classes: 2,
  };
}

function param(state: ModelState, name: string): tf.Tensor {
  const t = state.params.get(name);
  if (t === undefined) throw new Error(`pair-mlp: parameter "${name}" is missing`);
  return t;
}

/** z₁ = x·W₁ + b₁ (the hidden pre-activation) and the logits relu(z₁)·W₂ + b₂. */
function forward(state: ModelState, x: tf.Tensor4D): { z1: tf.Tensor2D; logits: tf.Tensor2D } {
  return tf.tidy(() => {
    const flat = tf.reshape<tf.Rank.R2>(x, [x.shape[0], 2]);
    const z1 = tf.add<tf.Tensor2D>(tf.matMul(flat, param(state, 'fc1.weight')), param(state, 'fc1.bias'));
    const logits = tf.add<tf.Tensor2D>(tf.matMul(tf.relu(z1), param(state, 'fc2.weight')), param(state, 'fc2.bias'));
    return { z1, logits };
  });
}

const bare: Architecture<PairMlpConfig> = {
  name: 'pair-mlp-bare',
  defaultConfig: { hidden: 8 },
  parseConfig(raw) {
    const r = configRecord(raw, 'pair-mlp', ['hidden']);
    return { hidden: positiveIntField(r, 'hidden', 8, 'pair-mlp') };
  },
  spec: pairSpec,
  init(config, seed) {
    const random = createRandom(seed);
    const h = config.hidden;
    return {
      params: new Map<string, tf.Tensor>([
        ['fc1.weight', tf.tensor2d(uniformArray(2 * h, -1, 1, random), [2, h])],
        ['fc1.bias', tf.tensor1d(uniformArray(h, -0.1, 0.1, random))],
        ['fc2.weight', tf.tensor2d(uniformArray(2 * h, -1, 1, random), [h, 2])],
        ['fc2.bias', tf.zeros([2])],
      ]),
      buffers: new Map(),
    };
  },
  apply(_config, state, x) {
    const { z1, logits } = forward(state, x);
    z1.dispose();
    return { logits, batchStats: new Map() };
  },
};

/** The same model with every optional capability, as a user would register it. */
const pairMlp: Architecture<PairMlpConfig> = {
  ...bare,
  name: 'pair-mlp',
  permutationSpec: (spec) => ({
    groups: [
      {
        name: 'fc1',
        size: spec.params[1]?.shape[0] as number,
        axes: [
          { tensor: 'fc1.weight', axis: 1 },
          { tensor: 'fc1.bias', axis: 0 },
          { tensor: 'fc2.weight', axis: 0 },
        ],
      },
    ],
  }),
  activations: {
    hidden: [{ name: 'fc1', weight: 'fc1.weight', bias: 'fc1.bias' }],
    preActivations(state, x) {
      const { z1, logits } = forward(state, x);
      return { hidden: new Map([['fc1', z1]]), logits };
    },
  },
  llpfStages: { defaultStageTicks: 3, stageOf: (group) => (group === 'fc2' ? 1 : 0) },
  // In the user's PyTorch code the layers are called `hidden` and `out`.
  pytorch: {
    matches: (names) => names.includes('hidden.weight') && names.includes('out.weight'),
    canonicalName: (name) => name.replace(/^hidden\./, 'fc1.').replace(/^out\./, 'fc2.'),
    nameOf: (name) => name.replace(/^fc1\./, 'hidden.').replace(/^fc2\./, 'out.'),
    inferConfig: (_tensors, shapeOf) => ({ hidden: shapeOf('fc1.weight', 2)[0] }), // canonical names, PyTorch layout
  },
};

// ---------------------------------------------------------------------------------------------
// Plain-JS float64 reference of the same function, for the closed-form checks.
// ---------------------------------------------------------------------------------------------

interface Arrays {
  readonly w1: number[];
  readonly b1: number[];
  readonly w2: number[];
  readonly b2: number[];
}

function arraysOf(state: ModelState): Arrays {
  const read = (name: string) => Array.from(param(state, name).dataSync());
  return { w1: read('fc1.weight'), b1: read('fc1.bias'), w2: read('fc2.weight'), b2: read('fc2.bias') };
}

const lerp = (a: readonly number[], b: readonly number[], t: number) => a.map((v, i) => (1 - t) * v + t * (b[i] as number));

/** Mean cross-entropy of the MLP with weights `p` on points `xs` (pairs) with labels `ys`. */
function referenceLoss(p: Arrays, xs: readonly number[], ys: readonly number[]): number {
  const h = p.b1.length;
  let sum = 0;
  for (let n = 0; n < ys.length; n++) {
    const z = [0, 1].map((k) => {
      let out = p.b2[k] as number;
      for (let j = 0; j < h; j++) {
        const pre = (xs[2 * n] as number) * (p.w1[j] as number) + (xs[2 * n + 1] as number) * (p.w1[h + j] as number) + (p.b1[j] as number);
        out += Math.max(0, pre) * (p.w2[j * 2 + k] as number);
      }
      return out;
    });
    const m = Math.max(...z);
    const logSum = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    sum += logSum - (z[ys[n] as number] as number);
  }
  return sum / ys.length;
}

// ---------------------------------------------------------------------------------------------

const config: PairMlpConfig = { hidden: 8 };
let xs: number[];
let ys: number[];
let x: tf.Tensor4D;
let y: tf.Tensor1D;
let a: Model;
let b: Model;
let dir: string;

beforeAll(async () => {
  await useTestBackend();
  registerArchitecture(pairMlp);
  registerArchitecture(bare);
  // XOR-like labels on 64 points of [−1, 1]²: label 1 when x₁·x₂ > 0.
  const random = createRandom(11);
  xs = Array.from(uniformArray(128, -1, 1, random));
  ys = Array.from({ length: 64 }, (_, n) => ((xs[2 * n] as number) * (xs[2 * n + 1] as number) > 0 ? 1 : 0));
  x = tf.tensor4d(xs, [64, 1, 1, 2]);
  y = tf.tensor1d(ys);
  a = createModel('pair-mlp', config, 1);
  b = createModel('pair-mlp', config, 2);
  dir = await mkdtemp(join(tmpdir(), 'modeconn-user-arch-'));
});

afterAll(async () => {
  disposeTensors(a, b);
  tf.dispose([x, y]);
  await rm(dir, { recursive: true, force: true });
});

describe('a user-registered architecture', () => {
  it('is found by name once registered, and createModel builds it with its own config rules', () => {
    expect(listArchitectures().filter((n) => !isBuiltInArchitecture(n))).toEqual(['pair-mlp', 'pair-mlp-bare']);
    expect(listArchitectures().slice(0, 3)).toEqual(['lenet5', 'resnet18', 'cct']);
    expect(getArchitecture('pair-mlp')).toBe(pairMlp);
    expect(a.architecture).toBe('pair-mlp');
    expect(() => createModel('pair-mlp', { hidden: 0 }, 1)).toThrow(/pair-mlp config: hidden must be a positive integer, found 0/);
  });

  it('linear barrier: evaluatePath finds it by name and matches the float64 closed form at every t', async () => {
    const path = linearPath(a, b);
    const ts = [0, 0.25, 0.5, 0.75, 1];
    const rows = await evaluatePath(path, { train: [{ x, y }], bnBatches: [] }, { ts });
    path.dispose();
    const pa = arraysOf(a);
    const pb = arraysOf(b);
    const expected = ts.map((t) => referenceLoss({ w1: lerp(pa.w1, pb.w1, t), b1: lerp(pa.b1, pb.b1, t), w2: lerp(pa.w2, pb.w2, t), b2: lerp(pa.b2, pb.b2, t) }, xs, ys));
    expect(rows.map((r) => r.t)).toEqual(ts);
    rows.forEach((r, i) => expect(r.loss).toBeCloseTo(expected[i] as number, 5));
    // The barrier: the highest loss above the straight line between the endpoint losses.
    const barrier = Math.max(...ts.map((t, i) => (expected[i] as number) - ((1 - t) * (expected[0] as number) + t * (expected.at(-1) as number))));
    const metrics = barrierMetrics(rows).find((m) => m.split === 'train');
    expect(metrics?.lossBarrier).toBeCloseTo(barrier, 5);
  });

  it('Bezier curve: a few training steps keep the endpoints and lower the loss of the middle of the curve', async () => {
    const curve = createCurve(a, b, { kind: 'bezier', bends: 3 });
    const data = { train: [{ x, y }], bnBatches: [] };
    const before = await evaluatePath(curvePath(curve), data, { ts: [0.5] });
    const source = tensorBatchSource(x, y, { batchSize: 64, seed: 1 });
    const trained = await trainCurve(pairMlp, curve, source, { epochs: 30, lr: 0.05, weightDecay: 0 });
    const path = curvePath(trained.curve);
    const after = await evaluatePath(path, data, { ts: [0, 0.5, 1] });
    const [l0, lMid, l1] = after.map((r) => r.loss);
    expect(l0).toBeCloseTo(referenceLoss(arraysOf(a), xs, ys), 5);
    expect(l1).toBeCloseTo(referenceLoss(arraysOf(b), xs, ys), 5);
    expect(lMid).toBeLessThan(before[0]?.loss as number);
    disposeCurve(trained.curve);
    if (trained.curve !== curve) disposeCurve(curve);
  });

  it('AutoNEB (tiny): the chain runs from A to B and its path is evaluated by name', async () => {
    const source = tensorBatchSource(x, y, { batchSize: 32, seed: 3 });
    const result = await connectAutoNeb(pairMlp, a, b, { train: source, evaluation: [{ x, y }] }, { cycles: parseNebCycles('2x5@0.1'), densePoints: 2 });
    expect(result.chain.architecture).toBe('pair-mlp');
    expect(result.chain.pivots.length).toBeGreaterThanOrEqual(2);
    const path = nebPath(result.chain);
    const rows = await evaluatePath(path, { train: [{ x, y }], bnBatches: [] }, { ts: [0, 1] });
    expect(rows[0]?.loss).toBeCloseTo(referenceLoss(arraysOf(a), xs, ys), 5);
    expect(rows[1]?.loss).toBeCloseTo(referenceLoss(arraysOf(b), xs, ys), 5);
    path.dispose();
    disposeNebChain(result.chain);
  });

  it('LLPF (a few ticks): the default schedule is the architecture’s stage order, fc2 still at the start before tick 3', async () => {
    expect([...defaultLlpfSchedule('pair-mlp', pairSpec(config))]).toEqual([['fc1', 0], ['fc2', 3]]);
    expect([...defaultLlpfSchedule('pair-mlp', pairSpec(config), 5)]).toEqual([['fc1', 0], ['fc2', 5]]);
    const run = await runLlpf(pairMlp, config, a, { kind: 'model', state: b }, {}, { ticks: 2, training: false, project: false, recordEvery: 1, stepAdaptive: 0.2 });
    const current = arraysOf(run.current);
    expect(current.w2).toEqual(arraysOf(a).w2);
    expect(current.w1).not.toEqual(arraysOf(a).w1);
    expect(run.architecture).toBe('pair-mlp');
    disposeLlpfRun(run);
    const trained = await runLlpf(pairMlp, config, a, { kind: 'model', state: b }, { train: tensorBatchSource(x, y, { batchSize: 32, seed: 2 }), evaluation: { train: [{ x, y }], bnBatches: [] } }, {
      ticks: 4,
      recordEvery: 2,
      training: { lr: 0.05, maxIterations: 5 },
    });
    expect(trained.points.map((p) => p.tick)).toEqual([0, 2, 4]);
    expect(trained.rows.every((r) => Number.isFinite(r.loss))).toBe(true);
    disposeLlpfRun(trained);
  });

  it('weight and activation matching use its permutation spec and activation hooks, and undo a known permutation', () => {
    const perm = permutation(config.hidden, createRandom(4));
    const spec = permutationSpecFor('pair-mlp', pairSpec(config));
    const shuffled = applyPermutation(a, spec, new Map([['fc1', perm]]));
    const { perms } = weightMatching(a, shuffled, spec, { seed: 1 });
    const aligned = applyPermutation(shuffled, spec, perms);
    expect(arraysOf(aligned)).toEqual(arraysOf(a));
    const byActivations = activationMatching('pair-mlp', a, shuffled, [{ x }]);
    const aligned2 = applyPermutation(shuffled, spec, byActivations);
    expect(arraysOf(aligned2)).toEqual(arraysOf(a));
    disposeTensors(shuffled, aligned, aligned2);
  });

  it('PyTorch import and export use its names; the architecture and config are read from the state dict', async () => {
    const exported = await exportPyTorchStateDict(a);
    expect([...exported.keys()]).toEqual(['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']);
    expect(exported.get('hidden.weight')?.shape).toEqual([8, 2]);
    const asRead = new Map<string, SafetensorsTensor>([...exported].map(([name, t]) => [name, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.data) }]));
    const imported = importPyTorchStateDict(asRead);
    expect(imported.architecture).toBe('pair-mlp');
    expect(imported.config).toEqual(config);
    expect(arraysOf(imported)).toEqual(arraysOf(a));
    disposeTensors(imported);
  });

  it('native checkpoints save and load it, the metadata checked against the registry', async () => {
    const file = join(dir, 'pair.safetensors');
    await saveCheckpoint(file, a, { seed: 1 });
    const loaded = await loadCheckpoint(file);
    expect(loaded.model.architecture).toBe('pair-mlp');
    expect(arraysOf(loaded.model)).toEqual(arraysOf(a));
    disposeTensors(loaded.model);
  });

  it('an architecture without the optional capabilities gets errors that name it and what is missing', async () => {
    const model = createModel('pair-mlp-bare', config, 1);
    expect(() => permutationSpecFor('pair-mlp-bare', pairSpec(config))).toThrow(
      'permutation spec: architecture "pair-mlp-bare" does not define a permutation spec (permutationSpec); weight matching needs one; defined for lenet5, resnet18, vgg, mobilenetv2, mobilenetv2-dfl, efficientnet-b0, dla, shufflenet, shufflenetv2, regnet, pair-mlp',
    );
    expect(() => activationMatching('pair-mlp-bare', model, model, [{ x }])).toThrow(/activationMatching: architecture "pair-mlp-bare" does not define activation hooks \(activations\); defined for lenet5, pair-mlp; use weightMatching/);
    await expect(exportPyTorchStateDict(model)).rejects.toThrow(/export pair-mlp-bare: architecture "pair-mlp-bare" does not define PyTorch names and layouts \(pytorch\); PyTorch state dicts are supported for lenet5, resnet18, cct, .*pair-mlp/);
    expect([...defaultLlpfSchedule('pair-mlp-bare', pairSpec(config), 100).values()]).toEqual([0, 0]);
    // Worker threads can only import an architecture that comes from a module.
    const path = linearPath(a, b);
    await expect(evaluatePath(path, { train: [{ x, y }], bnBatches: [] }, { ts: [0, 1], workers: 2 })).rejects.toThrow(
      /workers: worker threads cannot load the user architecture pair-mlp: it was registered without a module/,
    );
    path.dispose();
    disposeTensors(model);
  });

  it('does not leak tensors across a linear barrier and an LLPF tick', async () => {
    await expectNoLeakedTensors(async () => {
      const path = linearPath(a, b);
      await evaluatePath(path, { train: [{ x, y }], bnBatches: [] }, { ts: [0, 0.5, 1] });
      path.dispose();
      const run = await runLlpf(pairMlp, config, a, { kind: 'model', state: b }, {}, { ticks: 1, training: false, project: false });
      disposeLlpfRun(run);
    });
  });
});
