/**
 * Resume checks: a saved run (a training state, an LLPF folder) records the recipe it was made
 * with, and continuing it under another recipe is an error that names the differing fields, not a
 * silent mix of two runs. The errors carry the problem as data (`resumeProblemOf`), so a caller
 * (the CLI) can say it in its own words (flag names instead of option names).
 */
import { createHash } from 'node:crypto';
import type { TensorMap } from '../models/types.js';

/** A recipe: the options of a run that decide its result, as plain JSON values. */
export type Recipe = Readonly<Record<string, unknown>>;

/** One field whose recorded value differs from the given one. */
export interface RecipeDifference {
  readonly field: string;
  readonly recorded: unknown;
  readonly given: unknown;
}

/** Why a saved run cannot be continued. */
export interface ResumeProblem {
  /** The saved file that was read. */
  readonly file: string;
  /** What to delete to start over. */
  readonly folder: string;
  /** What is wrong, e.g. `was written with another recipe` or `is not valid JSON (…)`. */
  readonly reason: string;
  /** The differing fields (empty for an unreadable file). */
  readonly differences: readonly RecipeDifference[];
}

/** JSON with object keys sorted, so that equal recipes give equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The fields of `given` whose value differs from `recorded` (fields missing on either side count). */
export function recipeDifferences(recorded: Recipe, given: Recipe): RecipeDifference[] {
  const fields = [...new Set([...Object.keys(recorded), ...Object.keys(given)])];
  return fields
    .filter((field) => canonicalJson(recorded[field]) !== canonicalJson(given[field]))
    .map((field) => ({ field, recorded: recorded[field], given: given[field] }));
}

/** `lr: recorded 0.05, given 0.0005; epochs: …` */
export function describeDifferences(differences: readonly RecipeDifference[], name: (field: string) => string = (f) => f): string {
  const show = (v: unknown): string => (v === undefined ? 'nothing' : canonicalJson(v));
  return differences.map((d) => `${name(d.field)}: recorded ${show(d.recorded)}, given ${show(d.given)}`).join('; ');
}

/** The error for `problem`; `startOver` says how to start over besides deleting the folder. */
export function resumeError(problem: ResumeProblem, startOver: string): Error {
  const details = problem.differences.length === 0 ? '' : ` (${describeDifferences(problem.differences)})`;
  const error = new Error(`cannot resume: ${problem.file} ${problem.reason}${details}; to start over, ${startOver} or delete ${problem.folder}`);
  return Object.assign(error, { resumeProblem: problem });
}

/** The problem behind an error made by `resumeError`, else undefined. */
export function resumeProblemOf(error: unknown): ResumeProblem | undefined {
  if (!(error instanceof Error) || !('resumeProblem' in error)) return undefined;
  return error.resumeProblem as ResumeProblem;
}

/** SHA-256 (hex, first 16 digits) of named tensors' names, shapes and float32 values: which model a run started from. */
export function tensorFingerprint(...maps: readonly TensorMap[]): string {
  const hash = createHash('sha256');
  for (const map of maps) {
    for (const [name, t] of [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      hash.update(`${name}[${t.shape.join(',')}]`);
      const data = t.dataSync();
      hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  }
  return hash.digest('hex').slice(0, 16);
}
