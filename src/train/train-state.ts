/**
 * The resumable state of a training run in one safetensors file, written atomically: parameters
 * (`param/<name>`), BatchNorm buffers (`buffer/<name>`) and optimizer slots (`slot/<name>`), with
 * the completed epoch and optimizer step count in the metadata.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, writeSafetensors, type SafetensorsTensorToWrite } from '../checkpoint/safetensors.js';
import type { ModelState, TensorMap } from '../models/types.js';

export interface TrainState {
  readonly state: ModelState;
  readonly slots: Map<string, tf.Tensor>;
  readonly epoch: number;
  readonly optimizerSteps: number;
}

const PREFIXES = { param: 'param/', buffer: 'buffer/', slot: 'slot/' } as const;

/** Writes the state atomically. */
export async function saveTrainState(path: string, state: ModelState, slots: TensorMap, epoch: number, optimizerSteps: number): Promise<void> {
  const tensors = new Map<string, SafetensorsTensorToWrite>();
  // Asynchronous reads: the webgpu backend cannot read a GPU tensor synchronously in Node.
  for (const [prefix, map] of [[PREFIXES.param, state.params], [PREFIXES.buffer, state.buffers], [PREFIXES.slot, slots]] as const) {
    for (const [name, t] of map) tensors.set(prefix + name, { shape: t.shape, data: await t.data() });
  }
  await writeSafetensors(path, tensors, { format: 'mode-connectivity/train-state@1', epoch: String(epoch), optimizerSteps: String(optimizerSteps) });
}

/** Reads a state written by `saveTrainState`; errors name the file. */
export async function loadTrainState(path: string): Promise<TrainState> {
  const contents = await readSafetensors(path);
  if (contents.metadata['format'] !== 'mode-connectivity/train-state@1') {
    throw new Error(`${path}: not a training state file (metadata format is "${contents.metadata['format'] ?? 'missing'}")`);
  }
  const params = new Map<string, tf.Tensor>();
  const buffers = new Map<string, tf.Tensor>();
  const slots = new Map<string, tf.Tensor>();
  for (const [key, t] of contents.tensors) {
    const target = key.startsWith(PREFIXES.param) ? params : key.startsWith(PREFIXES.buffer) ? buffers : key.startsWith(PREFIXES.slot) ? slots : undefined;
    if (target === undefined) throw new Error(`${path}: unexpected tensor "${key}" in a training state file`);
    target.set(key.slice(key.indexOf('/') + 1), tf.tensor(t.data, [...t.shape], 'float32'));
  }
  return { state: { params, buffers }, slots, epoch: Number(contents.metadata['epoch']), optimizerSteps: Number(contents.metadata['optimizerSteps']) };
}
