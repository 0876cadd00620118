/**
 * Saving and loading an AutoNEB chain (Draxler et al. 2018) as one safetensors file, so that the
 * path can be evaluated again later (`modeconn barrier linear --path chain.safetensors A`).
 *
 * Tensors: `pivot{i}` for every pivot p_0 = θ_A .. p_N = θ_B, each the flat parameter vector [D]
 * in layout order (endpoints included, so the file is self-contained), and `start.{name}` /
 * `end.{name}` for the endpoints' BatchNorm running statistics. Metadata (all strings):
 * `format` = `modeconn-neb`, `version` = `1`, `architecture`, `config` (JSON), `params` and
 * `shapes` (JSON: the layout's tensor names and shapes, in order), `buffers` (JSON name list),
 * `pivots` (the count N + 1), and optionally `cycles` (JSON `NebCycleRow[]`, how the chain was
 * made; non-finite losses are stored as null and come back as NaN). Writes are atomic (temporary
 * file + rename).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, writeSafetensors, type SafetensorsTensorToWrite } from '../checkpoint/safetensors.js';
import { hasArchitecture, listArchitectures } from '../models/registry.js';
import type { TensorMap } from '../models/types.js';
import type { NebChain, NebCycleRow } from './autoneb.js';
import type { FlatLayout } from './flat-params.js';
import { parseJsonField, stringListField } from './saved-metadata.js';

export const NEB_FORMAT = 'modeconn-neb';
const VERSION = '1';

/** What a chain file records besides the chain itself. */
export interface NebChainInfo {
  /** One row per AutoNEB cycle (`connectAutoNeb`'s `rows`). */
  readonly cycles?: readonly NebCycleRow[];
}

/** A chain read by `loadNebChain` (owns its tensors, like any `NebChain`) with the file's info. */
export type SavedNebChain<Config = unknown> = NebChain<Config> & { readonly info: NebChainInfo };

const CYCLE_FIELDS = ['cycle', 'lr', 'steps', 'pivots', 'inserted', 'saddleLoss', 'relativeLength'] as const;

const pivotKey = (i: number): string => `pivot${i}`;

async function toWrite(tensor: tf.Tensor, where: string): Promise<SafetensorsTensorToWrite> {
  if (tensor.dtype !== 'float32') throw new Error(`saveNebChain: ${where} must be float32, found ${tensor.dtype}`);
  return { shape: tensor.shape, data: await tensor.data() };
}

/** Writes `chain` (and optionally how it was made) to `path` atomically. The chain is not disposed. */
export async function saveNebChain(path: string, chain: NebChain, info: NebChainInfo = {}): Promise<void> {
  if (chain.pivots.length < 2) throw new Error(`saveNebChain: a chain needs at least its two endpoints, found ${chain.pivots.length} pivots`);
  const tensors = new Map<string, SafetensorsTensorToWrite>();
  for (const [i, pivot] of chain.pivots.entries()) {
    if (pivot.rank !== 1 || pivot.shape[0] !== chain.layout.total) {
      throw new Error(`saveNebChain: pivot ${i} has shape [${pivot.shape.join(', ')}], the layout expects [${chain.layout.total}]`);
    }
    tensors.set(pivotKey(i), await toWrite(pivot, `pivot ${i}`));
  }
  for (const [prefix, buffers] of [['start', chain.endpointBuffers[0]], ['end', chain.endpointBuffers[1]]] as const) {
    for (const [name, tensor] of buffers) tensors.set(`${prefix}.${name}`, await toWrite(tensor, `buffer "${prefix}.${name}"`));
  }
  const metadata: Record<string, string> = {
    format: NEB_FORMAT,
    version: VERSION,
    architecture: chain.architecture,
    config: JSON.stringify(chain.config),
    params: JSON.stringify(chain.layout.names),
    shapes: JSON.stringify(chain.layout.shapes),
    buffers: JSON.stringify([...chain.endpointBuffers[0].keys()]),
    pivots: String(chain.pivots.length),
  };
  if (info.cycles !== undefined) metadata.cycles = JSON.stringify(info.cycles);
  await writeSafetensors(path, tensors, metadata);
}

function readLayout(path: string, metadata: Readonly<Record<string, string>>): FlatLayout {
  const names = stringListField(path, 'params', parseJsonField(path, 'params', metadata.params));
  const shapes = parseJsonField(path, 'shapes', metadata.shapes);
  const isShape = (s: unknown): s is number[] => Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
  if (!Array.isArray(shapes) || shapes.length !== names.length || !shapes.every(isShape)) {
    throw new Error(`${path}: metadata field "shapes" must be a JSON list of ${names.length} shapes (one per name in "params")`);
  }
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  return { names, shapes, sizes, total: sizes.reduce((a, b) => a + b, 0) };
}

function readCycles(path: string, text: string): NebCycleRow[] {
  const value = parseJsonField(path, 'cycles', text);
  const isRow = (row: unknown): boolean =>
    typeof row === 'object' && row !== null && CYCLE_FIELDS.every((f) => typeof (row as Record<string, unknown>)[f] === 'number' || (row as Record<string, unknown>)[f] === null);
  if (!Array.isArray(value) || !value.every(isRow)) throw new Error(`${path}: metadata field "cycles" must be a JSON list of rows with ${CYCLE_FIELDS.join(', ')}`);
  return value.map((row: Record<string, number | null>) => Object.fromEntries(CYCLE_FIELDS.map((f) => [f, row[f] ?? Number.NaN])) as unknown as NebCycleRow);
}

/**
 * Reads a chain saved by `saveNebChain`. The config comes back as stored (validate it with the
 * architecture's `parseConfig`). Errors name the file and the missing field or tensor; nothing
 * leaks on failure. The caller disposes the chain (`disposeNebChain`, or `nebPath(…).dispose()`).
 */
export async function loadNebChain(path: string): Promise<SavedNebChain> {
  const { tensors, metadata } = await readSafetensors(path);
  if (metadata.format !== NEB_FORMAT) {
    throw new Error(`${path}: not an AutoNEB chain (metadata format is ${metadata.format === undefined ? 'missing' : `"${metadata.format}"`}, expected "${NEB_FORMAT}")`);
  }
  if (metadata.version !== VERSION) throw new Error(`${path}: AutoNEB chain version ${metadata.version ?? '(missing)'} is not supported (expected ${VERSION})`);
  const architecture = metadata.architecture;
  if (architecture === undefined || !hasArchitecture(architecture)) {
    throw new Error(`${path}: unknown architecture "${architecture}"; expected one of ${listArchitectures().join(', ')} (the registered architectures)`);
  }
  const config = parseJsonField(path, 'config', metadata.config);
  const layout = readLayout(path, metadata);
  const bufferNames = stringListField(path, 'buffers', parseJsonField(path, 'buffers', metadata.buffers));
  const count = Number(metadata.pivots);
  if (!Number.isInteger(count) || count < 2) throw new Error(`${path}: metadata field "pivots" must be an integer ≥ 2, found ${metadata.pivots}`);
  const info: NebChainInfo = metadata.cycles === undefined ? {} : { cycles: readCycles(path, metadata.cycles) };
  const created: tf.Tensor[] = [];
  const take = (key: string, expectedShape?: readonly number[]): tf.Tensor => {
    const entry = tensors.get(key);
    if (entry === undefined) throw new Error(`${path}: tensor "${key}" is missing`);
    if (expectedShape !== undefined && (entry.shape.length !== expectedShape.length || entry.shape.some((d, k) => d !== expectedShape[k]))) {
      throw new Error(`${path}: tensor "${key}" has shape [${entry.shape.join(', ')}], expected [${expectedShape.join(', ')}] (the layout's ${layout.names.length} tensors)`);
    }
    const tensor = tf.tensor(entry.data, [...entry.shape], 'float32');
    created.push(tensor);
    return tensor;
  };
  try {
    const pivots = Array.from({ length: count }, (_, i) => take(pivotKey(i), [layout.total]) as tf.Tensor1D);
    const endpointBuffers: [TensorMap, TensorMap] = [
      new Map(bufferNames.map((name) => [name, take(`start.${name}`)])),
      new Map(bufferNames.map((name) => [name, take(`end.${name}`)])),
    ];
    return { architecture: architecture, config, layout, pivots, endpointBuffers, info };
  } catch (error) {
    tf.dispose(created);
    throw error;
  }
}
