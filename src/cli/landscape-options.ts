/**
 * Option parsers of the landscape commands (surface, barrier linear --range): coordinate ranges
 * `LO:HI` and grid sizes `N` or `NxM`, bounded like every grid the CLI allocates (args.ts).
 */
import { assertRowCount, GRID_BOUNDS } from './args.js';

/** `--range LO:HI` (e.g. `-0.5:1.5`): finite numbers with LO < HI; undefined stays undefined. */
export function rangeOption(value: string | undefined, name: string): [number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(':');
  const [lo, hi] = parts.map((p) => (p.trim() === '' ? Number.NaN : Number(p)));
  if (parts.length !== 2 || lo === undefined || hi === undefined || !Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new Error(`--${name}: expected LO:HI with two numbers (e.g. -0.5:1.5), found "${value}"`);
  }
  if (!(hi > lo)) throw new Error(`--${name}: expected LO < HI, found ${lo}:${hi}`);
  return [lo, hi];
}

/** `--grid N` or `--grid NxM` (u points × v points), each an integer in 2..GRID_BOUNDS.points.max. */
export function gridSizeOption(value: string | undefined, name: string, splits: number): [number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = value.toLowerCase().split('x');
  const sizes = parts.map((p) => (/^\s*\d+\s*$/.test(p) ? Number(p) : Number.NaN));
  if ((parts.length !== 1 && parts.length !== 2) || sizes.some((n) => !Number.isInteger(n))) {
    throw new Error(`--${name}: expected N or NxM (grid points along u and v, e.g. 21 or 21x11), found "${value}"`);
  }
  const [nu, nv] = sizes.length === 1 ? [sizes[0] as number, sizes[0] as number] : [sizes[0] as number, sizes[1] as number];
  for (const n of [nu, nv]) {
    if (n < 2) throw new Error(`--${name}: expected at least 2 points per axis, found ${n}`);
    if (n > GRID_BOUNDS.points.max) throw new Error(`--${name}: at most ${GRID_BOUNDS.points.max} points per axis (${GRID_BOUNDS.points.why}), found ${n}`);
  }
  assertRowCount(nu * nv * splits, `--${name} ${nu}x${nv}${splits > 1 ? ` on ${splits} splits` : ''}`);
  return [nu, nv];
}

/**
 * `--range -0.5:1.5` as one option: node's parseArgs takes a value starting with `-` for an
 * option of its own and refuses it ("ambiguous"), so a value of `flags` that looks like a
 * negative number or range is attached (`--range=-0.5:1.5`) before parsing.
 */
export function attachNegativeValues(args: readonly string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    if (flags.includes(arg) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}
