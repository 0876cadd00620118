/**
 * Saving and loading a curve (Garipov et al. 2018) as one safetensors file.
 *
 * Tensors: `bend{i}.{name}` for every bend i (endpoints included, so the file is self-contained),
 * `start.{name}` / `end.{name}` for the endpoints' BatchNorm running statistics, and, when a
 * training state is saved, `slot.{key}` for the optimizer's momentum buffers. Metadata (all strings):
 * `format` = `modeconn-curve`, `version` = `1`, `kind`, `bends`, `trainable` (JSON booleans),
 * `architecture`, `config` (JSON), `params` and `buffers` (JSON name lists, in model order), and
 * `step` with a training state. Writes are atomic (temporary file + rename).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, writeSafetensors, type SafetensorsTensorToWrite } from '../checkpoint/safetensors.js';
import { hasArchitecture, listArchitectures } from '../models/registry.js';
import type { TensorMap } from '../models/types.js';
import { parseCurveKind, type Curve } from './curve.js';
import { bendKey, type CurveTrainingState } from './train-curve.js';
import { parseJsonField, stringListField } from './saved-metadata.js';

export const CURVE_FORMAT = 'modeconn-curve';
const VERSION = '1';

export interface SavedCurve {
  readonly curve: Curve;
  /** Present when the file was saved with a training state (to resume `trainCurve`). */
  readonly training?: CurveTrainingState;
}

async function toWrite(tensor: tf.Tensor): Promise<SafetensorsTensorToWrite> {
  if (tensor.dtype !== 'float32') throw new Error(`saveCurve: expected float32 tensors, found ${tensor.dtype}`);
  return { shape: tensor.shape, data: (await tensor.data()) };
}

/** Writes `curve` (and optionally the training state) to `path` atomically. */
export async function saveCurve(path: string, curve: Curve, training?: CurveTrainingState): Promise<void> {
  const first = curve.bends[0];
  if (first === undefined) throw new Error('saveCurve: the curve has no bends');
  const tensors = new Map<string, SafetensorsTensorToWrite>();
  for (const [i, bend] of curve.bends.entries()) {
    for (const [name, tensor] of bend) tensors.set(bendKey(i, name), await toWrite(tensor));
  }
  for (const [prefix, buffers] of [['start', curve.endpointBuffers[0]], ['end', curve.endpointBuffers[1]]] as const) {
    for (const [name, tensor] of buffers) tensors.set(`${prefix}.${name}`, await toWrite(tensor));
  }
  if (training !== undefined) for (const [key, tensor] of training.slots) tensors.set(`slot.${key}`, await toWrite(tensor));
  const metadata: Record<string, string> = {
    format: CURVE_FORMAT,
    version: VERSION,
    kind: curve.kind,
    bends: String(curve.bends.length),
    trainable: JSON.stringify(curve.trainable),
    architecture: curve.architecture,
    config: JSON.stringify(curve.config),
    params: JSON.stringify([...first.keys()]),
    buffers: JSON.stringify([...curve.endpointBuffers[0].keys()]),
  };
  if (training !== undefined) metadata.step = String(training.step);
  await writeSafetensors(path, tensors, metadata);
}

/**
 * Reads a curve saved by `saveCurve`. The config comes back as stored (validate it with the
 * architecture's `parseConfig`). Errors name the file and the missing field or tensor.
 */
export async function loadCurve(path: string): Promise<SavedCurve> {
  const { tensors, metadata } = await readSafetensors(path);
  if (metadata.format !== CURVE_FORMAT) {
    throw new Error(`${path}: not a curve checkpoint (metadata format is ${metadata.format === undefined ? 'missing' : `"${metadata.format}"`}, expected "${CURVE_FORMAT}")`);
  }
  if (metadata.version !== VERSION) throw new Error(`${path}: curve checkpoint version ${metadata.version ?? '(missing)'} is not supported (expected ${VERSION})`);
  const kind = parseCurveKind(metadata.kind ?? '', `${path}: metadata field "kind"`);
  const count = Number(metadata.bends);
  if (!Number.isInteger(count) || count < 2) throw new Error(`${path}: metadata field "bends" must be an integer ≥ 2, found ${metadata.bends}`);
  const trainable = parseJsonField(path, 'trainable', metadata.trainable);
  if (!Array.isArray(trainable) || trainable.length !== count || !trainable.every((v) => typeof v === 'boolean')) {
    throw new Error(`${path}: metadata field "trainable" must be a JSON list of ${count} booleans`);
  }
  const architecture = metadata.architecture;
  if (architecture === undefined || !hasArchitecture(architecture)) {
    throw new Error(`${path}: unknown architecture "${architecture}"; expected one of ${listArchitectures().join(', ')} (the registered architectures)`);
  }
  const config = parseJsonField(path, 'config', metadata.config);
  const paramNames = stringListField(path, 'params', parseJsonField(path, 'params', metadata.params));
  const bufferNames = stringListField(path, 'buffers', parseJsonField(path, 'buffers', metadata.buffers));
  const created: tf.Tensor[] = [];
  const take = (key: string): tf.Tensor => {
    const entry = tensors.get(key);
    if (entry === undefined) throw new Error(`${path}: tensor "${key}" is missing`);
    const tensor = tf.tensor(entry.data, [...entry.shape], 'float32');
    created.push(tensor);
    return tensor;
  };
  try {
    const bends: TensorMap[] = [];
    for (let i = 0; i < count; i++) bends.push(new Map(paramNames.map((name) => [name, take(bendKey(i, name))])));
    const endpointBuffers: [TensorMap, TensorMap] = [
      new Map(bufferNames.map((name) => [name, take(`start.${name}`)])),
      new Map(bufferNames.map((name) => [name, take(`end.${name}`)])),
    ];
    const curve: Curve = { kind, architecture: architecture, config, bends, trainable: trainable, endpointBuffers };
    if (metadata.step === undefined) return { curve };
    const step = Number(metadata.step);
    if (!Number.isInteger(step) || step < 0) throw new Error(`${path}: metadata field "step" must be a non-negative integer, found ${metadata.step}`);
    const slots = new Map<string, tf.Tensor>();
    for (const key of tensors.keys()) if (key.startsWith('slot.')) slots.set(key.slice('slot.'.length), take(key));
    return { curve, training: { step, slots } };
  } catch (error) {
    for (const tensor of created) tensor.dispose();
    throw error;
  }
}
