/**
 * Importing a TensorFlow.js LayersModel (`model.json` + binary weight shards, as written by
 * `model.save('file://…')` or tensorflowjs_converter) as a LeNet5, without tfjs-layers or
 * tfjs-node: the JSON is parsed and the shards are read here.
 *
 * The format (tfjs-core io, "weights manifest"):
 *   model.json = { format: 'layers-model', modelTopology: {class_name: 'Sequential', config:
 *                  {layers: [{class_name, config}, …]}} (possibly wrapped in `model_config`),
 *                  weightsManifest: [{paths: [shard files], weights: [{name, shape, dtype}]}] }
 *   Each manifest group's shards, concatenated in order, hold its weights back to back in order,
 *   little-endian, row-major; float32 is 4 bytes per value.
 *
 * Keras layouts are already ours (conv kernels HWIO, dense kernels [in, out], Flatten over NHWC
 * in H·W·C order), so weights map by order and shape onto LeNet5's names: the kernel and bias of
 * Conv2D, Conv2D, Dense, Dense, Dense → conv1, conv2, fc1, fc2, fc3. When the topology is
 * present, the layer sequence and its settings (padding, kernel size, pooling, activations,
 * channels_last) are checked against LeNet5, so that a differently wired network is refused
 * rather than silently mis-evaluated.
 */
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep, win32 } from 'node:path';
import { openRegularFile, readAt, type OpenRegularFile } from '../util/regular-file.js';
import { lenet5, type LeNet5Config } from '../models/lenet5/index.js';
import type { Model } from '../models/types.js';
import { modelFromTensors, throwIfProblems } from './model-tensors.js';
import type { SafetensorsTensor } from './safetensors.js';

/** One weight of a manifest group, as stored in model.json. */
export interface TfjsWeightSpecOnDisk {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  /** Present for quantized weights, which this importer refuses. */
  readonly quantization?: unknown;
}

/** One manifest group: shard files and the weights they hold, in order. */
export interface TfjsWeightsGroupOnDisk {
  readonly paths: readonly string[];
  readonly weights: readonly TfjsWeightSpecOnDisk[];
}

/** A Keras layer in the topology. */
export interface TfjsLayerOnDisk {
  readonly class_name: string;
  readonly config: Readonly<Record<string, unknown>>;
}

/** The parts of model.json this importer reads. */
export interface TfjsModelJsonOnDisk {
  readonly format?: string;
  readonly modelTopology?: unknown;
  readonly weightsManifest: readonly TfjsWeightsGroupOnDisk[];
}

export interface ImportTfjsLayersOptions {
  /** LeNet5 config fields; fields not given come from the topology and the weight shapes. */
  readonly config?: Partial<LeNet5Config>;
}

export interface ImportedTfjsLayersModel {
  readonly model: Model<LeNet5Config>;
  /**
   * The activation of the last Dense layer in the topology (`linear` when absent). Our LeNet5
   * returns logits; a `softmax` model's outputs are softmax(logits), with the same argmax.
   */
  readonly finalActivation: string;
}

const OUR_NAMES = ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias'] as const;

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates the manifest part of model.json; errors name `source` and the offending entry. */
export function parseTfjsModelJson(raw: unknown, source: string): TfjsModelJsonOnDisk {
  const fail = (message: string): never => {
    throw new Error(`tfjs model ${source}: ${message}`);
  };
  if (!isRecord(raw)) return fail('model.json is not a JSON object');
  if (raw.format !== undefined && raw.format !== 'layers-model') fail(`format is ${JSON.stringify(raw.format)}, expected "layers-model" (graph models are not supported)`);
  const manifest = raw.weightsManifest;
  if (!Array.isArray(manifest)) return fail('weightsManifest is missing or not a list');
  manifest.forEach((group: unknown, g) => {
    if (!isRecord(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) fail(`weightsManifest[${g}] needs "paths" and "weights" lists`);
    const { paths, weights } = group as { paths: unknown[]; weights: unknown[] };
    if (!paths.every((p) => typeof p === 'string')) fail(`weightsManifest[${g}].paths must be strings`);
    weights.forEach((w, i) => {
      if (!isRecord(w) || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
        fail(`weightsManifest[${g}].weights[${i}] needs a name and a shape of non-negative integers`);
      }
      const spec = w as TfjsWeightSpecOnDisk;
      if (spec.quantization !== undefined) fail(`weight "${spec.name}" is quantized; re-export the model without quantization`);
      if (spec.dtype !== 'float32') fail(`weight "${spec.name}" has dtype ${JSON.stringify(spec.dtype)}, expected float32`);
    });
  });
  return raw as unknown as TfjsModelJsonOnDisk;
}

/** The layers of a Sequential topology, or undefined when model.json has no topology. */
function topologyLayers(topology: unknown, source: string): TfjsLayerOnDisk[] | undefined {
  if (topology === undefined || topology === null) return undefined;
  const root = isRecord(topology) && isRecord(topology.model_config) ? topology.model_config : topology;
  if (!isRecord(root) || root.class_name !== 'Sequential') {
    throw new Error(`tfjs model ${source}: the topology is a ${isRecord(root) ? JSON.stringify(root.class_name) : 'non-object'}, expected a Sequential model`);
  }
  const config = root.config;
  const layers = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
  if (!Array.isArray(layers) || !layers.every((l) => isRecord(l) && typeof l.class_name === 'string' && isRecord(l.config))) {
    throw new Error(`tfjs model ${source}: the Sequential topology has no list of layers with class_name and config`);
  }
  return layers as TfjsLayerOnDisk[];
}

/** Checks a Sequential topology against LeNet5's wiring; returns the final activation and input size. */
function checkTopology(layers: readonly TfjsLayerOnDisk[], source: string): { finalActivation: string; inputSize?: number } {
  const problems: string[] = [];
  // Layers without weights that do not change the function.
  const ignored = new Set(['InputLayer', 'Dropout', 'Activation']);
  const kept = layers.filter((l) => !ignored.has(l.class_name) || (l.class_name === 'Activation' && l.config.activation !== 'linear'));
  const expected = ['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense', 'Dense'];
  const found = kept.map((l) => l.class_name);
  if (found.join(',') !== expected.join(',')) {
    throw new Error(`tfjs model ${source}: layers are ${found.join(' → ')}; a LeNet5 is ${expected.join(' → ')}`);
  }
  const at = (i: number) => kept[i] as TfjsLayerOnDisk;
  const describe = (i: number) => `layer ${i} (${at(i).class_name} "${String(at(i).config.name)}")`;
  const expectField = (i: number, field: string, want: unknown, fallback?: unknown) => {
    const value = at(i).config[field] ?? fallback;
    if (JSON.stringify(value) !== JSON.stringify(want)) problems.push(`${describe(i)}: ${field} is ${JSON.stringify(value)}, expected ${JSON.stringify(want)}`);
  };
  for (const [i, padding] of [[0, 'same'], [2, 'valid']] as const) {
    expectField(i, 'kernel_size', [5, 5]);
    expectField(i, 'strides', [1, 1], [1, 1]);
    expectField(i, 'padding', padding, 'valid');
    expectField(i, 'activation', 'relu', 'linear');
    expectField(i, 'use_bias', true, true);
    expectField(i, 'data_format', 'channels_last', 'channels_last');
    expectField(i, 'dilation_rate', [1, 1], [1, 1]);
  }
  for (const i of [1, 3]) {
    expectField(i, 'pool_size', [2, 2], [2, 2]);
    expectField(i, 'strides', [2, 2], at(i).config.pool_size ?? [2, 2]);
    expectField(i, 'padding', 'valid', 'valid');
    expectField(i, 'data_format', 'channels_last', 'channels_last');
  }
  expectField(4, 'data_format', 'channels_last', 'channels_last');
  for (const i of [5, 6]) expectField(i, 'activation', 'relu', 'linear');
  for (const i of [5, 6, 7]) expectField(i, 'use_bias', true, true);
  const activation = at(7).config.activation;
  const finalActivation = typeof activation === 'string' ? activation : 'linear';
  if (finalActivation !== 'linear' && finalActivation !== 'softmax') problems.push(`${describe(7)}: activation is "${finalActivation}", expected linear or softmax`);
  throwIfProblems(problems, `tfjs model ${source} is not wired like a LeNet5`);
  const inputShape = at(0).config.batch_input_shape ?? at(0).config.batchInputShape ?? layers.find((l) => l.class_name === 'InputLayer')?.config.batch_input_shape;
  const size = Array.isArray(inputShape) ? (inputShape[1] as unknown) : undefined;
  return typeof size === 'number' ? { finalActivation, inputSize: size } : { finalActivation };
}

/** Bytes the weights of a manifest group take (float32). */
function groupBytes(group: TfjsWeightsGroupOnDisk): number {
  return group.weights.reduce((n, w) => n + 4 * w.shape.reduce((a, b) => a * b, 1), 0);
}

/** Throws unless the shards of group `g` hold, together, `total` = exactly the bytes its weights need. */
function checkGroupBytes(group: TfjsWeightsGroupOnDisk, g: number, total: number, source: string): void {
  const needed = groupBytes(group);
  if (total !== needed) {
    throw new Error(`tfjs model ${source}: the shards of weightsManifest[${g}] (${group.paths.join(', ')}) hold ${total} bytes, but its weights need ${needed}${total < needed ? ' (truncated shard?)' : ''}`);
  }
}

/**
 * Reads the weights of every manifest group from its shards (via `readShard`, given the paths as
 * written in model.json), as named float32 arrays in manifest order.
 */
export async function readTfjsWeights(
  manifest: readonly TfjsWeightsGroupOnDisk[],
  readShard: (path: string) => Promise<Uint8Array>,
  source: string,
): Promise<{ name: string; shape: readonly number[]; data: Float32Array }[]> {
  const out: { name: string; shape: readonly number[]; data: Float32Array }[] = [];
  for (const [g, group] of manifest.entries()) {
    const shards: Uint8Array[] = [];
    for (const path of group.paths) {
      try {
        shards.push(await readShard(path));
      } catch (error) {
        throw new Error(`tfjs model ${source}: cannot read weight shard ${path}: ${(error as Error).message}`, { cause: error });
      }
    }
    const total = shards.reduce((n, s) => n + s.byteLength, 0);
    checkGroupBytes(group, g, total, source);
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const shard of shards) {
      bytes.set(shard, offset);
      offset += shard.byteLength;
    }
    const view = new DataView(bytes.buffer);
    offset = 0;
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + 4 * i, true);
      offset += 4 * count;
      for (let i = 0; i < count; i++) {
        if (!Number.isFinite(data[i])) throw new Error(`tfjs model ${source}: weight "${w.name}" holds a non-finite value (${data[i]}) at flat index ${i}`);
      }
      out.push({ name: w.name, shape: w.shape, data });
    }
  }
  return out;
}

/**
 * A LeNet5 from a parsed model.json and a shard reader. Weights map by order onto conv1, conv2,
 * fc1, fc2, fc3 (kernel, bias each); every shape is checked and all mismatches are listed.
 */
export async function importTfjsLayersModel(
  modelJson: unknown,
  readShard: (path: string) => Promise<Uint8Array>,
  source: string,
  options: ImportTfjsLayersOptions = {},
): Promise<ImportedTfjsLayersModel> {
  const json = parseTfjsModelJson(modelJson, source);
  const layers = topologyLayers(json.modelTopology, source);
  const wiring = layers === undefined ? { finalActivation: 'linear' } : checkTopology(layers, source);
  const weights = await readTfjsWeights(json.weightsManifest, readShard, source);
  if (weights.length !== OUR_NAMES.length) {
    throw new Error(`tfjs model ${source}: ${weights.length} weights (${weights.map((w) => w.name).join(', ')}), but a LeNet5 has ${OUR_NAMES.length} (kernel and bias of 2 convs and 3 dense layers)`);
  }
  const shapeAt = (i: number) => (weights[i] as { shape: readonly number[] }).shape;
  const fc1Rows = shapeAt(4)[0] ?? 0;
  const side = Math.sqrt(fc1Rows / 16);
  const inferred: Partial<LeNet5Config> = {
    inputChannels: shapeAt(0)[2] ?? 0,
    classes: shapeAt(8)[1] ?? 0,
    ...(Number.isInteger(side) && side > 0 ? { inputSize: 4 * side + 8 } : {}),
    ...('inputSize' in wiring && wiring.inputSize !== undefined ? { inputSize: wiring.inputSize } : {}),
  };
  const config = lenet5.parseConfig({ ...inferred, ...options.config });
  const specs = [...lenet5.spec(config).params];
  const problems: string[] = [];
  const tensors = new Map<string, SafetensorsTensor>();
  weights.forEach((w, i) => {
    const ours = OUR_NAMES[i] as string;
    const want = specs.find((s) => s.name === ours)?.shape ?? [];
    if (w.shape.length !== want.length || w.shape.some((d, k) => d !== want[k])) {
      problems.push(`weight ${i} "${w.name}" has shape ${formatShape(w.shape)}, expected ${formatShape(want)} for ${ours}`);
    }
    tensors.set(ours, { dtype: 'F32', shape: w.shape, data: w.data });
  });
  throwIfProblems(problems, `tfjs model ${source} does not hold a LeNet5 with config ${JSON.stringify(config)}`);
  return { model: modelFromTensors(lenet5, config, tensors, source), finalActivation: wiring.finalActivation };
}

/** model.json files larger than this are refused (a LeNet5's is a few KB). */
export const MAX_MODEL_JSON_BYTES = 64 * 2 ** 20;

/** A shard file resolved inside the model's folder: its real path and size. */
interface ResolvedShard {
  readonly realPath: string;
  readonly size: number;
}

/**
 * Resolves a manifest shard path inside `folder` (the folder of model.json, as a real path):
 * refuses absolute paths, `..` segments, paths whose real location (after symlinks) is outside
 * the folder, and anything but a regular file. Returns the real path and the size.
 */
async function resolveShard(folder: string, path: string, where: string, source: string): Promise<ResolvedShard> {
  const fail = (problem: string): never => {
    throw new Error(`tfjs model ${source}: ${where} "${path}" ${problem}; shard paths must name files inside the model's folder ${folder}`);
  };
  if (path.length === 0 || path.includes('\0')) fail('is empty or holds a NUL character');
  if (isAbsolute(path) || win32.isAbsolute(path)) fail('is an absolute path');
  if (path.split(/[\\/]/).includes('..')) fail('has a ".." segment');
  let realPath: string;
  try {
    realPath = await realpath(resolve(folder, path));
  } catch (error) {
    throw new Error(`tfjs model ${source}: cannot read weight shard ${path}: ${(error as Error).message}`, { cause: error });
  }
  const inside = relative(folder, realPath);
  if (inside === '' || inside.split(sep)[0] === '..' || isAbsolute(inside)) fail(`leads (through a symlink) to ${realPath}, outside the folder`);
  let opened: OpenRegularFile;
  try {
    opened = await openRegularFile(realPath, `tfjs model ${source}: ${where} "${path}"`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === undefined) throw error;
    throw new Error(`tfjs model ${source}: cannot read weight shard ${path}: ${(error as Error).message}`, { cause: error });
  }
  await opened.handle.close();
  return { realPath, size: opened.size };
}

/** Reads a resolved shard, exactly the size it had when resolved (a regular file, checked again). */
async function readResolvedShard(shard: ResolvedShard, source: string): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(shard.realPath, `tfjs model ${source}: weight shard ${shard.realPath}`);
  try {
    if (size !== shard.size) throw new Error(`changed size while being read (${shard.size} → ${size} bytes)`);
    const bytes = new Uint8Array(size);
    const got = await readAt(handle, bytes, 0);
    if (got !== size) throw new Error(`ended after ${got} of its ${size} bytes`);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Reads model.json (a regular file of at most `MAX_MODEL_JSON_BYTES`) as text. */
async function readModelJson(path: string): Promise<string> {
  let opened: OpenRegularFile;
  try {
    opened = await openRegularFile(path, `tfjs model ${path}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === undefined) throw error;
    throw new Error(`cannot read tfjs model ${path}: ${(error as Error).message}`, { cause: error });
  }
  const { handle, size } = opened;
  try {
    if (size > MAX_MODEL_JSON_BYTES) throw new Error(`tfjs model ${path}: model.json is ${size} bytes, more than the ${MAX_MODEL_JSON_BYTES} allowed; not a model.json?`);
    const bytes = new Uint8Array(size);
    const got = await readAt(handle, bytes, 0);
    return new TextDecoder().decode(bytes.subarray(0, got));
  } finally {
    await handle.close();
  }
}

/**
 * Reads `model.json` and its shards and imports them as a LeNet5. Every shard path is resolved
 * inside the folder of model.json (no absolute paths, no `..`, no symlinks leading out, regular
 * files only), and each group's shard sizes are checked against its weights before any is read.
 */
export async function loadTfjsLayersModel(modelJsonPath: string, options: ImportTfjsLayersOptions = {}): Promise<ImportedTfjsLayersModel> {
  const text = await readModelJson(modelJsonPath);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`tfjs model ${modelJsonPath}: model.json is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const manifest = parseTfjsModelJson(json, modelJsonPath).weightsManifest;
  const folder = await realpath(dirname(resolve(modelJsonPath)));
  const shards = new Map<string, ResolvedShard>();
  for (const [g, group] of manifest.entries()) {
    let total = 0;
    for (const [i, path] of group.paths.entries()) {
      const shard = shards.get(path) ?? (await resolveShard(folder, path, `weightsManifest[${g}].paths[${i}]`, modelJsonPath));
      shards.set(path, shard);
      total += shard.size;
    }
    checkGroupBytes(group, g, total, modelJsonPath);
  }
  return importTfjsLayersModel(json, (path) => readResolvedShard(shards.get(path) as ResolvedShard, modelJsonPath), modelJsonPath, options);
}
