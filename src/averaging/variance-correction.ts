/**
 * Variance-corrected model averaging (Tian, Al-Ars, Kitsak, Hofstee 2024, "Vanishing Variance
 * Problem in Fully Decentralized Neural-Network Systems").
 *
 * Averaging K uncorrelated models of per-tensor variance σ² gives variance σ²/K; a node that keeps
 * weight c on its own model gets σ²·[c² + (1−c)²/K]. The weights leave the variance their
 * initialization chose and training stalls. The correction rescales every averaged tensor around
 * its mean back to a target variance:
 *
 *   avg = c·w_self + (1−c)·(1/K) Σ_k w_k          (plain mean of all models when there is no self)
 *   target = (1/K) Σ_k Var(w_k)                     follow-others (over the K RECEIVED models)
 *          = c·Var(w_self) + (1−c)·(1/K) Σ_k Var(w_k)   conservative
 *          = Var(w_self)                            self
 *   w′ = mean(avg) + (avg − mean(avg))·√((target + ε)/(Var(avg) + ε)),  ε = 1e-4, Var unbiased.
 *
 * Weights, biases and normalization affine parameters are corrected; single-element tensors and
 * BatchNorm running statistics are averaged plainly. Correlated models give a factor ≈ 1 without any
 * threshold. All arithmetic is in float64 on the host, so the factors are deterministic.
 *
 * `projectToVariance` is the same rescaling with given targets; it is LLPF's variance projection.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec, ModelState, TensorKind, TensorMap } from '../models/types.js';
import { assertSameLayout } from '../models/tensor-map.js';

/** The variance ε of the rescaling, as in the paper's code. */
export const VARIANCE_EPSILON = 1e-4;

/** Which variance an averaged tensor is rescaled to (see the file comment). */
export const VARIANCE_CORRECTIONS = ['none', 'follow-others', 'conservative', 'self'] as const;
export type VarianceCorrection = (typeof VARIANCE_CORRECTIONS)[number];

/** Tensor kinds corrected by default: weights, biases and normalization affine parameters. */
export const CORRECTED_KINDS: ReadonlySet<TensorKind> = new Set<TensorKind>(['weight', 'bias', 'norm-scale', 'norm-shift']);

export interface AverageModelsOptions {
  /** Index in `models` of the node's own model; absent: every model counts equally. */
  readonly selfIndex?: number;
  /** Weight c of the own model (default 1/models.length, i.e. the plain mean). Needs `selfIndex`. */
  readonly selfWeight?: number;
  /** Variance correction (default 'none': plain weighted average). */
  readonly correction?: VarianceCorrection;
  /** ε of the rescaling (default 1e-4). */
  readonly epsilon?: number;
  /**
   * Kind of every tensor, e.g. from `tensorKinds(arch.spec(config))`. Default: every parameter is
   * corrected, every buffer averaged plainly.
   */
  readonly kinds?: ReadonlyMap<string, TensorKind>;
  /** Kinds that are corrected (default CORRECTED_KINDS). */
  readonly correctedKinds?: ReadonlySet<TensorKind>;
}

export interface AverageModelsResult {
  /** The averaged (and corrected) model; the caller owns it. */
  readonly state: ModelState;
  /** Rescaling factor √((target + ε)/(Var(avg) + ε)) of every corrected tensor. */
  readonly factors: Map<string, number>;
}

/** name → kind for every parameter and buffer of a spec. */
export function tensorKinds(spec: ModelSpec): Map<string, TensorKind> {
  return new Map([...spec.params, ...spec.buffers].map((t) => [t.name, t.kind]));
}

/** Mean and unbiased variance (n − 1) of an array, in float64. */
export function meanAndVariance(values: ArrayLike<number>): { mean: number; variance: number } {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i] as number;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - mean;
    ss += d * d;
  }
  return { mean, variance: n > 1 ? ss / (n - 1) : 0 };
}

/**
 * Moments of tensors already measured. A tensor's values never change (a tf.Variable's can, so
 * variables are measured every time), so one measurement serves every averaging that reads it: a
 * gossip node's model reaches all its neighbours, and each of them needs its variance.
 */
const MOMENTS = new WeakMap<tf.Tensor, { readonly mean: number; readonly variance: number }>();

/** `meanAndVariance` of a tensor's values (`values`, when the caller has read them already). */
function tensorMoments(tensor: tf.Tensor, values?: ArrayLike<number>): { readonly mean: number; readonly variance: number } {
  if (tensor instanceof tf.Variable) return meanAndVariance(values ?? tensor.dataSync());
  let moments = MOMENTS.get(tensor);
  if (moments === undefined) {
    moments = meanAndVariance(values ?? tensor.dataSync());
    MOMENTS.set(tensor, moments);
  }
  return moments;
}

/**
 * Unbiased variance of every tensor with at least two elements (float64).
 * @example tensorVariances(model.params).get('conv1.weight')
 */
export function tensorVariances(tensors: TensorMap, only?: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, tensor] of tensors) {
    if (tensor.size < 2 || (only !== undefined && !only.has(name))) continue;
    out.set(name, tensorMoments(tensor).variance);
  }
  return out;
}

/** √((target + ε)/(variance + ε)), the rescaling factor. */
export function varianceFactor(variance: number, target: number, epsilon = VARIANCE_EPSILON): number {
  return Math.sqrt((target + epsilon) / (variance + epsilon));
}

/** mean + (x − mean)·factor, with mean and variance of x in float64; returns the factor too. */
function rescaleArray(values: ArrayLike<number>, target: number, epsilon: number): { out: Float32Array; factor: number } {
  const { mean, variance } = meanAndVariance(values);
  const factor = varianceFactor(variance, target, epsilon);
  const out = new Float32Array(values.length);
  if (factor === 1) {
    for (let i = 0; i < values.length; i++) out[i] = values[i] as number;
  } else {
    for (let i = 0; i < values.length; i++) out[i] = mean + ((values[i] as number) - mean) * factor;
  }
  return { out, factor };
}

/**
 * Rescales each tensor named in `targetVariances` around its mean to that variance:
 * W′ = mean(W) + (W − mean(W))·√((v + ε)/(Var(W) + ε)). Other tensors (and single-element ones) are
 * copied. Returns new tensors in the order of `tensors`; inputs are untouched.
 */
export function projectToVariance(
  tensors: TensorMap,
  targetVariances: ReadonlyMap<string, number>,
  epsilon = VARIANCE_EPSILON,
): Map<string, tf.Tensor> {
  for (const [name, v] of targetVariances) {
    if (!tensors.has(name)) throw new Error(`projectToVariance: target variance given for "${name}", which is not in the tensor map`);
    if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`projectToVariance: target variance of "${name}" must be finite and ≥ 0, found ${v}`);
  }
  const out = new Map<string, tf.Tensor>();
  for (const [name, tensor] of tensors) {
    const target = targetVariances.get(name);
    if (target === undefined || tensor.size < 2) {
      out.set(name, tensor.clone());
      continue;
    }
    out.set(name, tf.tensor(rescaleArray(tensor.dataSync(), target, epsilon).out, tensor.shape));
  }
  return out;
}

/**
 * c·self + (1 − c)·(1/K) Σ_k others_k element by element (the plain mean without a self), summed
 * in float64 and rounded once to float32.
 */
function weightedMean(others: readonly ArrayLike<number>[], self: ArrayLike<number> | undefined, c: number, n: number): Float32Array {
  const sum = new Float64Array(n);
  for (const v of others) for (let i = 0; i < n; i++) sum[i] = (sum[i] as number) + (v[i] as number);
  const k = others.length;
  const out = new Float32Array(n);
  if (self === undefined) for (let i = 0; i < n; i++) out[i] = (sum[i] as number) / k;
  else for (let i = 0; i < n; i++) out[i] = c * (self[i] as number) + (1 - c) * ((sum[i] as number) / k);
  return out;
}

/**
 * Averages models tensor by tensor, optionally with the variance correction (see the file comment).
 *
 * @example
 * // a gossip node (model 0) with c = 0.5 averaging with the 8 models it received
 * const { state, factors } = averageModels([own, ...received], { selfIndex: 0, selfWeight: 0.5, correction: 'follow-others', kinds: tensorKinds(spec) });
 */
export function averageModels(models: readonly ModelState[], options: AverageModelsOptions = {}): AverageModelsResult {
  const correction = options.correction ?? 'none';
  const epsilon = options.epsilon ?? VARIANCE_EPSILON;
  const correctedKinds = options.correctedKinds ?? CORRECTED_KINDS;
  const { selfIndex } = options;
  if (!VARIANCE_CORRECTIONS.includes(correction)) {
    throw new Error(`averageModels: correction must be one of ${VARIANCE_CORRECTIONS.join(', ')}, found "${String(correction)}"`);
  }
  if (models.length === 0) throw new Error('averageModels: no models given');
  if (selfIndex !== undefined && (!Number.isInteger(selfIndex) || selfIndex < 0 || selfIndex >= models.length)) {
    throw new Error(`averageModels: selfIndex must be an integer in [0, ${models.length - 1}], found ${selfIndex}`);
  }
  if (selfIndex === undefined && options.selfWeight !== undefined) throw new Error('averageModels: selfWeight needs selfIndex');
  if (selfIndex === undefined && (correction === 'conservative' || correction === 'self')) {
    throw new Error(`averageModels: correction "${correction}" needs selfIndex (the node's own model)`);
  }
  if (selfIndex !== undefined && models.length < 2) throw new Error('averageModels: with selfIndex, at least one other model is needed');
  const c = options.selfWeight ?? 1 / models.length;
  if (!(c >= 0 && c <= 1)) throw new Error(`averageModels: selfWeight must be in [0, 1], found ${c}`);
  if (!(epsilon >= 0)) throw new Error(`averageModels: epsilon must be ≥ 0, found ${epsilon}`);
  const first = models[0] as ModelState;
  models.forEach((m, i) => {
    if (i === 0) return;
    assertSameLayout(first.params, m.params, `averageModels: params of model 0 and model ${i}`);
    assertSameLayout(first.buffers, m.buffers, `averageModels: buffers of model 0 and model ${i}`);
  });
  const self = selfIndex === undefined ? undefined : (models[selfIndex] as ModelState);
  const others = selfIndex === undefined ? models : models.filter((_, i) => i !== selfIndex);
  const factors = new Map<string, number>();

  const averageMap = (key: 'params' | 'buffers'): Map<string, tf.Tensor> => {
    const out = new Map<string, tf.Tensor>();
    for (const [name, ref] of first[key]) {
      const values = others.map((m) => (m[key].get(name) as tf.Tensor).dataSync());
      const n = ref.size;
      const k = values.length;
      const rounded = weightedMean(values, self === undefined ? undefined : (self[key].get(name) as tf.Tensor).dataSync(), c, n);
      const kind = options.kinds?.get(name) ?? (key === 'params' ? 'weight' : 'running-mean');
      if (options.kinds !== undefined && !options.kinds.has(name)) {
        throw new Error(`averageModels: no kind given for tensor "${name}" (kinds must cover every parameter and buffer)`);
      }
      const corrected = correction !== 'none' && key === 'params' && n >= 2 && correctedKinds.has(kind);
      if (!corrected) {
        out.set(name, tf.tensor(rounded, ref.shape));
        continue;
      }
      const othersVar = others.reduce((acc, m, j) => acc + tensorMoments(m[key].get(name) as tf.Tensor, values[j]).variance, 0) / k;
      const selfVar = self === undefined || correction === 'follow-others' ? 0 : tensorMoments(self[key].get(name) as tf.Tensor).variance;
      const target = correction === 'follow-others' ? othersVar : correction === 'self' ? selfVar : c * selfVar + (1 - c) * othersVar;
      const { out: rescaled, factor } = rescaleArray(rounded, target, epsilon);
      factors.set(name, factor);
      out.set(name, tf.tensor(rescaled, ref.shape));
    }
    return out;
  };
  return { state: { params: averageMap('params'), buffers: averageMap('buffers') }, factors };
}
