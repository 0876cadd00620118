/**
 * The nudged-elastic-band (NEB) operations on a chain of pivots p_0..p_N in R^D, as used by AutoNEB
 * (Draxler et al. 2018, "Essentially No Barriers in Neural Network Energy Landscape", ICML;
 * their PyTorch-AutoNEB neb_model.py and fill.py).
 *
 * - Tangent (Henkelman & Jónsson 2000, J. Chem. Phys. 113, 9978, "improved tangent"): with unit
 *   segment directions τ⁻ = (p_i − p_{i−1})/‖·‖ and τ⁺ = (p_{i+1} − p_i)/‖·‖, take the segment
 *   toward the higher-loss neighbour (τ⁻ when L_{i−1} > L_{i+1}, else τ⁺) when L_i lies between
 *   its neighbours; at a local maximum or minimum
 *   mix them, τ ∝ τ⁺·ΔL_max + τ⁻·ΔL_min if L_{i+1} > L_{i−1}, else τ⁺·ΔL_min + τ⁻·ΔL_max, with
 *   ΔL_max/min = max/min(|L_{i+1} − L_i|, |L_{i−1} − L_i|). This follows the paper; Draxler's code
 *   gives ΔL_max to the lower neighbour's segment instead (it only matters at extrema).
 * - Nudged gradient: g_i − (g_i·τ_i)·τ_i (the loss only pushes perpendicular to the chain).
 * - Infinite springs: instead of a spring force, pivots are redistributed along the polyline so
 *   that segment lengths are proportional to target weights (equal weights = equal arc length).
 * - Insertion: where the dense loss inside a segment exceeds the linear interpolation of its two
 *   pivots' losses by more than `threshold` × (max − min of the pivot losses), insert a pivot at the
 *   worst position, for at most `maxInsertions` segments (the worst ones).
 */
import * as tf from '@tensorflow/tfjs-core';

function norm(x: tf.Tensor): number {
  const length = tf.norm(x);
  const value = length.dataSync()[0] as number;
  length.dispose();
  return value;
}

/** x / (‖x‖ + 1e-30), so a zero vector stays finite. */
function unit(x: tf.Tensor1D): tf.Tensor1D {
  const length = norm(x);
  return tf.tidy(() => tf.div(x, length + 1e-30));
}

/** The unit tangent at p_i from its neighbours and the three losses (formula in the file comment). */
export function nebTangent(prev: tf.Tensor1D, current: tf.Tensor1D, next: tf.Tensor1D, lossPrev: number, loss: number, lossNext: number): tf.Tensor1D {
  const extremum = (loss > lossPrev && loss > lossNext) || (loss < lossPrev && loss < lossNext);
  if (!extremum) {
    const segment: tf.Tensor1D = lossPrev > lossNext ? tf.sub(current, prev) : tf.sub(next, current);
    const out = unit(segment);
    segment.dispose();
    return out;
  }
  const dMax = Math.max(Math.abs(lossNext - loss), Math.abs(lossPrev - loss));
  const dMin = Math.min(Math.abs(lossNext - loss), Math.abs(lossPrev - loss));
  const [wNext, wPrev] = lossNext > lossPrev ? [dMax, dMin] : [dMin, dMax];
  const dPrev = tf.sub(current, prev);
  const dNext = tf.sub(next, current);
  const lengthPrev = norm(dPrev);
  const lengthNext = norm(dNext);
  const mixed = tf.tidy(() => tf.add<tf.Tensor1D>(tf.mul(dNext, wNext / (lengthNext + 1e-30)), tf.mul(dPrev, wPrev / (lengthPrev + 1e-30))));
  const out = unit(mixed);
  tf.dispose([dPrev, dNext, mixed]);
  return out;
}

/** g − (g·τ)·τ for a unit tangent τ. */
export function nudgeGradient(gradient: tf.Tensor1D, tangent: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.sub(gradient, tf.mul(tangent, tf.sum(tf.mul(gradient, tangent)))));
}

/** ‖p_{i+1} − p_i‖ for every segment. */
export function segmentLengths(pivots: readonly tf.Tensor1D[]): number[] {
  if (pivots.length < 2) return [];
  const stacked = tf.tidy(() => tf.stack(pivots.slice(1).map((p, i) => tf.norm(tf.sub(p, pivots[i] as tf.Tensor1D)))));
  const lengths = Array.from(stacked.dataSync());
  stacked.dispose();
  return lengths;
}

/**
 * Moves the interior pivots along the current polyline so that segment j gets the fraction
 * weights[j]/Σweights of its total length (default: equal lengths). Returns new tensors for every
 * pivot (endpoints copied); the caller disposes the old ones.
 */
export function redistributeChain(pivots: readonly tf.Tensor1D[], weights?: readonly number[]): tf.Tensor1D[] {
  const n = pivots.length;
  if (n < 2) throw new Error(`redistributeChain: expected at least 2 pivots, found ${n}`);
  const w = weights ?? new Array<number>(n - 1).fill(1);
  if (w.length !== n - 1 || !w.every((x) => x > 0)) throw new Error(`redistributeChain: expected ${n - 1} positive weights, found [${w.join(', ')}]`);
  const lengths = segmentLengths(pivots);
  const total = lengths.reduce((a, b) => a + b, 0);
  const weightSum = w.reduce((a, b) => a + b, 0);
  const out: tf.Tensor1D[] = [(pivots[0] as tf.Tensor1D).clone()];
  let segment = 0;
  let segmentStart = 0;
  let target = 0;
  for (let i = 1; i < n - 1; i++) {
    target += ((w[i - 1] as number) / weightSum) * total;
    while (segment < n - 2 && target > segmentStart + (lengths[segment] as number)) {
      segmentStart += lengths[segment] as number;
      segment += 1;
    }
    const length = lengths[segment] as number;
    const alpha = length > 0 ? Math.min(1, Math.max(0, (target - segmentStart) / length)) : 0;
    const a = pivots[segment] as tf.Tensor1D;
    const b = pivots[segment + 1] as tf.Tensor1D;
    out.push(tf.tidy(() => tf.add(tf.mul(a, 1 - alpha), tf.mul(b, alpha))));
  }
  out.push((pivots[n - 1] as tf.Tensor1D).clone());
  return out;
}

/** Where to insert a pivot: inside `segment` (between pivots segment and segment+1) at fraction `alpha`. */
export interface PivotInsertion {
  readonly segment: number;
  readonly alpha: number;
  /** Excess of the dense loss over the interpolation of the pivot losses, relative to the chain's loss range. */
  readonly score: number;
}

export interface InsertionOptions {
  /** At most this many segments get a new pivot (default 2). */
  readonly maxInsertions?: number;
  /** Minimum relative excess (default 0.1 = 10% of the chain's loss range). */
  readonly threshold?: number;
}

/**
 * Chooses insertions from dense losses: `dense` holds, per segment, the loss at its first pivot and
 * at `perSegment` evenly spaced interior points, then the last pivot's loss — length
 * (pivots − 1)·(perSegment + 1) + 1 (the layout `denseAlphas` produces).
 */
export function choosePivotInsertions(dense: readonly number[], pivotCount: number, options: InsertionOptions = {}): PivotInsertion[] {
  const segments = pivotCount - 1;
  const perSegment = (dense.length - 1) / segments - 1;
  if (segments < 1 || !Number.isInteger(perSegment) || perSegment < 1) {
    throw new Error(`choosePivotInsertions: ${dense.length} dense values do not fit ${pivotCount} pivots with ≥ 1 interior point per segment`);
  }
  const pivotLosses = Array.from({ length: pivotCount }, (_, i) => dense[i * (perSegment + 1)] as number);
  const range = Math.max(...pivotLosses) - Math.min(...pivotLosses) + 1e-12;
  const best: PivotInsertion[] = [];
  for (let s = 0; s < segments; s++) {
    const la = pivotLosses[s] as number;
    const lb = pivotLosses[s + 1] as number;
    let top: PivotInsertion | undefined;
    for (let j = 1; j <= perSegment; j++) {
      const alpha = j / (perSegment + 1);
      const score = ((dense[s * (perSegment + 1) + j] as number) - ((1 - alpha) * la + alpha * lb)) / range;
      if (top === undefined || score > top.score) top = { segment: s, alpha, score };
    }
    if (top !== undefined) best.push(top);
  }
  const threshold = options.threshold ?? 0.1;
  return best
    .sort((x, y) => y.score - x.score)
    .slice(0, options.maxInsertions ?? 2)
    .filter((x) => x.score > threshold)
    .sort((x, y) => x.segment - y.segment);
}

/** α values of the dense evaluation points inside one segment: j/(perSegment+1), j = 0..perSegment. */
export function denseAlphas(perSegment: number): number[] {
  return Array.from({ length: perSegment + 1 }, (_, j) => j / (perSegment + 1));
}

/**
 * Inserts pivots by linear interpolation inside segments and splits the segments' target weights
 * in proportion (as Draxler's fill_chain). Existing pivot tensors are reused in the returned array;
 * inserted ones are new.
 */
export function insertPivots(
  pivots: readonly tf.Tensor1D[],
  weights: readonly number[],
  insertions: readonly Pick<PivotInsertion, 'segment' | 'alpha'>[],
): { pivots: tf.Tensor1D[]; weights: number[] } {
  const outPivots: tf.Tensor1D[] = [pivots[0] as tf.Tensor1D];
  const outWeights: number[] = [];
  for (let s = 0; s < pivots.length - 1; s++) {
    const a = pivots[s] as tf.Tensor1D;
    const b = pivots[s + 1] as tf.Tensor1D;
    const alphas = insertions.filter((x) => x.segment === s).map((x) => x.alpha).sort((x, y) => x - y);
    let last = 0;
    for (const alpha of alphas) {
      if (!(alpha > last && alpha < 1)) throw new Error(`insertPivots: insertion fractions in segment ${s} must be increasing in (0, 1), found ${alpha}`);
      outPivots.push(tf.tidy(() => tf.add(tf.mul(a, 1 - alpha), tf.mul(b, alpha))));
      outWeights.push((alpha - last) * (weights[s] as number));
      last = alpha;
    }
    outPivots.push(b);
    outWeights.push((1 - last) * (weights[s] as number));
  }
  const sum = outWeights.reduce((x, y) => x + y, 0);
  return { pivots: outPivots, weights: outWeights.map((w) => w / sum) };
}
