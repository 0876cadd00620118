/**
 * Checks every CNN family of the papers runs (src/models/<family>/<family>.test.ts): PyTorch
 * fixtures (scripts/fixtures/make-<family>-fixtures.py) reproduced and exported back, gradients on
 * the test backend against cpu, no leaks across train steps, permutation invariance of the logits,
 * LLPF stages in spec order. Most return numbers for the test to assert on, so a failing check
 * says by how much; the `expect…` ones assert themselves.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { applyPermutation, permutationSpecFor, type Permutations } from '../src/align/permutation-spec.js';
import { exportPyTorchStateDict, importPyTorchStateDict } from '../src/checkpoint/pytorch.js';
import { readSafetensors, type SafetensorsTensor } from '../src/checkpoint/safetensors.js';
import { layerStages } from '../src/models/layer-stage.js';
import { countSpecScalars } from '../src/models/model-spec.js';
import { getArchitecture } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { Architecture, Model, ModelState } from '../src/models/types.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { lossAndGradients, trainStep } from '../src/train/step.js';
import { createRandom, normalArray, permutation, uniformArray } from '../src/util/random.js';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from './helpers.js';

export const fixturePath = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A PyTorch fixture's expected numbers (scripts/fixtures/make-<family>-fixtures.py). */
export interface PyTorchExpected {
  readonly config: Readonly<Record<string, unknown>>;
  readonly evalLogits: number[][];
  readonly trainLogits: number[][];
  readonly batchStats: Readonly<Record<string, { readonly mean: number[]; readonly var: number[] }>>;
  readonly parameterCountWidth1: number;
  readonly bufferCountWidth1: number;
}

export async function readJson<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(fixturePath(name), 'utf8')) as T;
}

/** The NHWC input batch `x` of a fixture file. */
export async function readInput(name: string): Promise<tf.Tensor4D> {
  const t = (await readSafetensors(fixturePath(name))).tensors.get('x');
  if (t === undefined) throw new Error(`${name}: no tensor "x"`);
  return tf.tensor4d(t.data, t.shape as [number, number, number, number]);
}

/** Max |a − b| / max |b|: the error relative to the largest expected value. */
export function relativeToMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return scale === 0 ? diff : diff / scale;
}

/**
 * The worst batch-statistics error against PyTorch's: per BN, the mean's error in units of the
 * largest standard deviation (a BN fed by a zero-mean stream has means of 1e-8, whose relative
 * error is noise) and the variance's error relative to its largest entry.
 */
export function batchStatsError(got: ReadonlyMap<string, ArrayLike<number>>, expected: PyTorchExpected['batchStats']): number {
  let worst = 0;
  for (const [bn, s] of Object.entries(expected)) {
    const mean = got.get(`${bn}.running_mean`);
    const variance = got.get(`${bn}.running_var`);
    if (mean === undefined || variance === undefined || mean.length !== s.mean.length) return Infinity;
    const std = Math.sqrt(Math.max(...s.var));
    let meanErr = 0;
    for (let i = 0; i < s.mean.length; i++) meanErr = Math.max(meanErr, Math.abs((mean[i] as number) - (s.mean[i] as number)));
    worst = Math.max(worst, meanErr / std, relativeToMax(variance, s.var));
  }
  return worst;
}

/** Logits of a model on x in both modes, and train-mode batch statistics, as plain arrays. */
export function runBothModes<C>(arch: Architecture<C>, config: C, state: ModelState, x: tf.Tensor4D): { eval: Float32Array; train: Float32Array; stats: Map<string, Float32Array> } {
  const e = arch.apply(config, state, x, { training: false });
  const t = arch.apply(config, state, x, { training: true });
  const out = { eval: e.logits.dataSync() as Float32Array, train: t.logits.dataSync() as Float32Array, stats: new Map([...t.batchStats].map(([n, v]) => [n, v.dataSync() as Float32Array])) };
  tf.dispose([e.logits, t.logits]);
  disposeTensors(e.batchStats, t.batchStats);
  return out;
}

/**
 * The state with BN affine parameters drawn at random (γ ~ U(0.5, 1.5), β ~ N(0, 0.1²)), as after
 * training. At init (β = 0) a BN followed by ReLU and a per-channel op (a depthwise conv) into
 * another training-mode BN has a γ gradient of exactly 0, rounding noise on any backend.
 */
export function withRandomAffine<C>(arch: Architecture<C>, config: C, state: ModelState, seed: number): ModelState {
  const random = createRandom(seed);
  const kinds = new Map(arch.spec(config).params.map((p) => [p.name, p.kind]));
  const params = new Map<string, tf.Tensor>();
  for (const [name, t] of state.params) {
    const kind = kinds.get(name);
    if (kind === 'norm-scale') params.set(name, tf.tensor(uniformArray(t.size, 0.5, 1.5, random), t.shape));
    else if (kind === 'norm-shift') params.set(name, tf.tensor(normalArray(t.size, 0, 0.1, random), t.shape));
    else params.set(name, t.clone());
  }
  return { params, buffers: new Map([...state.buffers].map(([n, t]) => [n, t.clone()])) };
}

/** Training-mode gradients of the cross-entropy loss for every parameter, on the active backend. */
function lossGradients<C>(arch: Architecture<C>, config: C, state: ModelState, x: tf.Tensor4D, labels: tf.Tensor2D): Map<string, Float32Array> {
  const names = [...state.params.keys()];
  const grads = tf.grads((...ps: tf.Tensor[]) => {
    const params = new Map(names.map((n, i) => [n, ps[i] as tf.Tensor]));
    const r = arch.apply(config, { params, buffers: state.buffers }, x, { training: true });
    disposeTensors(r.batchStats);
    return tf.losses.softmaxCrossEntropy(labels, r.logits);
  })(names.map((n) => state.params.get(n) as tf.Tensor));
  const out = new Map(names.map((n, i) => [n, (grads[i] as tf.Tensor).dataSync() as Float32Array]));
  tf.dispose(grads);
  return out;
}

/**
 * Gradients on wasm and on cpu: per parameter the error relative to the largest cpu entry (`errors`),
 * the largest |cpu entry| (`scale`), and the worst error over the parameters `compared` selects
 * (default all). Leaves the wasm backend active.
 */
export async function compareGradients<C>(
  arch: Architecture<C>,
  config: C,
  state: ModelState,
  x: tf.Tensor4D,
  labels: tf.Tensor2D,
  compared: (name: string) => boolean = () => true,
): Promise<{ worst: number; worstName: string; errors: Map<string, number>; scale: Map<string, number> }> {
  const cpu = await onBackend('cpu', () => lossGradients(arch, config, state, x, labels));
  const wasm = await onBackend('wasm', () => lossGradients(arch, config, state, x, labels));
  let worst = 0;
  let worstName = '';
  const errors = new Map<string, number>();
  const scale = new Map<string, number>();
  for (const [name, expected] of cpu) {
    const err = relativeToMax(wasm.get(name) ?? [], expected);
    errors.set(name, err);
    scale.set(name, expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    if (compared(name) && err > worst) [worst, worstName] = [err, name];
  }
  return { worst, worstName, errors, scale };
}

/** Logits before and after permuting the model by random permutations of every group: max |Δ| / max |logit|. */
export function permutedLogitsError<C>(arch: Architecture<C>, config: C, state: ModelState, x: tf.Tensor4D, seed: number): { error: number; groups: number; moved: number } {
  if (arch.permutationSpec === undefined) throw new Error(`${arch.name} has no permutation spec`);
  const spec = arch.permutationSpec(arch.spec(config));
  const random = createRandom(seed);
  // Redrawn until it moves something: small groups (2 units at tiny widths) are often the identity.
  const draw = (size: number): Int32Array => {
    for (;;) {
      const p = permutation(size, random);
      if (size < 2 || p.some((v, i) => v !== i)) return p;
    }
  };
  const perms = new Map(spec.groups.map((g) => [g.name, draw(g.size)]));
  const permuted = applyPermutation(state, spec, perms);
  let moved = 0;
  for (const [name, t] of state.params) {
    const a = t.dataSync();
    const b = (permuted.params.get(name) as tf.Tensor).dataSync();
    if (a.some((v, i) => v !== b[i])) moved += 1;
  }
  const before = runBothModes(arch, config, state, x);
  const after = runBothModes(arch, config, permuted, x);
  disposeTensors(permuted);
  return { error: Math.max(relativeToMax(after.eval, before.eval), relativeToMax(after.train, before.train)), groups: spec.groups.length, moved };
}

/** The LLPF stage of every layer group, in spec order. */
export function llpfStageList<C>(arch: Architecture<C>, config: C): { group: string; stage: number }[] {
  const stages = arch.llpfStages;
  if (stages === undefined) throw new Error(`${arch.name} has no llpfStages`);
  return arch.spec(config).layers.map((l) => ({ group: l.name, stage: stages.stageOf(l.name) }));
}

/** Whether stages start at 0, never decrease along the spec and skip no number. */
export function stagesAreOrdered(list: readonly { stage: number }[]): boolean {
  return list[0]?.stage === 0 && list.every((s, i) => i === 0 || s.stage === (list[i - 1] as { stage: number }).stage || s.stage === (list[i - 1] as { stage: number }).stage + 1);
}


/** What a fixture script records beside a state dict. */
export interface FamilyExpected {
  readonly config: Readonly<Record<string, unknown>>;
  readonly parameterCount: number;
  readonly parameterCountWidth1?: number;
  readonly evalLogits: number[][];
  readonly trainLogits: number[][];
  readonly batchStats: Readonly<Record<string, { readonly mean: number[]; readonly var: number[] }>>;
}

/** Max relative errors of our eval/train logits and batch statistics against PyTorch's. */
export function fixtureErrors(model: Model, x: tf.Tensor4D, expected: FamilyExpected, trainConfig: unknown): { eval: number; train: number; stats: number; trainEvalGap: number } {
  const arch = getArchitecture(model.architecture);
  const evalOut = arch.apply(model.config, model, x, { training: false });
  const trainOut = arch.apply(trainConfig, model, x, { training: true });
  const evalLogits = evalOut.logits.dataSync();
  const trainLogits = trainOut.logits.dataSync();
  let stats = 0;
  for (const [bn, s] of Object.entries(expected.batchStats)) {
    const mean = trainOut.batchStats.get(`${bn}.running_mean`);
    const variance = trainOut.batchStats.get(`${bn}.running_var`);
    expect(mean, `batch statistic of ${bn}`).toBeDefined();
    stats = Math.max(stats, maxRelativeError(mean!.dataSync(), s.mean), maxRelativeError(variance!.dataSync(), s.var));
  }
  let gap = 0;
  evalLogits.forEach((v, i) => (gap = Math.max(gap, Math.abs(v - (trainLogits[i] as number)))));
  const out = { eval: maxRelativeError(evalLogits, expected.evalLogits.flat()), train: maxRelativeError(trainLogits, expected.trainLogits.flat()), stats, trainEvalGap: gap };
  tf.dispose([evalOut.logits, trainOut.logits]);
  disposeTensors(evalOut.batchStats, trainOut.batchStats);
  return out;
}

/** Exports `model` and compares with the file it came from: the names missing or extra, and the first tensor that differs. */
export async function exportMismatches(model: Model, file: ReadonlyMap<string, SafetensorsTensor>, naming?: string): Promise<{ missing: string[]; extra: string[]; differing: string[] }> {
  const exported = await exportPyTorchStateDict(model, naming === undefined ? {} : { naming });
  const names = [...file.keys()].map((n) => n.replace(/^module\./, ''));
  const missing = names.filter((n) => !exported.has(n));
  const extra = [...exported.keys()].filter((n) => !names.includes(n));
  const differing: string[] = [];
  for (const [name, t] of file) {
    const e = exported.get(name.replace(/^module\./, ''));
    if (e === undefined) continue;
    const sameShape = e.shape.length === t.shape.length && e.shape.every((d, i) => d === t.shape[i]);
    const sameData = name.endsWith('num_batches_tracked') || (e.data.length === t.data.length && Array.from(t.data).every((v, i) => Object.is(v, e.data[i])));
    if (!sameShape || !sameData) differing.push(name);
  }
  return { missing, extra, differing };
}

/** Every parameter's gradient (training mode, cross-entropy) on `backend`, from the same values. */
async function gradientsOn(backend: string, architecture: string, config: unknown, values: Map<string, { shape: number[]; data: Float32Array }>, x: Float32Array, shape: [number, number, number, number], labels: Int32Array): Promise<Map<string, Float32Array>> {
  await tf.setBackend(backend);
  const arch = getArchitecture(architecture);
  const params = new Map([...values].map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
  const spec = arch.spec(config);
  const buffers = new Map(spec.buffers.map((b) => [b.name, tf.zeros(b.shape as number[])]));
  const batch = { x: tf.tensor4d(x, shape), y: tf.tensor1d(labels, 'int32') };
  const lg = lossAndGradients(arch, config, { params, buffers }, batch);
  const out = new Map([...lg.grads].map(([k, g]) => [k, Float32Array.from(g.dataSync())]));
  tf.dispose([lg.loss, lg.correct, batch.x, batch.y, ...lg.grads.values(), ...lg.batchStats.values()]);
  disposeTensors(params, buffers);
  return out;
}

/**
 * Gradients of every parameter on `backend` and on cpu from the same init and batch; the worst
 * error relative to each tensor's largest cpu gradient (at least 1e-3, as in
 * test/backend-comparison.test.ts: a BN shift followed by a conv and another BN has a gradient that
 * is zero up to rounding), and the parameters whose cpu gradient is exactly zero.
 */
export async function gradientsAgainstCpu(backend: string, architecture: string, rawConfig: unknown, batch: number, seed: number): Promise<{ worst: number; worstName: string; zero: string[]; global: number }> {
  const arch = getArchitecture(architecture);
  const config = arch.parseConfig(rawConfig);
  const [h, w, c] = arch.spec(config).inputShape;
  await tf.setBackend('cpu');
  const init = arch.init(config, seed);
  const values = new Map([...init.params].map(([k, t]) => [k, { shape: t.shape, data: t.dataSync().slice() as Float32Array }]));
  disposeTensors(init);
  const random = createRandom(seed + 1);
  const x = Float32Array.from({ length: batch * h * w * c }, () => random.normal());
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 3) % arch.spec(config).classes);
  const shape: [number, number, number, number] = [batch, h, w, c];
  const cpu = await gradientsOn('cpu', architecture, config, values, x, shape, labels);
  const other = await gradientsOn(backend, architecture, config, values, x, shape, labels);
  let worst = 0;
  let worstName = '';
  const zero: string[] = [];
  let largest = 0;
  let largestError = 0;
  for (const [name, g] of cpu) {
    const o = other.get(name) ?? new Float32Array(g.length);
    g.forEach((v, i) => {
      largest = Math.max(largest, Math.abs(v));
      largestError = Math.max(largestError, Math.abs(v - (o[i] as number)));
    });
    const scale = Math.max(...Array.from(g, Math.abs));
    if (scale === 0) zero.push(name);
    const e = maxRelativeError(Array.from(other.get(name) ?? [], (v) => v / Math.max(scale, 1e-3)), Array.from(g, (v) => v / Math.max(scale, 1e-3)));
    if (e > worst) [worst, worstName] = [e, name];
  }
  return { worst, worstName, zero, global: largestError / largest };
}

/**
 * Logits before and after permuting a model (random running statistics) by random permutations
 * of every group of its spec, eval and train mode; the worst relative difference, and how many
 * groups there are and how many of the kernels changed.
 */
export function permutedFreshLogitsError(architecture: string, rawConfig: unknown, seed: number, batch = 2): { eval: number; train: number; groups: number; moved: number; kernels: number } {
  const arch = getArchitecture(architecture);
  const config = arch.parseConfig(rawConfig);
  const spec = arch.spec(config);
  const fresh = arch.init(config, seed);
  const state = withRandomBuffers(fresh, seed + 1);
  const perm = permutationSpecFor(arch, spec);
  const random = createRandom(seed + 2);
  const perms: Permutations = new Map(perm.groups.map((g) => [g.name, permutation(g.size, random)]));
  const permuted = applyPermutation(state, perm, perms);
  const [h, w, c] = spec.inputShape;
  const x = tf.randomNormal<tf.Rank.R4>([batch, h, w, c], 0, 1, 'float32', seed + 3);
  const errors = { eval: 0, train: 0 };
  for (const training of [false, true]) {
    const a = arch.apply(config, state, x, { training });
    const b = arch.apply(config, permuted, x, { training });
    errors[training ? 'train' : 'eval'] = maxRelativeError(b.logits.dataSync(), a.logits.dataSync());
    tf.dispose([a.logits, b.logits]);
    disposeTensors(a.batchStats, b.batchStats);
  }
  // How many kernels the permutation changed (BN parameters start at 1 and 0, permuting them changes
  // nothing): a spec that permutes nothing would pass trivially.
  let moved = 0;
  const kernels = spec.params.filter((p) => p.kind === 'weight');
  for (const { name } of kernels) {
    const t = state.params.get(name);
    const p = permuted.params.get(name);
    if (t !== undefined && p !== undefined && tf.tidy(() => tf.max(tf.abs(tf.sub(p, t))).dataSync()[0] as number) > 0) moved += 1;
  }
  disposeTensors(fresh, state.buffers, permuted);
  x.dispose();
  return { ...errors, groups: perm.groups.length, moved, kernels: kernels.length };
}

/** The LLPF stage of every layer group in spec order, and the stages of `layerStages`. */
export function llpfStageOrder(architecture: string, rawConfig: unknown): { stages: number[]; blocks: string[] } {
  const arch = getArchitecture(architecture);
  const config = arch.parseConfig(rawConfig);
  return { stages: llpfStageList(arch, config).map((s) => s.stage), blocks: layerStages(arch, arch.spec(config)).map((s) => s.name) };
}

/** Imports a fixture state dict (architecture detected). */
export async function importFixture(name: string, config?: unknown): Promise<{ model: Model; file: ReadonlyMap<string, SafetensorsTensor> }> {
  const { tensors } = await readSafetensors(fixturePath(name));
  return { model: importPyTorchStateDict(tensors, config === undefined ? {} : { config }), file: tensors };
}


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
  const stages = llpfStageList(arch, config).map((s) => s.stage);
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
  const arch = getArchitecture(architecture);
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

/**
 * `checkPyTorchFixture` with the family tests' bounds: eval and train logits and batch statistics
 * within 1e-4 (relative), the errors annotated, and the spec's parameter count PyTorch's.
 */
export async function expectPyTorchFixtureReproduced(
  arch: Architecture<unknown>,
  file: string,
  inputFile: string,
  fixture: FamilyFixture,
  annotate: (message: string) => Promise<unknown>,
): Promise<void> {
  const errors = await checkPyTorchFixture(arch.name, `${file}.safetensors`, inputFile, fixture);
  await annotate(`${file}: max rel error eval ${errors.eval.toExponential(2)}, train ${errors.train.toExponential(2)}, batch stats ${errors.stats.toExponential(2)}`);
  expect(errors.eval).toBeLessThan(1e-4);
  expect(errors.train).toBeLessThan(1e-4);
  expect(errors.stats).toBeLessThan(1e-4);
  expect(countSpecScalars(arch.spec(arch.parseConfig(fixture.config)).params)).toBe(fixture.paramCount);
}

/** Repeated SGD train steps (batch `n`) and evaluations of a 2-image [2, size, size, C] batch leak no tensors. */
export async function expectLeakFreeTrainingAndEvaluation<C>(arch: Architecture<C>, config: C, n: number): Promise<void> {
  await expectLeakFreeTrainSteps(arch, config, n);
  const state = arch.init(config, 1);
  const x = tf.randomNormal<tf.Rank.R4>([2, ...arch.spec(config).inputShape] as [number, number, number, number], 0, 1, 'float32', 1);
  await expectNoLeakedTensors(() => {
    const r = arch.apply(config, state, x, { training: false });
    r.logits.dispose();
  });
  disposeTensors(state);
  x.dispose();
}
