/**
 * Training subspace versus null space (Adilova et al., ICLR 2024, "Layer-wise linear mode
 * connectivity", §5): is the loss more fragile along the interpolation direction than along
 * directions the training runs explored, or along directions they never touched?
 *
 * Training subspace S = span{ c_i − θ_A } over the saved checkpoints c_i of both runs and θ_B,
 * i.e. the affine span of the checkpoints, CENTRED ON θ_A (the point that is perturbed), over all
 * trainable parameters flattened in the model's order (BatchNorm buffers excluded: they are
 * re-estimated). With V the k×D matrix of these vectors and G = V Vᵀ = U Λ Uᵀ (k×k, float64), an
 * orthonormal basis is Q = Vᵀ U_r Λ_r^{−1/2} over the r eigenvalues above 1e−12·λ_max — the D×D
 * matrix is never formed. Null space = S^⊥: a random direction in it is g − Q Qᵀ g for
 * g ~ N(0, I_D) (projected out twice, for orthogonality to rounding level), normalized.
 *
 * Perturbations θ_A + m·‖θ_B − θ_A‖·u along unit directions u: (i) the interpolation direction,
 * (ii) random unit directions in S, (iii) random unit directions in S^⊥.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { Architecture, Model, ModelState, TensorMap } from '../models/types.js';
import { createRandom, type Random } from '../util/random.js';
import type { EvaluationData, EvaluatorOptions } from '../evaluate/evaluate.js';
import { evaluatePoints, openEvaluator } from '../evaluate/evaluate-points.js';
import { assertCompatibleModels } from '../paths/linear-path.js';
import { throwIfAborted, type Progress } from '../progress.js';
import { resolveArchitecture } from '../models/resolve.js';
import type { SubspaceRow } from '../rows/rows.js';
import type { PoolOptions } from '../evaluate/worker-pool.js';

/** Flattens the tensors of `map` (in its order) into one float64 vector. */
export function flattenTensors(map: TensorMap): Float64Array {
  let size = 0;
  for (const t of map.values()) size += t.size;
  const out = new Float64Array(size);
  let offset = 0;
  for (const t of map.values()) {
    out.set(t.dataSync(), offset);
    offset += t.size;
  }
  return out;
}

function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] as number) * (y[i] as number);
  return s;
}

/** The span of checkpoint differences, with projections and random directions in it and in its complement. */
export interface TrainingSubspace {
  /** D, the number of scalars. */
  readonly size: number;
  /** r, the rank of the span. */
  readonly dimension: number;
  /** The spanning vectors c_i − θ_A (float32 storage, k of them). */
  readonly vectors: readonly Float32Array[];
  /** Q Qᵀ x: the orthogonal projection of x onto the subspace. */
  project(x: ArrayLike<number>): Float64Array;
  /** A random unit vector in the subspace, Q z / ‖Q z‖ with z ~ N(0, I_r). */
  randomInSubspace(random: Random): Float64Array;
  /** A random unit vector in the orthogonal complement. */
  randomInNullSpace(random: Random): Float64Array;
}

/**
 * The training subspace of `points` centred on `origin`: span{p − origin}. Vectors equal to zero
 * (the origin itself among the points) add nothing.
 */
export function trainingSubspace(origin: TensorMap, points: readonly TensorMap[]): TrainingSubspace {
  const o = flattenTensors(origin);
  const size = o.length;
  const vectors = points.map((p, i) => {
    const flat = flattenTensors(p);
    if (flat.length !== size) throw new Error(`training subspace: checkpoint ${i} has ${flat.length} parameters, the origin ${size}`);
    const v = new Float32Array(size);
    for (let j = 0; j < size; j++) v[j] = (flat[j] as number) - (o[j] as number);
    return v;
  });
  const k = vectors.length;
  const gram = Matrix.zeros(k, k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const g = dot(vectors[i] as Float32Array, vectors[j] as Float32Array);
      gram.set(i, j, g);
      gram.set(j, i, g);
    }
  }
  // Coefficients C (k×r) with Q = Vᵀ C orthonormal.
  const coefficients: number[][] = [];
  if (k > 0) {
    const eig = new EigenvalueDecomposition(gram, { assumeSymmetric: true });
    const lambdas = eig.realEigenvalues;
    const lambdaMax = Math.max(0, ...lambdas);
    lambdas.forEach((lambda, j) => {
      if (lambdaMax > 0 && lambda > 1e-12 * lambdaMax) {
        coefficients.push(Array.from({ length: k }, (_, i) => eig.eigenvectorMatrix.get(i, j) / Math.sqrt(lambda)));
      }
    });
  }
  const r = coefficients.length;
  /** Σ_i w_i v_i for coefficient vector w over the k spanning vectors. */
  const combine = (w: readonly number[]): Float64Array => {
    const out = new Float64Array(size);
    w.forEach((wi, i) => {
      if (wi === 0) return;
      const v = vectors[i] as Float32Array;
      for (let j = 0; j < size; j++) out[j] = (out[j] as number) + wi * (v[j] as number);
    });
    return out;
  };
  const project = (x: ArrayLike<number>): Float64Array => {
    const vx = vectors.map((v) => dot(v, x));
    // Qᵀx = Cᵀ V x, then Q(Qᵀx) = V ᵀ C (Qᵀx).
    const qx = coefficients.map((c) => dot(c, vx));
    const w = Array.from({ length: k }, (_, i) => coefficients.reduce((s, c, j) => s + (c[i] as number) * (qx[j] as number), 0));
    return combine(w);
  };
  const normalize = (x: Float64Array, what: string): Float64Array => {
    const n = Math.sqrt(dot(x, x));
    if (!(n > 0)) throw new Error(`training subspace: cannot draw a ${what} direction (zero vector; subspace dimension ${r} of ${size})`);
    for (let j = 0; j < size; j++) x[j] = (x[j] as number) / n;
    return x;
  };
  return {
    size,
    dimension: r,
    vectors,
    project,
    randomInSubspace(random) {
      if (r === 0) throw new Error('training subspace: the checkpoints span nothing (all equal to the origin)');
      const z = coefficients.map(() => random.normal());
      const w = Array.from({ length: k }, (_, i) => coefficients.reduce((s, c, j) => s + (c[i] as number) * (z[j] as number), 0));
      return normalize(combine(w), 'subspace');
    },
    randomInNullSpace(random) {
      const g = new Float64Array(size);
      for (let j = 0; j < size; j++) g[j] = random.normal();
      for (let pass = 0; pass < 2; pass++) {
        const p = project(g);
        for (let j = 0; j < size; j++) g[j] = (g[j] as number) - (p[j] as number);
      }
      return normalize(g, 'null-space');
    },
  };
}

export interface SubspaceOptions extends EvaluatorOptions, PoolOptions {
  readonly architecture?: Architecture<unknown>;
  /** Perturbation magnitudes relative to ‖θ_B − θ_A‖ (default 0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1). */
  readonly magnitudes?: readonly number[];
  /** Random directions per kind (default 5). */
  readonly samples?: number;
  readonly seed?: number;
  readonly progress?: Progress;
  /** Checked before each point: once aborted, no further point starts and an AbortError is thrown. */
  readonly signal?: AbortSignal;
}

function unflatten(like: TensorMap, flat: Float64Array, origin: TensorMap, scale: number): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  let offset = 0;
  for (const [name, t] of like) {
    const base = (origin.get(name) as tf.Tensor).dataSync();
    const values = new Float32Array(t.size);
    for (let j = 0; j < t.size; j++) values[j] = (base[j] as number) + scale * (flat[offset + j] as number);
    out.set(name, tf.tensor(values, t.shape, 'float32'));
    offset += t.size;
  }
  return out;
}

/**
 * Loss versus perturbation magnitude along the interpolation direction, random directions in the
 * training subspace of `checkpoints` (both runs' saved checkpoints; θ_B is always included) and
 * random directions in its null space. Stopped by `options.signal`, it throws an AbortError once
 * the points in flight have settled (no partial rows; workers terminated).
 */
export async function subspacePerturbations(
  a: Model,
  b: Model,
  checkpoints: readonly Model[],
  data: EvaluationData,
  options: SubspaceOptions = {},
): Promise<SubspaceRow[]> {
  assertCompatibleModels(a, b);
  checkpoints.forEach((c, i) => assertCompatibleModels(a, c, `checkpoint ${i} vs endpoint A`));
  throwIfAborted(options.signal, 'subspacePerturbations');
  const architecture = resolveArchitecture(a.architecture, options.architecture);
  const magnitudes = options.magnitudes ?? [0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1];
  const samples = options.samples ?? 5;
  const random = createRandom(options.seed ?? 0);
  const subspace = trainingSubspace(a.params, [b.params, ...checkpoints.map((c) => c.params)]);
  const interpolation = Float64Array.from(subspace.vectors[0] as Float32Array);
  const distance = Math.sqrt(dot(interpolation, interpolation));
  if (!(distance > 0)) throw new Error('subspace: θ_A and θ_B are identical; the perturbation scale ‖θ_B − θ_A‖ is zero');
  for (let j = 0; j < interpolation.length; j++) interpolation[j] = (interpolation[j] as number) / distance;
  const directions: { kind: SubspaceRow['direction']; sample: number; u: Float64Array }[] = [{ kind: 'interpolation', sample: 0, u: interpolation }];
  for (let s = 0; s < samples; s++) directions.push({ kind: 'training-subspace', sample: s, u: subspace.randomInSubspace(random.fork(`subspace:${s}`)) });
  for (let s = 0; s < samples; s++) directions.push({ kind: 'null-space', sample: s, u: subspace.randomInNullSpace(random.fork(`null:${s}`)) });

  const cells = directions.flatMap((direction) => magnitudes.map((m) => ({ ...direction, m })));
  // Drawing the directions is O(samples·D·k): checked again before the evaluation starts.
  throwIfAborted(options.signal, 'subspacePerturbations');
  const evaluator = await openEvaluator(architecture, a.config, data, options);
  const rows: SubspaceRow[] = [];
  let done = 0;
  try {
    const metrics = await evaluatePoints(
      evaluator,
      cells,
      ({ u, m }): ModelState => {
        throwIfAborted(options.signal, 'subspacePerturbations');
        return {
          params: unflatten(a.params, u, a.params, m * distance),
          buffers: new Map([...a.buffers].map(([n, t]) => [n, t.clone()])),
        };
      },
      (i) => options.progress?.({ task: 'grid', step: ++done, total: cells.length, message: `subspace ${cells[i]!.kind} ${cells[i]!.sample} magnitude ${cells[i]!.m}` }),
    );
    cells.forEach(({ kind, sample, m }, i) => {
      for (const split of evaluator.splits) {
        const r = metrics[i]?.[split];
        if (r !== undefined) rows.push({ direction: kind, sample, magnitude: m, split, loss: r.loss, accuracy: r.accuracy });
      }
    });
  } finally {
    await evaluator.close();
  }
  return rows;
}
