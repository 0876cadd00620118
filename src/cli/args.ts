/**
 * Small helpers for CLI option parsing on top of node:util's parseArgs: typed numbers and lists
 * with errors that name the option.
 */
import { parseArgs as parseNodeArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

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

/**
 * Flags that were renamed or retired, with what to write instead. Every command's parser refuses
 * them with that advice (when the command does not declare the name itself), so a script written
 * for an older version fails at once with the fix instead of running with a silently ignored flag.
 */
export const RETIRED_FLAGS: Readonly<Record<string, string>> = {
  'epochs-a': '--epochs-a was renamed --checkpoints-a (it takes a comma-separated list of checkpoints)',
  'epochs-b': '--epochs-b was renamed --checkpoints-b (it takes a comma-separated list of checkpoints)',
  'test-subset': '--test-subset was renamed --test-examples (test images evaluated per node), as in every command',
  'eval-examples': '--eval-examples was renamed --train-examples (the training images AutoNEB evaluates), as in every command',
  resume: '--resume is gone: resuming is the default of every command; --no-resume starts over',
  'bn-reset': '--bn-reset is gone: BatchNorm statistics are re-estimated by default (BN models), as in barrier and path; --no-bn-reset keeps the stored ones',
};

/** The global options (src/cli/main.ts), known to every command's parser for suggestions. */
export const GLOBAL_FLAGS = ['backend', 'threads', 'quiet', 'architecture-module'] as const;

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `pionts` → `points` is 1.
 *
 *   d(i, j) = min(d(i−1, j) + 1, d(i, j−1) + 1, d(i−1, j−1) + [aᵢ ≠ bⱼ], d(i−2, j−2) + 1 if aᵢ aᵢ₋₁ = bⱼ₋₁ bⱼ)
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known flag nearest to `name` when it is near enough to be a typo: within 2 edits and under
 * half of the name's length (so `--x` suggests nothing); ties go to the first declared.
 */
export function suggestFlag(name: string, known: readonly string[]): string | undefined {
  let best: { flag: string; distance: number } | undefined;
  for (const flag of known) {
    const distance = editDistance(name, flag);
    if (distance <= 2 && distance < Math.max(name.length, flag.length) / 2 && (best === undefined || distance < best.distance)) best = { flag, distance };
  }
  return best?.flag;
}

/**
 * node:util's `parseArgs` (strict) with the CLI's messages: a retired flag names its replacement
 * ({@link RETIRED_FLAGS}) and an unknown one gets "unknown option --pionts (did you mean
 * --points?)". Every command parses through this, so new commands get both for free.
 */
export function parseArgs<T extends ParseArgsConfig & { readonly options: ParseArgsOptionsConfig }>(config: T): ReturnType<typeof parseNodeArgs<T>> {
  const declared = config.options;
  const args = config.args ?? [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') break;
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=')[0] as string;
    const option = declared[name];
    if (option !== undefined) {
      // The value of a string option is the next word, whatever it looks like.
      if (option.type === 'string' && !arg.includes('=')) i++;
      continue;
    }
    if ((GLOBAL_FLAGS as readonly string[]).includes(name)) continue;
    const retired = RETIRED_FLAGS[name];
    if (retired !== undefined) throw new Error(retired);
    const suggestion = suggestFlag(name, [...Object.keys(declared), ...GLOBAL_FLAGS]);
    throw new Error(`unknown option --${name}${suggestion === undefined ? '; --help lists the options' : ` (did you mean --${suggestion}?)`}`);
  }
  return parseNodeArgs(config);
}
