/**
 * The resumable state of a training run in one safetensors file, written atomically: parameters
 * (`param/<name>`), BatchNorm buffers (`buffer/<name>`) and optimizer slots (`slot/<name>`), with
 * the completed epoch, the optimizer step count and the run's recipe (`recipe`, JSON: the options
 * that decide the result, compared on resume) in the metadata.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, writeSafetensors, type SafetensorsTensorToWrite } from '../checkpoint/safetensors.js';
import type { ModelState, TensorMap } from '../models/types.js';
import type { Recipe } from '../util/resume-check.js';

export interface TrainState {
  readonly state: ModelState;
  readonly slots: Map<string, tf.Tensor>;
  readonly epoch: number;
  readonly optimizerSteps: number;
  /** The recipe the state was written with (absent in states written before recipes were recorded). */
  readonly recipe?: Recipe;
}

const PREFIXES = { param: 'param/', buffer: 'buffer/', slot: 'slot/' } as const;

/** Writes the state atomically. */
export async function saveTrainState(path: string, state: ModelState, slots: TensorMap, epoch: number, optimizerSteps: number, recipe?: Recipe): Promise<void> {
  const tensors = new Map<string, SafetensorsTensorToWrite>();
  // Asynchronous reads: the webgpu backend cannot read a GPU tensor synchronously in Node.
  for (const [prefix, map] of [[PREFIXES.param, state.params], [PREFIXES.buffer, state.buffers], [PREFIXES.slot, slots]] as const) {
    for (const [name, t] of map) tensors.set(prefix + name, { shape: t.shape, data: await t.data() });
  }
  await writeSafetensors(path, tensors, {
    format: 'mode-connectivity/train-state@1',
    epoch: String(epoch),
    optimizerSteps: String(optimizerSteps),
    ...(recipe === undefined ? {} : { recipe: JSON.stringify(recipe) }),
  });
}

/** Reads a state written by `saveTrainState`; errors name the file. */
export async function loadTrainState(path: string): Promise<TrainState> {
  const contents = await readSafetensors(path);
  if (contents.metadata['format'] !== 'mode-connectivity/train-state@1') {
    throw new Error(`${path}: not a training state file (metadata format is "${contents.metadata['format'] ?? 'missing'}")`);
  }
  const epoch = Number(contents.metadata['epoch']);
  const optimizerSteps = Number(contents.metadata['optimizerSteps']);
  if (!Number.isInteger(epoch) || epoch < 1 || !Number.isInteger(optimizerSteps) || optimizerSteps < 0) {
    throw new Error(`${path}: expected a positive integer epoch and a step count in the metadata, found epoch "${contents.metadata['epoch']}", optimizerSteps "${contents.metadata['optimizerSteps']}"`);
  }
  const recipe = parseRecipe(contents.metadata['recipe'], path);
  const params = new Map<string, tf.Tensor>();
  const buffers = new Map<string, tf.Tensor>();
  const slots = new Map<string, tf.Tensor>();
  for (const [key, t] of contents.tensors) {
    const target = key.startsWith(PREFIXES.param) ? params : key.startsWith(PREFIXES.buffer) ? buffers : key.startsWith(PREFIXES.slot) ? slots : undefined;
    if (target === undefined) throw new Error(`${path}: unexpected tensor "${key}" in a training state file`);
    target.set(key.slice(key.indexOf('/') + 1), tf.tensor(t.data, [...t.shape], 'float32'));
  }
  return { state: { params, buffers }, slots, epoch, optimizerSteps, ...(recipe === undefined ? {} : { recipe }) };
}

function parseRecipe(raw: string | undefined, path: string): Recipe | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new Error(`${path}: the recipe in the metadata is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${path}: the recipe in the metadata is not a JSON object`);
  return value as Recipe;
}
