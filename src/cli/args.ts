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
