/**
 * Barrier metrics of a path from its evaluated points (rows at t, including t = 0 and t = 1).
 *
 * Interpolation-baseline form (Garipov et al. 2018, "Loss surfaces, mode connectivity and fast
 * ensembling of DNNs"; Frankle et al. 2020, "Linear mode connectivity and the lottery ticket
 * hypothesis" use it for error; Adilova et al. 2024 for loss):
 *
 *   B = max_t [ L(t) − ((1 − t)·L(0) + t·L(1)) ]
 *
 * Endpoint-mean form (Ainsworth et al. 2023, "Git Re-Basin"; Frankle et al. 2020 with error):
 *
 *   B = max_t L(t) − ½·(L(0) + L(1))
 *
 * Both for loss L and for error E = 1 − accuracy, over the grid points (including the endpoints,
 * where the first form is 0). Integrals along the path, by the trapezoid rule on the (possibly
 * non-uniform) grid: ∫₀¹ L(t) dt and ∫₀¹ [L(t) − baseline(t)] dt. A NaN loss anywhere makes the
 * loss metrics NaN (a diverged point is never skipped).
 */
import type { PathRow, Split } from '../rows/rows.js';

export interface BarrierMetrics {
  readonly path: string;
  readonly split: Split;
  /** L(0) and L(1). */
  readonly lossA: number;
  readonly lossB: number;
  readonly accuracyA: number;
  readonly accuracyB: number;
  /** max_t [L(t) − ((1−t)L(0) + tL(1))]. */
  readonly lossBarrier: number;
  /** t where the interpolation-baseline loss barrier is reached (first, if tied). */
  readonly lossBarrierT: number;
  /** max_t L(t) − ½(L(0) + L(1)). */
  readonly lossBarrierEndpointMean: number;
  /** t of max_t L(t). */
  readonly maxLossT: number;
  /** Interpolation-baseline form of the error 1 − accuracy. */
  readonly errorBarrier: number;
  /** Endpoint-mean form of the error. */
  readonly errorBarrierEndpointMean: number;
  /** Trapezoid ∫₀¹ L(t) dt. */
  readonly lossIntegral: number;
  /** Trapezoid ∫₀¹ [L(t) − ((1−t)L(0) + tL(1))] dt. */
  readonly lossIntegralAboveBaseline: number;
  /** Number of grid points. */
  readonly points: number;
}

/** Max of values[i] and the first index reaching it; NaN (index of the first NaN) if any value is NaN. */
function argmax(values: readonly number[]): { value: number; index: number } {
  let best = -Infinity;
  let index = 0;
  for (const [i, v] of values.entries()) {
    if (Number.isNaN(v)) return { value: NaN, index: i };
    if (v > best) {
      best = v;
      index = i;
    }
  }
  return { value: best, index };
}

/** Trapezoid rule ∫ y dt over sorted t. */
export function trapezoid(ts: readonly number[], ys: readonly number[]): number {
  let total = 0;
  for (let i = 1; i < ts.length; i++) {
    total += 0.5 * ((ts[i] as number) - (ts[i - 1] as number)) * ((ys[i] as number) + (ys[i - 1] as number));
  }
  return total;
}

/** Interpolation baseline at t, written a + t(b − a) so that equal endpoints give exactly a. */
function baseline(a: number, b: number, t: number): number {
  return a + t * (b - a);
}

/**
 * Barrier metrics for every (path, split) in `rows`. Each group needs rows at t = 0 and t = 1 and
 * no repeated t; rows may come in any order.
 *
 * @example
 * barrierMetrics([{ path: 'linear', split: 'test', t: 0, loss: 1, accuracy: 0.9 }, …])
 * // → [{ path: 'linear', split: 'test', lossBarrier: …, … }]
 */
export function barrierMetrics(rows: readonly PathRow[]): BarrierMetrics[] {
  const groups = new Map<string, PathRow[]>();
  for (const row of rows) {
    const key = `${row.path}\u0000${row.split}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [row]);
    else group.push(row);
  }
  const out: BarrierMetrics[] = [];
  for (const group of groups.values()) {
    const sorted = [...group].sort((x, y) => x.t - y.t);
    const first = sorted[0] as PathRow;
    const where = `barrierMetrics (path ${first.path}, split ${first.split})`;
    for (let i = 1; i < sorted.length; i++) {
      const t = (sorted[i] as PathRow).t;
      if (t === (sorted[i - 1] as PathRow).t) throw new Error(`${where}: t = ${t} appears twice`);
    }
    const last = sorted[sorted.length - 1] as PathRow;
    if (first.t !== 0 || last.t !== 1) {
      throw new Error(`${where}: rows must include t = 0 and t = 1 (the endpoints); found t from ${first.t} to ${last.t}`);
    }
    const ts = sorted.map((r) => r.t);
    const loss = sorted.map((r) => r.loss);
    const error = sorted.map((r) => 1 - r.accuracy);
    const lossA = first.loss;
    const lossB = last.loss;
    const errA = 1 - first.accuracy;
    const errB = 1 - last.accuracy;
    const lossAbove = sorted.map((r) => r.loss - baseline(lossA, lossB, r.t));
    const errorAbove = sorted.map((r) => 1 - r.accuracy - baseline(errA, errB, r.t));
    const lossMax = argmax(loss);
    const lossAboveMax = argmax(lossAbove);
    out.push({
      path: first.path,
      split: first.split,
      lossA,
      lossB,
      accuracyA: first.accuracy,
      accuracyB: last.accuracy,
      lossBarrier: lossAboveMax.value,
      lossBarrierT: ts[lossAboveMax.index] as number,
      lossBarrierEndpointMean: lossMax.value - 0.5 * (lossA + lossB),
      maxLossT: ts[lossMax.index] as number,
      errorBarrier: argmax(errorAbove).value,
      errorBarrierEndpointMean: argmax(error).value - 0.5 * (errA + errB),
      lossIntegral: trapezoid(ts, loss),
      lossIntegralAboveBaseline: trapezoid(ts, lossAbove),
      points: sorted.length,
    });
  }
  return out;
}
