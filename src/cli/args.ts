/**
 * Small helpers for CLI option parsing on top of node:util's parseArgs: typed numbers and lists
 * with errors that name the option.
 */

/** Parses a number option; `undefined` stays undefined. */
export function numberOption(value: string | undefined, name: string, check: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name}: expected a number, found "${value}"`);
  if (check.integer === true && !Number.isInteger(n)) throw new Error(`--${name}: expected an integer, found "${value}"`);
  if (check.min !== undefined && n < check.min) throw new Error(`--${name}: expected at least ${check.min}, found ${n}`);
  if (check.max !== undefined && n > check.max) throw new Error(`--${name}: expected at most ${check.max}, found ${n}`);
  return n;
}

/** Parses a comma-separated list of integers, e.g. `--seeds 1,2,3` or a range `1-4`. */
export function integerListOption(value: string | undefined, name: string): number[] | undefined {
  if (value === undefined) return undefined;
  const out: number[] = [];
  for (const part of value.split(',')) {
    const range = /^\s*(-?\d+)\s*-\s*(-?\d+)\s*$/.exec(part);
    if (range !== null) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (to < from) throw new Error(`--${name}: empty range "${part}"`);
      for (let i = from; i <= to; i++) out.push(i);
      continue;
    }
    const n = Number(part);
    if (part.trim() === '' || !Number.isInteger(n)) throw new Error(`--${name}: expected comma-separated integers, found "${part}" in "${value}"`);
    out.push(n);
  }
  return out;
}

/** Parses a JSON object option such as `--config '{"width":0.25}'`. */
export function jsonOption(value: string | undefined, name: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    throw new Error(`--${name}: expected JSON, found "${value}" (${(error as Error).message})`, { cause: error });
  }
}

/** Requires an option. */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

/**
 * Bounds of the grids a command allocates up front and keeps in memory (t grids, random directions,
 * the rows they give): far beyond any study (Garipov et al. use 61 points), far below what would
 * exhaust memory. Each evaluated point is a full pass over the evaluation data, so the bounds also
 * keep a typo (`--points 1e9`) from starting a run that cannot end.
 */
export const GRID_BOUNDS = {
  points: { max: 10_000, why: 'each t is a full evaluation whose row stays in memory; the t grid is allocated before the first one' },
  samples: { max: 10_000, why: 'each sample is a random direction of the size of the model, evaluated on every t' },
  bends: { max: 64, why: 'each bend is a trained copy of the model’s parameters, with its optimizer state' },
  rows: { max: 1_000_000, why: 'rows stay in memory until they are printed or written' },
} as const;

/** A grid size option: an integer ≥ `min` and ≤ its bound in GRID_BOUNDS, the error saying the bound and why. */
export function gridOption(value: string | undefined, name: 'points' | 'samples' | 'bends', min: number): number | undefined {
  const n = numberOption(value, name, { integer: true, min });
  const bound = GRID_BOUNDS[name];
  if (n !== undefined && n > bound.max) throw new Error(`--${name}: at most ${bound.max} (${bound.why}), found ${n}`);
  return n;
}

/** Checks that `count` rows (e.g. layers × samples × points) stay within GRID_BOUNDS.rows; `what` says how they come about. */
export function assertRowCount(count: number, what: string): void {
  if (count > GRID_BOUNDS.rows.max) throw new Error(`${what} gives ${count} rows; at most ${GRID_BOUNDS.rows.max} (${GRID_BOUNDS.rows.why})`);
}
