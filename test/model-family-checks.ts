/**
 * Checks every CNN family of the papers gets (EfficientNet-B0, DLA): a PyTorch fixture reproduced,
 * export back to the file's names and shapes, gradients of the test backend against cpu, no leaks
 * across training steps, logits invariant under the permutation spec, LLPF stages in order. Each
 * returns what it measured; the family's test asserts it.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { applyPermutation, permutationSpecFor, type Permutations } from '../src/align/permutation-spec.js';
import { exportPyTorchStateDict, importPyTorchStateDict } from '../src/checkpoint/pytorch.js';
import { readSafetensors, type SafetensorsTensor } from '../src/checkpoint/safetensors.js';
import { layerStages } from '../src/models/layer-stage.js';
import { getArchitecture } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { Model, ModelState } from '../src/models/types.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { lossAndGradients, trainStep } from '../src/train/step.js';
import { createRandom, permutation } from '../src/util/random.js';
import { expectNoLeakedTensors, maxRelativeError } from './helpers.js';

export const fixturePath = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** What a fixture script records beside a state dict. */
export interface FamilyExpected {
  readonly config: Readonly<Record<string, unknown>>;
  readonly parameterCount: number;
  readonly parameterCountWidth1?: number;
  readonly evalLogits: number[][];
  readonly trainLogits: number[][];
  readonly batchStats: Readonly<Record<string, { readonly mean: number[]; readonly var: number[] }>>;
}

export async function readExpected(name: string): Promise<FamilyExpected> {
  return JSON.parse(await readFile(fixturePath(name), 'utf8')) as FamilyExpected;
}

export async function readInput(name: string): Promise<tf.Tensor4D> {
  const x = (await readSafetensors(fixturePath(name))).tensors.get('x') as SafetensorsTensor;
  return tf.tensor4d(x.data, x.shape as [number, number, number, number]);
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

/** Asserts that repeated SGD steps on the active backend leave the number of live tensors flat. */
export async function expectTrainStepsLeakFree(architecture: string, rawConfig: unknown, batch: number): Promise<void> {
  const arch = getArchitecture(architecture);
  const config = arch.parseConfig(rawConfig);
  const [h, w, c] = arch.spec(config).inputShape;
  let state: ModelState = arch.init(config, 1);
  const data = { x: tf.randomNormal<tf.Rank.R4>([batch, h, w, c], 0, 1, 'float32', 2), y: tf.tensor1d(Array.from({ length: batch }, (_, i) => i % arch.spec(config).classes), 'int32') };
  const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9 });
  await expectNoLeakedTensors(async () => {
    const result = trainStep(arch, config, state, data, optimizer, 0.01);
    await result.loss.data();
    tf.dispose([result.loss, result.correct]);
    disposeTensors(state);
    state = result.state;
  });
  disposeTensors(state);
  optimizer.dispose();
  tf.dispose([data.x, data.y]);
}

/** Random running statistics, so that evaluation mode tests the BN folding. */
export function withRandomBuffers(state: ModelState, seed: number): ModelState {
  const random = createRandom(seed);
  const buffers = new Map([...state.buffers].map(([name, t]) => [name, tf.tensor(Array.from({ length: t.size }, () => (name.endsWith('running_var') ? 0.5 + random.next() : 0.2 * random.normal())), t.shape)]));
  return { params: state.params, buffers };
}

/**
 * Logits before and after permuting a model (random running statistics) by random permutations
 * of every group of its spec, eval and train mode; the worst relative difference, and how many
 * groups there are and how many of the kernels changed.
 */
export function permutedLogitsError(architecture: string, rawConfig: unknown, seed: number, batch = 2): { eval: number; train: number; groups: number; moved: number; kernels: number } {
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
  const spec = arch.spec(arch.parseConfig(rawConfig));
  const stages = arch.llpfStages;
  expect(stages, `${architecture} llpfStages`).toBeDefined();
  return { stages: spec.layers.map((l) => stages!.stageOf(l.name)), blocks: layerStages(arch, spec).map((s) => s.name) };
}

/** Imports a fixture state dict (architecture detected). */
export async function importFixture(name: string, config?: unknown): Promise<{ model: Model; file: ReadonlyMap<string, SafetensorsTensor> }> {
  const { tensors } = await readSafetensors(fixturePath(name));
  return { model: importPyTorchStateDict(tensors, config === undefined ? {} : { config }), file: tensors };
}
