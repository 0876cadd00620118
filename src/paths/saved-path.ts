/**
 * One file format for every saved path (linear, curve, AutoNEB chain, LLPF run): a safetensors
 * file whose metadata is checked against a JSON schema on load.
 *
 * Tensors: every model state of the path under its role, in one layout for all methods:
 *   `{role}/params/{name}` and `{role}/buffers/{name}`
 * with roles `start`/`end` (linear), `bend{i}` (curve), `pivot{i}` (AutoNEB), `point{k}` (LLPF).
 * Metadata (strings; the JSON ones parsed, then validated as one object):
 *   format `modeconn-path`, version `1`, method (`linear` | `curve` | `autoneb` | `llpf`), kind
 *   (the path's label), architecture, config (JSON), params and buffers (JSON name lists in model
 *   order), states (JSON role list, in path order), fields (JSON: the method's own, e.g. a curve's
 *   kind and trainable flags, the LLPF ticks), info (JSON: how the path was made, e.g. AutoNEB's
 *   cycle rows; non-finite numbers are stored as null and come back as NaN) and completed
 *   (`true` | `false`).
 *
 * Migration: the earlier single-method files (`modeconn-curve` version 1 from `saveCurve`,
 * `modeconn-neb` version 1 from `saveNebChain`) are read by `loadPath` as they are; any other
 * format or version is an error that names both. Writes are atomic (temporary file + rename).
 *
 * @example
 * await savePath('bezier.safetensors', path, { info });
 * const { path: again } = await loadPath('bezier.safetensors');
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Ajv } from 'ajv';
import { readSafetensors, readSafetensorsHeader, writeSafetensors, type SafetensorsContents, type SafetensorsTensorToWrite } from '../checkpoint/safetensors.js';
import { disposeTensors } from '../models/tensor-map.js';
import { hasArchitecture, listArchitectures } from '../models/registry.js';
import type { ModelState, TensorMap } from '../models/types.js';
import type { LlpfRow } from '../rows/rows.js';
import { disposeNebChain, nebPath } from './autoneb.js';
import { CURVE_FORMAT, loadCurve } from './curve-checkpoint.js';
import { CURVE_KINDS, curvePath, type CurveKind } from './curve.js';
import { flatLayout, flattenParams } from './flat-params.js';
import { linearPath } from './linear-path.js';
import { llpfPath } from './llpf.js';
import { loadNebChain, NEB_FORMAT } from './neb-checkpoint.js';
import type { ParameterPath, PathContent, PathResult } from './path.js';

export const PATH_FORMAT = 'modeconn-path';
export const PATH_VERSION = 1;
/** The methods a saved path can come from. */
export const PATH_METHODS = ['linear', 'curve', 'autoneb', 'llpf'] as const;
export type PathMethod = (typeof PATH_METHODS)[number];
/** The file an LLPF run folder holds its path in (`loadPath(folder)` reads it). */
export const LLPF_PATH_FILE = 'path.safetensors';

/** The metadata of a path file once its JSON fields are parsed. */
export interface PathHeader {
  readonly format: string;
  readonly version: number;
  readonly method: PathMethod;
  readonly kind: string;
  readonly architecture: string;
  readonly config: unknown;
  readonly params: string[];
  readonly buffers: string[];
  readonly states: string[];
  readonly fields: Record<string, unknown>;
  readonly info: Record<string, unknown>;
  readonly completed: boolean;
}

/** JSON schema of `PathHeader` (draft-07, checked with ajv). */
export const PATH_HEADER_SCHEMA = {
  type: 'object',
  required: ['format', 'version', 'method', 'kind', 'architecture', 'config', 'params', 'buffers', 'states', 'fields', 'info', 'completed'],
  additionalProperties: false,
  properties: {
    format: { type: 'string', const: PATH_FORMAT },
    version: { type: 'integer', const: PATH_VERSION },
    method: { type: 'string', enum: [...PATH_METHODS] },
    kind: { type: 'string', minLength: 1 },
    architecture: { type: 'string', minLength: 1 },
    config: { type: ['object', 'null'] },
    params: { type: 'array', items: { type: 'string' }, minItems: 1, uniqueItems: true },
    buffers: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    states: { type: 'array', items: { type: 'string', pattern: '^[a-z]+[0-9]*$' }, minItems: 2, uniqueItems: true },
    fields: { type: 'object' },
    info: { type: 'object' },
    completed: { type: 'boolean' },
  },
} as const;

/** The method fields, by method (what `fields` must hold). */
const FIELD_SCHEMAS: Record<PathMethod, object> = {
  linear: { type: 'object', additionalProperties: false },
  curve: {
    type: 'object',
    required: ['kind', 'trainable'],
    additionalProperties: false,
    properties: { kind: { type: 'string', enum: [...CURVE_KINDS] }, trainable: { type: 'array', items: { type: 'boolean' } } },
  },
  autoneb: { type: 'object', additionalProperties: false },
  llpf: { type: 'object', required: ['ticks'], additionalProperties: false, properties: { ticks: { type: 'array', items: { type: 'integer', minimum: 0 } } } },
};

/** The roles a method's states must have, in order, for `count` states. */
function expectedRoles(method: PathMethod, count: number): string[] {
  if (method === 'linear') return ['start', 'end'];
  const prefix = method === 'curve' ? 'bend' : method === 'autoneb' ? 'pivot' : 'point';
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

export interface SavePathOptions {
  /** How the path was made (JSON values; e.g. `PathResult.info`). Non-finite numbers are stored as null. */
  readonly info?: object;
  /** Whether the method ran to the end (default true). */
  readonly completed?: boolean;
}

/** JSON that keeps NaN/±Infinity as null (JSON has no such numbers). */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

/**
 * Writes `path` to `file` atomically in the format of the file comment. The path stays the
 * caller's (not disposed). Throws for a path without `content()` (e.g. a hand-made test path).
 */
export async function savePath(file: string, path: ParameterPath, options: SavePathOptions = {}): Promise<void> {
  if (path.content === undefined) throw new Error(`savePath: the ${path.kind} path has no content() to save`);
  const content: PathContent = path.content();
  try {
    if (!(PATH_METHODS as readonly string[]).includes(content.method)) throw new Error(`savePath: unknown method "${content.method}"; expected one of ${PATH_METHODS.join(', ')}`);
    const first = content.states.values().next().value;
    if (first === undefined) throw new Error(`savePath: the ${path.kind} path has no states`);
    const params = [...first.params.keys()];
    const buffers = [...[...content.states.values()].find((s) => s.buffers.size > 0)?.buffers.keys() ?? []];
    const tensors = new Map<string, SafetensorsTensorToWrite>();
    for (const [role, state] of content.states) {
      for (const [group, map] of [['params', state.params], ['buffers', state.buffers]] as const) {
        for (const [name, tensor] of map) {
          if (tensor.dtype !== 'float32') throw new Error(`savePath: ${role}/${group}/${name} is ${tensor.dtype}, only float32 tensors are saved`);
          tensors.set(`${role}/${group}/${name}`, { shape: tensor.shape, data: await tensor.data() });
        }
      }
    }
    const metadata: Record<string, string> = {
      format: PATH_FORMAT,
      version: String(PATH_VERSION),
      method: content.method,
      kind: path.kind,
      architecture: path.architecture,
      config: toJson(path.config ?? null),
      params: JSON.stringify(params),
      buffers: JSON.stringify(buffers),
      states: JSON.stringify([...content.states.keys()]),
      fields: toJson(content.fields),
      info: toJson(options.info ?? {}),
      completed: String(options.completed ?? true),
    };
    await writeSafetensors(file, tensors, metadata);
  } finally {
    for (const state of content.states.values()) disposeTensors(state.params, state.buffers);
  }
}

/** The header of a path file: format and version first (named in the error), then the schema. */
export function parsePathHeader(file: string, metadata: Readonly<Record<string, string>>): PathHeader {
  const format = metadata.format;
  const version = metadata.version;
  if (format !== PATH_FORMAT || version !== String(PATH_VERSION)) {
    throw new Error(
      `${file}: not a saved path of this version (metadata format ${format === undefined ? 'missing' : `"${format}"`}, version ${version === undefined ? 'missing' : `"${version}"`}); ` +
        `expected format "${PATH_FORMAT}" version ${PATH_VERSION}, or a ${CURVE_FORMAT} / ${NEB_FORMAT} version 1 file`,
    );
  }
  const json = (field: string, reviver?: (key: string, value: unknown) => unknown): unknown => {
    const text = metadata[field];
    if (text === undefined) throw new Error(`${file}: metadata field "${field}" is missing`);
    try {
      return JSON.parse(text, reviver) as unknown;
    } catch {
      throw new Error(`${file}: metadata field "${field}" is not valid JSON: ${text.slice(0, 80)}`);
    }
  };
  const header: Record<string, unknown> = {
    format,
    version: PATH_VERSION,
    method: metadata.method,
    kind: metadata.kind,
    architecture: metadata.architecture,
    config: json('config'),
    params: json('params'),
    buffers: json('buffers'),
    states: json('states'),
    fields: json('fields'),
    info: json('info', (key, value) => (value === null && key !== '' ? Number.NaN : value)),
    completed: metadata.completed === 'true' ? true : metadata.completed === 'false' ? false : metadata.completed,
  };
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
  const validate = ajv.compile(PATH_HEADER_SCHEMA);
  if (!validate(header)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? 'metadata' : `metadata field "${e.instancePath.slice(1).split('/')[0]}"`} ${e.message ?? 'is invalid'}`);
    throw new Error(`${file}: invalid path metadata: ${problems.join('; ')}`);
  }
  const method = header.method as PathMethod;
  const validateFields = ajv.compile(FIELD_SCHEMAS[method]);
  if (!validateFields(header.fields)) {
    const problems = (validateFields.errors ?? []).map((e) => `${e.instancePath === '' ? '' : `${e.instancePath.slice(1)} `}${e.message ?? 'is invalid'}`);
    throw new Error(`${file}: metadata field "fields" of a ${method} path: ${problems.join('; ')}`);
  }
  const states = header.states as string[];
  const roles = expectedRoles(method, states.length);
  if (states.length !== roles.length || states.some((s, i) => s !== roles[i])) {
    throw new Error(`${file}: metadata field "states" of a ${method} path must be [${roles.join(', ')}], found [${states.join(', ')}]`);
  }
  const fields = header.fields as Record<string, unknown>;
  const perState = method === 'curve' ? 'trainable' : method === 'llpf' ? 'ticks' : undefined;
  if (perState !== undefined && (fields[perState] as unknown[]).length !== states.length) {
    throw new Error(`${file}: metadata field "fields" has ${(fields[perState] as unknown[]).length} ${perState} entries for ${states.length} states`);
  }
  if (typeof header.architecture !== 'string' || !hasArchitecture(header.architecture)) {
    throw new Error(`${file}: unknown architecture "${String(header.architecture)}"; expected one of the registered architectures (${listArchitectures().join(', ')}), or register it first`);
  }
  return header;
}

/** The states of the file as tensors, checked: every parameter in every state, one shape per name. */
function readStates(file: string, header: PathHeader, contents: SafetensorsContents): ModelState[] {
  const shapes = new Map<string, readonly number[]>();
  const created: tf.Tensor[] = [];
  const take = (key: string, name: string): tf.Tensor => {
    const entry = contents.tensors.get(key);
    if (entry === undefined) throw new Error(`${file}: tensor "${key}" is missing`);
    const shape = shapes.get(name);
    if (shape !== undefined && (shape.length !== entry.shape.length || shape.some((d, k) => d !== entry.shape[k]))) {
      throw new Error(`${file}: tensor "${key}" has shape [${entry.shape.join(', ')}], the other states have [${shape.join(', ')}]`);
    }
    shapes.set(name, entry.shape);
    const tensor = tf.tensor(entry.data, [...entry.shape], 'float32');
    created.push(tensor);
    return tensor;
  };
  const known = new Set(header.states.flatMap((role) => [...header.params.map((n) => `${role}/params/${n}`), ...header.buffers.map((n) => `${role}/buffers/${n}`)]));
  const unexpected = [...contents.tensors.keys()].filter((key) => !known.has(key));
  if (unexpected.length > 0) throw new Error(`${file}: unexpected tensors ${unexpected.slice(0, 5).map((k) => `"${k}"`).join(', ')}${unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : ''}`);
  try {
    return header.states.map((role) => {
      const params: TensorMap = new Map(header.params.map((n) => [n, take(`${role}/params/${n}`, `params/${n}`)]));
      const present = header.buffers.filter((n) => contents.tensors.has(`${role}/buffers/${n}`));
      if (present.length !== 0 && present.length !== header.buffers.length) {
        throw new Error(`${file}: state "${role}" holds ${present.length} of the ${header.buffers.length} buffers; a state holds all or none`);
      }
      const buffers: TensorMap = new Map(present.map((n) => [n, take(`${role}/buffers/${n}`, `buffers/${n}`)]));
      return { params, buffers };
    });
  } catch (error) {
    tf.dispose(created);
    throw error;
  }
}

/** The LLPF tick rows kept in `info.rows` (when savePath was given them), checked for their fields. */
function llpfRows(file: string, info: Record<string, unknown>): LlpfRow[] {
  const rows = info['rows'];
  if (rows === undefined) return [];
  const isRow = (row: unknown): row is LlpfRow =>
    typeof row === 'object' && row !== null && typeof (row as Record<string, unknown>)['split'] === 'string' && typeof (row as Record<string, unknown>)['tick'] === 'number';
  if (!Array.isArray(rows) || !rows.every(isRow)) throw new Error(`${file}: metadata field "info" has "rows" that are not LLPF rows (tick, split, …)`);
  return rows;
}

function pathFrom(file: string, header: PathHeader, states: ModelState[]): ParameterPath {
  const architecture = header.architecture;
  const config = header.config;
  const first = states[0] as ModelState;
  const last = states.at(-1) as ModelState;
  const endBuffers = (where: string): [TensorMap, TensorMap] => {
    if (first.buffers.size !== header.buffers.length || last.buffers.size !== header.buffers.length) throw new Error(`${file}: the ${where} lack their BatchNorm buffers`);
    return [first.buffers, last.buffers];
  };
  switch (header.method) {
    case 'linear': {
      const path = linearPath({ architecture, config, ...first }, { architecture, config, ...last });
      disposeTensors(...states);
      return path;
    }
    case 'curve': {
      const trainable = header.fields['trainable'] as boolean[];
      return curvePath({ kind: header.fields['kind'] as CurveKind, architecture, config, bends: states.map((s) => s.params), trainable, endpointBuffers: endBuffers('end bends') });
    }
    case 'autoneb': {
      const layout = flatLayout(first.params);
      const pivots = states.map((s) => flattenParams(s.params, layout));
      const endpointBuffers = endBuffers('end pivots');
      states.forEach((s, i) => disposeTensors(s.params, i === 0 || i === states.length - 1 ? new Map() : s.buffers));
      return nebPath({ architecture, config, layout, pivots, endpointBuffers });
    }
    case 'llpf': {
      const ticks = header.fields['ticks'] as number[];
      const points = states.map((state, k) => ({ tick: ticks[k] as number, state }));
      return llpfPath({ architecture, config, points, rows: llpfRows(file, header.info), iterations: 0, current: last, tick: ticks.at(-1) as number, completed: header.completed });
    }
  }
}

/**
 * Reads a path saved by `savePath` (or an LLPF run folder holding `path.safetensors`, or a
 * legacy curve / AutoNEB file, see the file comment). The path owns its tensors; `info` is what
 * `savePath` was given. Errors name the file and the field or tensor; nothing leaks on failure.
 */
export async function loadPath(file: string): Promise<PathResult<Record<string, unknown>>> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(file)).isDirectory();
  } catch {
    throw new Error(`loadPath: ${file} does not exist`);
  }
  const source = isDirectory ? join(file, LLPF_PATH_FILE) : file;
  if (isDirectory) {
    try {
      await stat(source);
    } catch {
      throw new Error(`loadPath: ${file} is a folder without ${LLPF_PATH_FILE} (an LLPF run folder of an earlier version: read it with loadLlpfPath(folder, template))`);
    }
  }
  const { metadata } = await readSafetensorsHeader(source);
  const format = metadata.format;
  if (format === CURVE_FORMAT && metadata.version === '1') {
    const saved = await loadCurve(source);
    if (saved.training !== undefined) disposeTensors(saved.training.slots);
    return { path: curvePath(saved.curve), completed: true, info: {} };
  }
  if (format === NEB_FORMAT && metadata.version === '1') {
    const chain = await loadNebChain(source);
    try {
      return { path: nebPath(chain), completed: true, info: chain.info.cycles === undefined ? {} : { cycles: chain.info.cycles } };
    } catch (error) {
      disposeNebChain(chain);
      throw error;
    }
  }
  parsePathHeader(source, metadata);
  const contents = await readSafetensors(source);
  const header = parsePathHeader(source, contents.metadata);
  const states = readStates(source, header, contents);
  try {
    return { path: pathFrom(source, header, states), completed: header.completed, info: header.info };
  } catch (error) {
    disposeTensors(...states);
    throw error;
  }
}
