/**
 * Between named float arrays (what files hold) and Models (tf tensors): a file's tensors are
 * checked against `architecture.spec(config)` as a whole — every missing tensor, every unexpected
 * tensor, every shape or dtype mismatch is listed in one error — and tf tensors are created only
 * when everything fits, so a load never yields a partial model and never leaks tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture, Model, TensorMap, TensorSpec } from '../models/types.js';
import { FLOAT_DTYPES, type SafetensorsTensor } from './safetensors.js';

/** At most this many problems of each kind (mismatched, unexpected, missing) are listed. */
const MAX_LISTED = 12;

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Every difference between `tensors` and the spec tensors, one line each (empty when they match):
 * missing and unexpected names, shape mismatches, non-floating dtypes.
 */
export function tensorMismatches(specs: readonly TensorSpec[], tensors: ReadonlyMap<string, SafetensorsTensor>): string[] {
  const problems: string[] = [];
  const expected = new Set(specs.map((s) => s.name));
  for (const s of specs) {
    const t = tensors.get(s.name);
    if (t === undefined) {
      problems.push(`missing tensor "${s.name}" (expected F32${formatShape(s.shape)})`);
      continue;
    }
    const shapeOk = t.shape.length === s.shape.length && t.shape.every((d, i) => d === s.shape[i]);
    const dtypeOk = FLOAT_DTYPES.has(t.dtype);
    if (!shapeOk || !dtypeOk) {
      problems.push(`tensor "${s.name}": expected F32${formatShape(s.shape)}, found ${t.dtype}${formatShape(t.shape)}`);
    }
  }
  for (const [name, t] of tensors) {
    if (!expected.has(name)) problems.push(`unexpected tensor "${name}" (${t.dtype}${formatShape(t.shape)})`);
  }
  return problems;
}

/**
 * Throws one error listing `problems` (if any), prefixed by `what`: mismatched tensors first, then
 * unexpected, then missing ones (a file of the wrong architecture has many of the latter), at most
 * MAX_LISTED of each kind with a count of the rest. `hint` is appended when given.
 */
export function throwIfProblems(problems: readonly string[], what: string, hint?: string): void {
  if (problems.length === 0) return;
  const kinds = [
    problems.filter((p) => !p.startsWith('missing ') && !p.startsWith('unexpected ')),
    problems.filter((p) => p.startsWith('unexpected ')),
    problems.filter((p) => p.startsWith('missing ')),
  ];
  const listed: string[] = [];
  for (const list of kinds) {
    listed.push(...list.slice(0, MAX_LISTED).map((p) => `  - ${p}`));
    if (list.length > MAX_LISTED) listed.push(`  - … and ${list.length - MAX_LISTED} more ${(list[0] as string).split(' ')[0]} tensors`);
  }
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  throw new Error(`${what}: ${count}:\n${listed.join('\n')}${hint === undefined ? '' : `\n${hint}`}`);
}

/**
 * A Model of `architecture` with `config` (already parsed) from named float arrays, all of which
 * must match the spec exactly. `source` (a path) names the file in the error.
 */
export function modelFromTensors<Config>(
  architecture: Architecture<Config>,
  config: Config,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  source: string,
): Model<Config> {
  const spec = architecture.spec(config);
  const specs = [...spec.params, ...spec.buffers];
  throwIfProblems(
    tensorMismatches(specs, tensors),
    `${source} does not hold a ${architecture.name} with config ${JSON.stringify(config)}`,
  );
  const build = (list: readonly TensorSpec[]): Map<string, tf.Tensor> => {
    const map = new Map<string, tf.Tensor>();
    for (const s of list) map.set(s.name, tf.tensor((tensors.get(s.name) as SafetensorsTensor).data, [...s.shape], 'float32'));
    return map;
  };
  return { architecture: architecture.name, config, params: build(spec.params), buffers: build(spec.buffers) };
}

/** The values of every tensor of the maps, in order, as F32 arrays ready to be written. */
export async function tensorsToArrays(...maps: readonly TensorMap[]): Promise<Map<string, SafetensorsTensor & { readonly dtype: 'F32' }>> {
  const out = new Map<string, SafetensorsTensor & { readonly dtype: 'F32' }>();
  for (const map of maps) {
    for (const [name, tensor] of map) {
      if (out.has(name)) throw new Error(`tensor "${name}" appears twice (in params and buffers?)`);
      if (tensor.dtype !== 'float32') throw new Error(`tensor "${name}" is ${tensor.dtype}; only float32 tensors can be saved`);
      out.set(name, { dtype: 'F32', shape: [...tensor.shape], data: (await tensor.data()) as Float32Array });
    }
  }
  return out;
}
