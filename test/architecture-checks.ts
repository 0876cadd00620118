/**
 * Checks every CNN family of the papers runs (src/models/<family>/<family>.test.ts): PyTorch
 * fixtures reproduced, gradients on wasm against cpu, no leaks across train steps, permutation
 * invariance of the logits, LLPF stages in spec order. Each returns numbers for the test to assert
 * on, so a failing check says by how much.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { applyPermutation } from '../src/align/permutation-spec.js';
import { readSafetensors } from '../src/checkpoint/safetensors.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { Architecture, ModelState } from '../src/models/types.js';
import { createRandom, normalArray, permutation, uniformArray } from '../src/util/random.js';
import { onBackend } from './helpers.js';

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
