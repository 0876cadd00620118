/**
 * Native checkpoints: one safetensors file holding a model's parameters and BatchNorm buffers
 * (our names, TensorFlow layouts) and its metadata (see metadata.ts) in `__metadata__`.
 *
 * Loading, in order:
 *   1. read and validate the safetensors file (truncation, offsets, NaN/Inf — errors name the file);
 *   2. a native file (`format: mode-connectivity`) gives architecture and config; a foreign file
 *      goes to the PyTorch importer, with the architecture from the options or the tensor names;
 *   3. check every tensor against `getArchitecture(architecture).spec(config)` — all problems in one
 *      error — and only then create tf tensors: never a partial load.
 *
 * @example
 * await saveCheckpoint('run1.safetensors', model, { dataset: 'fashion-mnist', seed: 1, epoch: 10 });
 * const { model, metadata } = await loadCheckpoint('run1.safetensors');
 */
import { getArchitecture } from '../models/registry.js';
import type { Model } from '../models/types.js';
import {
  decodeCheckpointMetadata,
  encodeCheckpointMetadata,
  isNativeCheckpointMetadata,
  type CheckpointInfo,
  type CheckpointMetadata,
} from './metadata.js';
import { modelFromTensors, tensorsToArrays } from './model-tensors.js';
import { importPyTorchStateDict } from './pytorch.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

/** How to read a checkpoint file. */
export type CheckpointFileFormat = 'native' | 'pytorch';

export interface LoadCheckpointOptions {
  /**
   * Architecture name. Required by nothing: native files name theirs (a different name here is an
   * error) and PyTorch files are recognized by their tensor names; give it for files that are not.
   */
  readonly architecture?: string;
  /**
   * Config (fields). Native files: must agree with the file's config when given. PyTorch files:
   * fields not given are inferred from the tensor shapes.
   */
  readonly config?: unknown;
  /** `auto` (default): native when the file's metadata says so, PyTorch otherwise. */
  readonly format?: CheckpointFileFormat | 'auto';
  /** Accept NaN/±Inf values (default false). */
  readonly allowNonFinite?: boolean;
}

export interface LoadedCheckpoint {
  readonly model: Model;
  /** For foreign files: the architecture and the config found, nothing else. */
  readonly metadata: CheckpointMetadata;
  /** How the file was read. */
  readonly format: CheckpointFileFormat;
  /** The file's raw `__metadata__` map. */
  readonly fileMetadata: Readonly<Record<string, string>>;
}

/**
 * Saves `model` with its architecture, config and `info` as a native checkpoint at `path`,
 * atomically (a failed save leaves any previous file intact). `createdAt` defaults to now.
 */
export async function saveCheckpoint(path: string, model: Model, info: CheckpointInfo = {}): Promise<void> {
  const arch = getArchitecture(model.architecture);
  // Normalizes the config (and checks it) so that what is written is what a load will parse.
  const config = arch.parseConfig(model.config);
  const metadata = encodeCheckpointMetadata({ ...info, architecture: arch.name, config, createdAt: info.createdAt ?? new Date().toISOString() });
  const tensors = await tensorsToArrays(model.params, model.buffers);
  await writeSafetensors(path, tensors, metadata as unknown as Record<string, string>);
}

/** Loads a native checkpoint or a PyTorch state dict saved as safetensors (see the module comment). */
export async function loadCheckpoint(path: string, options: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const contents = await readSafetensors(path, options.allowNonFinite === true ? { allowNonFinite: true } : {});
  const native = isNativeCheckpointMetadata(contents.metadata);
  const format = options.format === undefined || options.format === 'auto' ? (native ? 'native' : 'pytorch') : options.format;

  if (format === 'pytorch') {
    const model = importPyTorchStateDict(contents.tensors, {
      ...(options.architecture === undefined ? {} : { architecture: options.architecture }),
      ...(options.config === undefined ? {} : { config: options.config }),
      source: path,
    });
    return { model, metadata: { architecture: model.architecture, config: model.config }, format, fileMetadata: contents.metadata };
  }

  if (!native) {
    throw new Error(`${path} is not a native mode-connectivity checkpoint (its metadata has no "format": "mode-connectivity"); load it as a PyTorch state dict instead`);
  }
  const metadata = decodeCheckpointMetadata(contents.metadata, path);
  if (options.architecture !== undefined && options.architecture !== metadata.architecture) {
    throw new Error(`${path} holds a ${metadata.architecture} checkpoint, but architecture ${options.architecture} was asked for`);
  }
  const arch = getArchitecture(metadata.architecture);
  let config: unknown;
  try {
    config = arch.parseConfig(metadata.config);
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
  if (options.config !== undefined) {
    const asked = arch.parseConfig(options.config);
    if (JSON.stringify(asked) !== JSON.stringify(config)) {
      throw new Error(`${path} holds a ${arch.name} with config ${JSON.stringify(config)}, but config ${JSON.stringify(asked)} was asked for`);
    }
  }
  const model = modelFromTensors(arch, config, contents.tensors, path);
  return { model, metadata: { ...metadata, config }, format, fileMetadata: contents.metadata };
}
