/**
 * Checks shared by the tests of the CIFAR model families (ShuffleNetV2, RegNet): gradients on the
 * test backend against cpu, leak-free train steps, permutation invariance, LLPF stage order, and
 * PyTorch fixtures (scripts/fixtures/make-<family>-fixtures.py) reproduced through our importer.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { applyPermutation } from '../src/align/permutation-spec.js';
import { exportPyTorchStateDict, importPyTorchStateDict } from '../src/checkpoint/pytorch.js';
import { readSafetensors, type SafetensorsTensor } from '../src/checkpoint/safetensors.js';
import { layerStages } from '../src/models/layer-stage.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { Architecture, ModelState } from '../src/models/types.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { lossAndGradients, trainStep } from '../src/train/step.js';
import { createRandom, normalArray, permutation, uniformArray } from '../src/util/random.js';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from './helpers.js';

export const fixturePath = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** The same state with running statistics drawn at random, so evaluation mode is not trivial. */
export function withRandomBuffers(state: ModelState, seed: number): ModelState {
  const random = createRandom(seed);
  const buffers = new Map<string, tf.Tensor>();
  for (const [name, t] of state.buffers) {
    const values = name.endsWith('running_mean') ? normalArray(t.size, 0, 0.2, random) : uniformArray(t.size, 0.5, 1.5, random);
    buffers.set(name, tf.tensor(values, t.shape));
  }
  return { params: state.params, buffers };
}

function randomBatch(shape: readonly number[], n: number, classes: number, seed: number) {
  const [h, w, c] = shape as [number, number, number];
  const random = createRandom(seed);
  const x = normalArray(n * h * w * c, 0, 1, random);
  const y = Int32Array.from({ length: n }, () => random.int(classes));
  return { x, y, shape: [n, h, w, c] as [number, number, number, number] };
}

/**
 * Largest error over all parameters of the training-mode gradients on the test backend against cpu,
 * each relative to the largest |gradient| of its tensor (gradients are small numbers). Tensors whose
 * gradient is zero in exact arithmetic (`zeroGradient`: e.g. the shift β of a BatchNorm followed by
 * a linear conv and another BatchNorm, which removes any per-channel shift) are checked to be
 * rounding noise (< 1e-5 of the model's largest gradient) on both backends instead.
 */
export async function gradientErrorAgainstCpu<C>(arch: Architecture<C>, config: C, n: number, seed: number, zeroGradient: (name: string) => boolean = () => false): Promise<number> {
  return (await gradientErrors(arch, config, n, seed, { zeroGradient })).backend;
}

export interface GradientErrorOptions {
  /** Tensors whose gradient is zero in exact arithmetic (see gradientErrorAgainstCpu). */
  readonly zeroGradient?: (name: string) => boolean;
  /** Also measure cpu's own sensitivity: its gradient at inputs scaled by 1 + ε·sin(i). */
  readonly perturbation?: number;
}

/**
 * `backend`: gradientErrorAgainstCpu's error; `sensitivity`: the same error of cpu's gradient at the
 * inputs perturbed by `options.perturbation` (relative) against cpu's own, 0 when not asked for.
 */
export async function gradientErrors<C>(arch: Architecture<C>, config: C, n: number, seed: number, options: GradientErrorOptions = {}): Promise<{ backend: number; sensitivity: number }> {
  const zeroGradient = options.zeroGradient ?? (() => false);
  const spec = arch.spec(config);
  const state = arch.init(config, seed);
  // BatchNorm γ, β drawn at random: at γ = 1, β = 0 many gradients nearly cancel.
  const random = createRandom(seed + 2);
  const kinds = new Map(spec.params.map((p) => [p.name, p.kind]));
  const values = (name: string, t: tf.Tensor): Float32Array => {
    const kind = kinds.get(name);
    if (kind === 'norm-scale') return uniformArray(t.size, 0.5, 1.5, random);
    if (kind === 'norm-shift') return normalArray(t.size, 0, 0.2, random);
    return t.dataSync().slice() as Float32Array;
  };
  const plain = new Map([...state.params].map(([k, t]) => [k, { shape: t.shape, values: values(k, t) }]));
  disposeTensors(state);
  const batch = randomBatch(spec.inputShape, n, spec.classes, seed + 1);
  const run = (eps = 0) => () => {
    const params = new Map([...plain].map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));
    const x = tf.tensor4d(eps === 0 ? batch.x : batch.x.map((v, i) => v * (1 + eps * Math.sin(i))), batch.shape);
    const y = tf.tensor1d(batch.y, 'int32');
    const lg = lossAndGradients(arch, config, { params, buffers: new Map() }, { x, y });
    const grads = new Map([...lg.grads].map(([k, g]) => [k, g.dataSync().slice()]));
    tf.dispose([x, y, lg.loss, lg.correct, ...lg.grads.values(), ...lg.batchStats.values(), ...params.values()]);
    return grads;
  };
  const got = run()();
  const expected = await onBackend('cpu', run());
  const perturbed = options.perturbation === undefined ? undefined : await onBackend('cpu', run(options.perturbation));
  await useTestBackend();
  let worst = 0;
  let sensitivity = 0;
  const globalScale = Math.max(...[...expected.values()].map((v) => Math.max(...v.map(Math.abs))));
  for (const [name, values] of expected) {
    const g = got.get(name);
    expect(g, name).toBeDefined();
    if (zeroGradient(name)) {
      // Zero in exact arithmetic: both backends give rounding noise, far below the model's gradients.
      for (const v of [values, g as Float32Array]) expect(Math.max(...v.map(Math.abs)) / globalScale, `structurally zero gradient of ${name}`).toBeLessThan(1e-5);
      continue;
    }
    const scale = Math.max(...values.map(Math.abs));
    if (scale === 0) {
      // A dead unit (ReLU off on the whole batch, e.g. an SE layer of 2 units): zero on both backends.
      expect(Math.max(...(g as Float32Array).map(Math.abs)), `gradient of ${name}`).toBe(0);
      continue;
    }
    worst = Math.max(worst, maxRelativeError((g as Float32Array).map((v) => v / scale), values.map((v) => v / scale)));
    const p = perturbed?.get(name);
    if (p !== undefined) sensitivity = Math.max(sensitivity, maxRelativeError(p.map((v) => v / scale), values.map((v) => v / scale)));
  }
  return { backend: worst, sensitivity };
}

/** Repeated SGD train steps keep the number of live tensors flat. */
export async function expectLeakFreeTrainSteps<C>(arch: Architecture<C>, config: C, n: number): Promise<void> {
  const spec = arch.spec(config);
  let state = arch.init(config, 5);
  const batch = randomBatch(spec.inputShape, n, spec.classes, 6);
  const x = tf.tensor4d(batch.x, batch.shape);
  const y = tf.tensor1d(batch.y, 'int32');
  const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
  await expectNoLeakedTensors(() => {
    const result = trainStep(arch, config, state, { x, y }, optimizer, 0.05);
    tf.dispose([result.loss, result.correct]);
    disposeTensors(state);
    state = result.state;
  });
  optimizer.dispose();
  disposeTensors(state);
  tf.dispose([x, y]);
}

/**
 * Permuting a model by a random permutation of every group of its spec leaves its evaluation and
 * training logits unchanged; returns the largest relative error and checks the weights moved.
 */
export function permutationError<C>(arch: Architecture<C>, config: C, n: number, seed: number): number {
  if (arch.permutationSpec === undefined) throw new Error(`${arch.name} has no permutation spec`);
  const spec = arch.spec(config);
  const fresh = arch.init(config, seed);
  const state = withRandomBuffers(fresh, seed + 1);
  const pspec = arch.permutationSpec(spec);
  const random = createRandom(seed + 2);
  const perms = new Map(pspec.groups.map((g) => [g.name, permutation(g.size, random)]));
  const permuted = applyPermutation(state, pspec, perms);
  const moved = [...state.params].filter(([k, t]) => tf.tidy(() => tf.max(tf.abs(tf.sub(t, permuted.params.get(k) as tf.Tensor))).dataSync()[0] as number) > 0).length;
  expect(moved, 'tensors changed by the permutation').toBeGreaterThanOrEqual(pspec.groups.length);
  const batch = randomBatch(spec.inputShape, n, spec.classes, seed + 3);
  const x = tf.tensor4d(batch.x, batch.shape);
  let worst = 0;
  for (const training of [false, true]) {
    const a = arch.apply(config, state, x, { training });
    const b = arch.apply(config, permuted, x, { training });
    worst = Math.max(worst, maxRelativeError(b.logits.dataSync(), a.logits.dataSync()));
    disposeTensors(a.batchStats, b.batchStats);
    tf.dispose([a.logits, b.logits]);
  }
  disposeTensors(fresh, permuted);
  disposeTensors(state.buffers);
  x.dispose();
  return worst;
}

/** Every layer group has an LLPF stage, stages never decrease input → output, the first is 0, and blocks are contiguous. */
export function expectStagesInOrder<C>(arch: Architecture<C>, config: C): number[] {
  const spec = arch.spec(config);
  const llpf = arch.llpfStages;
  expect(llpf).toBeDefined();
  const stages = spec.layers.map((l) => (llpf as NonNullable<typeof llpf>).stageOf(l.name));
  for (let i = 1; i < stages.length; i++) expect(stages[i], spec.layers[i]?.name).toBeGreaterThanOrEqual(stages[i - 1] as number);
  expect(stages[0]).toBe(0);
  // Throws when the groups of a block are not contiguous.
  expect(layerStages(arch, spec).length).toBeGreaterThan(1);
  return stages;
}

/** One PyTorch fixture: its config, PyTorch's logits in both modes, the batch statistics of some BNs. */
export interface FamilyFixture {
  readonly config: Readonly<Record<string, unknown>>;
  readonly paramCount: number;
  readonly evalLogits: number[][];
  readonly trainLogits: number[][];
  readonly batchStats: Readonly<Record<string, { readonly mean: number[]; readonly var: number[] }>>;
}

export async function readJson<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(fixturePath(name), 'utf8')) as T;
}

/**
 * Imports `file` (architecture and config detected from the names and shapes), runs PyTorch's
 * input batch in both modes and returns the largest relative errors of logits and batch
 * statistics; then exports it back and checks the names, shapes and values equal the file's.
 */
export async function checkPyTorchFixture(architecture: string, file: string, inputFile: string, expected: FamilyFixture): Promise<{ eval: number; train: number; stats: number }> {
  const input = (await readSafetensors(fixturePath(inputFile))).tensors.get('x') as SafetensorsTensor;
  const { tensors } = await readSafetensors(fixturePath(file));
  const model = importPyTorchStateDict(tensors);
  expect(model.architecture).toBe(architecture);
  expect(model.config).toEqual(expected.config);
  const arch = (await import('../src/models/registry.js')).getArchitecture(architecture);
  const x = tf.tensor4d(input.data, input.shape as [number, number, number, number]);
  const evalResult = arch.apply(model.config, model, x, { training: false });
  const trainResult = arch.apply(model.config, model, x, { training: true });
  const errors = {
    eval: maxRelativeError(evalResult.logits.dataSync(), expected.evalLogits.flat()),
    train: maxRelativeError(trainResult.logits.dataSync(), expected.trainLogits.flat()),
    stats: 0,
  };
  for (const [bn, stats] of Object.entries(expected.batchStats)) {
    errors.stats = Math.max(errors.stats, maxRelativeError(trainResult.batchStats.get(`${bn}.running_mean`)?.dataSync() ?? [], stats.mean));
    errors.stats = Math.max(errors.stats, maxRelativeError(trainResult.batchStats.get(`${bn}.running_var`)?.dataSync() ?? [], stats.var));
  }
  // Train and eval differ on this batch: the running statistics are not the batch's.
  expect(maxRelativeError(evalResult.logits.dataSync(), trainResult.logits.dataSync())).toBeGreaterThan(1e-3);
  const exported = await exportPyTorchStateDict(model);
  expect([...exported.keys()].sort()).toEqual([...tensors.keys()].sort());
  for (const [name, t] of tensors) {
    const e = exported.get(name);
    expect(e?.shape, name).toEqual(t.shape);
    if (name.endsWith('num_batches_tracked')) continue;
    expect(Array.from(e?.data ?? []), name).toEqual(Array.from(t.data));
  }
  x.dispose();
  disposeTensors(model, evalResult.batchStats, trainResult.batchStats);
  tf.dispose([evalResult.logits, trainResult.logits]);
  return errors;
}
