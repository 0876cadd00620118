/**
 * PyTorch state dicts (saved as safetensors) to and from our Models.
 *
 * Names: our names are PyTorch's, so only variants need translating — a DataParallel `module.`
 * prefix is stripped, `num_batches_tracked` counters are dropped, and for ResNet18 the
 * kuangliu/pytorch-cifar names (`layerN.M.shortcut.0/1`, `linear`) become torchvision's
 * (`downsample.0/1`, `fc`). LeNet5 (`conv1, conv2, fc1, fc2, fc3`) and CCT
 * (SHI-Labs/Compact-Transformers) names are taken as they are.
 *
 * Layouts (PyTorch → ours):
 *   - conv kernels OIHW → HWIO:   ours[h, w, i, o] = torch[o, i, h, w]
 *   - Linear weights [out, in] → [in, out]:  ours[j, o] = torch[o, j]
 *   - LeNet5 fc1 additionally reorders its input rows. PyTorch flattens the C×H×W feature map
 *     channel-major, NHWC flattens it channel-minor, so the feature (c, h, w) sits at
 *       p = (c·H + h)·W + w  in PyTorch's vector and at  n = (h·W + w)·C + c  in ours;
 *     hence ours[n(c, h, w), o] = torch[o, p(c, h, w)].
 *   - everything else (biases, norm parameters, running statistics, embeddings) as is, reshaped
 *     where PyTorch keeps a leading batch dimension of 1.
 *
 * The config is inferred from tensor shapes (LeNet5 input channels, input size and classes;
 * ResNet18 width and classes; CCT sizes), and fields given by the caller take precedence.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { getArchitecture } from '../models/registry.js';
import { CCT_PRESETS, cctGeometry } from '../models/cct.js';
import { resnet18Widths } from '../models/resnet18.js';
import { ARCHITECTURE_NAMES, type Architecture, type ArchitectureName, type Model, type TensorSpec } from '../models/types.js';
import { modelFromTensors, throwIfProblems } from './model-tensors.js';
import { FLOAT_DTYPES, readSafetensors, writeSafetensors, type ReadSafetensorsOptions, type SafetensorsTensor, type SafetensorsTensorToWrite } from './safetensors.js';

/** ResNet18 naming conventions: torchvision's and kuangliu/pytorch-cifar's. */
export type PyTorchNaming = 'torchvision' | 'pytorch-cifar';

export interface ImportPyTorchOptions {
  /** Architecture name; detected from the tensor names when absent. */
  readonly architecture?: string;
  /** Config fields; fields not given are inferred from the tensor shapes. */
  readonly config?: unknown;
  /** Names the file in errors (default "PyTorch state dict"). */
  readonly source?: string;
}

export interface ExportPyTorchOptions {
  /** ResNet18 names (default `torchvision`). */
  readonly naming?: PyTorchNaming;
  /**
   * Add an I64 `num_batches_tracked` = 0 beside every BatchNorm (default true), so that
   * `load_state_dict(strict=True)` accepts the file in PyTorch.
   */
  readonly numBatchesTracked?: boolean;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/** A PyTorch name in our naming: no `module.` prefix, pytorch-cifar ResNet names translated. */
export function canonicalPyTorchName(name: string, architecture: ArchitectureName): string {
  let out = name.startsWith('module.') ? name.slice('module.'.length) : name;
  if (architecture === 'resnet18') {
    out = out.replace(/^(layer\d+\.\d+\.)shortcut\./, '$1downsample.').replace(/^linear\./, 'fc.');
  }
  return out;
}

/** Our name as PyTorch spells it in the given naming. */
export function pytorchNameOf(name: string, architecture: ArchitectureName, naming: PyTorchNaming = 'torchvision'): string {
  if (architecture !== 'resnet18' || naming === 'torchvision') return name;
  return name.replace(/^(layer\d+\.\d+\.)downsample\./, '$1shortcut.').replace(/^fc\./, 'linear.');
}

/** The architecture a state dict's names belong to, or an error listing some of the names. */
export function detectPyTorchArchitecture(names: Iterable<string>, source = 'PyTorch state dict'): ArchitectureName {
  const list = [...names].map((n) => (n.startsWith('module.') ? n.slice('module.'.length) : n));
  const has = (predicate: (n: string) => boolean) => list.some(predicate);
  if (has((n) => n.startsWith('tokenizer.conv_layers.') || n.startsWith('classifier.blocks.'))) return 'cct';
  if (has((n) => /^layer[1-4]\.\d+\.conv1\.weight$/.test(n))) return 'resnet18';
  if (has((n) => n === 'fc3.weight') && has((n) => n === 'conv2.weight')) return 'lenet5';
  throw new Error(
    `${source}: cannot tell the architecture from the tensor names (${list.slice(0, 6).join(', ')}${list.length > 6 ? ', …' : ''}); ` +
      `pass the architecture (one of ${ARCHITECTURE_NAMES.join(', ')})`,
  );
}

// ---------------------------------------------------------------------------------------------
// Layouts
// ---------------------------------------------------------------------------------------------

/** OIHW → HWIO: ours[h, w, i, o] = torch[o, i, h, w]. `shape` is the OIHW shape. */
export function oihwToHwio(data: ArrayLike<number>, shape: readonly number[]): Float32Array {
  const [O, I, H, W] = shape as [number, number, number, number];
  const out = new Float32Array(O * I * H * W);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) out[((h * W + w) * I + i) * O + o] = data[((o * I + i) * H + h) * W + w] as number;
  return out;
}

/** HWIO → OIHW, the inverse of `oihwToHwio`. `shape` is the HWIO shape. */
export function hwioToOihw(data: ArrayLike<number>, shape: readonly number[]): Float32Array {
  const [H, W, I, O] = shape as [number, number, number, number];
  const out = new Float32Array(O * I * H * W);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < I; i++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) out[((o * I + i) * H + h) * W + w] = data[((h * W + w) * I + i) * O + o] as number;
  return out;
}

/** Transpose of a row-major [rows, cols] matrix. */
export function transpose2d(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c] as number;
  return out;
}

/**
 * For a dense layer fed by a flattened C×H×W feature map: the position in PyTorch's (C·H·W)
 * flattening of each position of the NHWC (H·W·C) flattening, i.e. `perm[(h·W + w)·C + c] =
 * (c·H + h)·W + w`.
 */
export function chwPositionsOfHwc(channels: number, height: number, width: number): Int32Array {
  const perm = new Int32Array(channels * height * width);
  for (let h = 0; h < height; h++)
    for (let w = 0; w < width; w++)
      for (let c = 0; c < channels; c++) perm[(h * width + w) * channels + c] = (c * height + h) * width + w;
  return perm;
}

/** A dense layer's input-feature reordering: (C, H, W) of the map it reads, or none. */
type InputOrder = readonly [number, number, number] | undefined;

/** LeNet5's fc1 reads the 16×side×side output of conv2 + pool. */
function inputOrderOf(architecture: ArchitectureName, spec: TensorSpec): InputOrder {
  if (architecture !== 'lenet5' || spec.name !== 'fc1.weight') return undefined;
  const inFeatures = spec.shape[0] as number;
  const side = Math.round(Math.sqrt(inFeatures / 16));
  return [16, side, side];
}

/** The shape PyTorch gives a tensor whose shape is `spec.shape` in our layout. */
function pytorchShapeOf(architecture: ArchitectureName, spec: TensorSpec): number[] {
  const s = spec.shape;
  if (spec.kind === 'weight' && s.length === 4) return [s[3], s[2], s[0], s[1]] as number[];
  if (spec.kind === 'weight' && s.length === 2) return [s[1], s[0]] as number[];
  if (architecture === 'cct' && spec.name === 'classifier.positional_emb' && s.length === 2) return [1, ...s];
  return [...s];
}

/** One tensor from PyTorch's layout to ours. `data` has PyTorch's shape (`pytorchShapeOf`). */
function fromPyTorchLayout(architecture: ArchitectureName, spec: TensorSpec, data: Float32Array): Float32Array {
  const s = spec.shape;
  if (spec.kind === 'weight' && s.length === 4) return oihwToHwio(data, pytorchShapeOf(architecture, spec));
  if (spec.kind === 'weight' && s.length === 2) {
    const [inF, outF] = s as [number, number];
    const order = inputOrderOf(architecture, spec);
    if (order === undefined) return transpose2d(data, outF, inF);
    const perm = chwPositionsOfHwc(...order);
    const out = new Float32Array(inF * outF);
    for (let n = 0; n < inF; n++) {
      const p = perm[n] as number;
      for (let o = 0; o < outF; o++) out[n * outF + o] = data[o * inF + p] as number;
    }
    return out;
  }
  return data;
}

/** One tensor from our layout to PyTorch's, the inverse of `fromPyTorchLayout`. */
function toPyTorchLayout(architecture: ArchitectureName, spec: TensorSpec, data: Float32Array): Float32Array {
  const s = spec.shape;
  if (spec.kind === 'weight' && s.length === 4) return hwioToOihw(data, s);
  if (spec.kind === 'weight' && s.length === 2) {
    const [inF, outF] = s as [number, number];
    const order = inputOrderOf(architecture, spec);
    if (order === undefined) return transpose2d(data, inF, outF);
    const perm = chwPositionsOfHwc(...order);
    const out = new Float32Array(inF * outF);
    for (let n = 0; n < inF; n++) {
      const p = perm[n] as number;
      for (let o = 0; o < outF; o++) out[o * inF + p] = data[n * outF + o] as number;
    }
    return out;
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// Config inference
// ---------------------------------------------------------------------------------------------

/**
 * Config fields implied by tensor shapes (PyTorch layouts, canonical names); fields that the
 * shapes do not determine are left out, to be filled by defaults or the caller.
 */
export function inferPyTorchConfig(
  architecture: ArchitectureName,
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  source = 'PyTorch state dict',
): Record<string, unknown> {
  const shapeOf = (name: string, rank: number): readonly number[] => {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`${source}: cannot infer the ${architecture} config: tensor "${name}" is missing`);
    if (t.shape.length !== rank) {
      throw new Error(`${source}: cannot infer the ${architecture} config: tensor "${name}" has shape ${formatShape(t.shape)}, expected rank ${rank}`);
    }
    return t.shape;
  };
  switch (architecture) {
    case 'lenet5': {
      const inFeatures = shapeOf('fc1.weight', 2)[1] as number;
      const side = Math.sqrt(inFeatures / 16);
      if (!Number.isInteger(side) || side < 1) {
        throw new Error(`${source}: tensor "fc1.weight" reads ${inFeatures} features, which is not 16·side² for a LeNet5 feature map`);
      }
      // ⌊(⌊s/2⌋ − 4)/2⌋ = side holds for s = 4·side + 8 … 4·side + 11; the smallest is the usual one (28, 32).
      return { inputChannels: shapeOf('conv1.weight', 4)[1], inputSize: 4 * side + 8, classes: shapeOf('fc3.weight', 2)[0] };
    }
    case 'resnet18': {
      const stem = shapeOf('conv1.weight', 4);
      const fc = shapeOf('fc.weight', 2);
      const found = [stem[0], tensors.get('layer2.0.conv1.weight')?.shape[0], tensors.get('layer3.0.conv1.weight')?.shape[0], fc[1]];
      return { width: inferResNetWidth(found), inputChannels: stem[1], classes: fc[0] };
    }
    case 'cct': {
      return inferCctConfig(tensors, shapeOf);
    }
  }
}

/**
 * The width multiplier k whose stage widths round(64k), …, round(512k) are `found` (undefined:
 * unknown stage). A k read off one stage may round differently at another (k = 0.3 gives 19, 38,
 * 77, 154, but 19/64 gives 76 at stage 3), so take the shortest decimal in the intersection of the
 * intervals [(w − ½)/m, (w + ½)/m) of every stage, unless a stage's exact ratio w/m fits all (so
 * k = 1/16 stays 0.0625, not 0.062); fall back to the last stage's w/512.
 */
export function inferResNetWidth(found: readonly (number | undefined)[]): number {
  let low = 0;
  let high = Infinity;
  found.forEach((w, i) => {
    if (w === undefined) return;
    const m = 64 * 2 ** i;
    low = Math.max(low, (w - 0.5) / m);
    high = Math.min(high, (w + 0.5) / m);
  });
  const matches = (k: number) => resnet18Widths(k).every((w, i) => found[i] === undefined || found[i] === w);
  // Exact ratios first (k = 1/16 is 32/512), widest stage first; then the shortest decimal.
  for (let i = found.length - 1; i >= 0; i--) {
    const w = found[i];
    if (w !== undefined && matches(w / (64 * 2 ** i))) return w / (64 * 2 ** i);
  }
  for (let digits = 0; digits <= 12 && low < high; digits++) {
    const k = Math.ceil(low * 10 ** digits) / 10 ** digits;
    if (k < high && k > 0 && matches(k)) return k;
  }
  const last = [...found].reverse().findIndex((w) => w !== undefined);
  const i = found.length - 1 - last;
  return last < 0 ? 1 : (found[i] as number) / (64 * 2 ** i);
}

/**
 * CCT config fields from shapes. The number of attention heads leaves no trace in the shapes: it
 * is taken from a preset whose other fields all match, and left out otherwise (the importer then
 * asks for it rather than guess).
 */
function inferCctConfig(
  tensors: ReadonlyMap<string, SafetensorsTensor>,
  shapeOf: (name: string, rank: number) => readonly number[],
): Record<string, unknown> {
  let convLayers = 0;
  while (tensors.has(`tokenizer.conv_layers.${convLayers}.0.weight`)) convLayers++;
  let layers = 0;
  while (tensors.has(`classifier.blocks.${layers}.linear1.weight`)) layers++;
  const first = shapeOf('tokenizer.conv_layers.0.0.weight', 4);
  const fc = shapeOf('classifier.fc.weight', 2);
  const linear1 = shapeOf('classifier.blocks.0.linear1.weight', 2);
  const tokens = shapeOf('classifier.positional_emb', 3)[1] as number;
  const embeddingDim = fc[1] as number;
  const shape = {
    layers,
    mlpRatio: (linear1[0] as number) / embeddingDim,
    embeddingDim,
    kernelSize: first[2] as number,
    convLayers,
    // The first conv's width: the intermediate width when there are several, else D.
    convChannels: convLayers > 1 ? (first[0] as number) : CCT_PRESETS.cct_7_3x1_32.convChannels,
  };
  const base = { ...shape, inputChannels: first[1] as number, classes: fc[0] as number, heads: 1 };
  // The input size: 32 if it gives the file's token count, else the smallest size that does.
  const tokensFor = (inputSize: number) => cctGeometry({ ...base, inputSize }).sequenceLength;
  let inputSize = 32;
  if (tokensFor(inputSize) !== tokens) {
    inputSize = 1;
    while (inputSize < 4096 && tokensFor(inputSize) !== tokens) inputSize++;
  }
  const preset = Object.values(CCT_PRESETS).find((p) => SHAPE_KEYS.every((key) => p[key] === shape[key]));
  return { ...base, heads: preset?.heads, inputSize };
}

const SHAPE_KEYS = ['layers', 'mlpRatio', 'embeddingDim', 'kernelSize', 'convLayers', 'convChannels'] as const;

// ---------------------------------------------------------------------------------------------
// Import and export
// ---------------------------------------------------------------------------------------------

/**
 * A Model from a PyTorch state dict (PyTorch names and layouts). All or nothing: missing,
 * unexpected or misshapen tensors are listed together in one error, by their names in the file.
 */
export function importPyTorchStateDict(tensors: ReadonlyMap<string, SafetensorsTensor>, options: ImportPyTorchOptions = {}): Model {
  const source = options.source ?? 'PyTorch state dict';
  const archName = options.architecture ?? detectPyTorchArchitecture(tensors.keys(), source);
  const arch = getArchitecture(archName);
  const name = arch.name;

  const canonical = new Map<string, SafetensorsTensor>();
  const fileNameOf = new Map<string, string>();
  for (const [fileName, tensor] of tensors) {
    if (fileName.endsWith('num_batches_tracked')) continue;
    const ours = canonicalPyTorchName(fileName, name);
    if (canonical.has(ours)) throw new Error(`${source}: tensors "${fileNameOf.get(ours)}" and "${fileName}" both map to "${ours}"`);
    canonical.set(ours, tensor);
    fileNameOf.set(ours, fileName);
  }

  const given = options.config;
  if (given !== undefined && given !== null && (typeof given !== 'object' || Array.isArray(given))) {
    throw new Error(`${source}: the ${name} config must be an object, found ${JSON.stringify(given)}`);
  }
  let inferred: Record<string, unknown> = {};
  try {
    inferred = inferPyTorchConfig(name, canonical, source);
  } catch (error) {
    // A file that is not this architecture at all: the spec check below says more than inference.
    if (given === undefined) throw error;
  }
  const givenRecord = (given ?? {}) as Record<string, unknown>;
  if (name === 'cct' && Object.keys(inferred).length > 0 && inferred.heads === undefined && givenRecord.heads === undefined && givenRecord.preset === undefined) {
    throw new Error(`${source}: the number of CCT attention heads cannot be read from the tensor shapes; give it in the config (heads)`);
  }
  const config = arch.parseConfig(mergeConfig(arch, inferred, given as Record<string, unknown> | undefined));
  const spec = arch.spec(config);
  const specs = [...spec.params, ...spec.buffers];

  const problems: string[] = [];
  const converted = new Map<string, SafetensorsTensor>();
  const expected = new Set(specs.map((s) => s.name));
  for (const s of specs) {
    const torchName = fileNameOf.get(s.name) ?? s.name;
    const t = canonical.get(s.name);
    const torchShape = pytorchShapeOf(name, s);
    if (t === undefined) {
      problems.push(`missing tensor "${torchName}" (expected F32${formatShape(torchShape)} in PyTorch layout)`);
      continue;
    }
    const shapeOk = t.shape.length === torchShape.length && t.shape.every((d, i) => d === torchShape[i]);
    if (!shapeOk || !FLOAT_DTYPES.has(t.dtype)) {
      problems.push(`tensor "${torchName}": expected F32${formatShape(torchShape)} (PyTorch layout; ours ${formatShape(s.shape)}), found ${t.dtype}${formatShape(t.shape)}`);
      continue;
    }
    converted.set(s.name, { dtype: 'F32', shape: s.shape, data: fromPyTorchLayout(name, s, t.data) });
  }
  for (const [ours, t] of canonical) {
    if (!expected.has(ours)) problems.push(`unexpected tensor "${fileNameOf.get(ours) ?? ours}" (${t.dtype}${formatShape(t.shape)})`);
  }
  let hint: string | undefined;
  if (problems.length > 0) {
    try {
      const detected = detectPyTorchArchitecture(tensors.keys(), source);
      if (detected !== name) hint = `(the tensor names look like a ${detected}: was the architecture given wrongly?)`;
    } catch {
      // names of no known architecture: nothing to suggest
    }
  }
  throwIfProblems(problems, `${source} does not hold a ${name} with config ${JSON.stringify(config)}`, hint);
  return modelFromTensors(arch, config, converted, source);
}

/** Inferred fields overridden by the given ones; unknown inferred fields are dropped. */
function mergeConfig(arch: Architecture<unknown>, inferred: Record<string, unknown>, given: Record<string, unknown> | undefined): Record<string, unknown> {
  const known = new Set(Object.keys(arch.defaultConfig as object));
  const merged: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inferred)) if (known.has(key) && value !== undefined) merged[key] = value;
  return { ...merged, ...(given ?? {}) };
}

/** Reads a PyTorch state dict saved as safetensors and imports it (see `importPyTorchStateDict`). */
export async function loadPyTorchStateDict(
  path: string,
  options: Omit<ImportPyTorchOptions, 'source'> & ReadSafetensorsOptions = {},
): Promise<Model> {
  const { tensors } = await readSafetensors(path, options.allowNonFinite === undefined ? {} : { allowNonFinite: options.allowNonFinite });
  return importPyTorchStateDict(tensors, { ...options, source: path });
}

/**
 * The model's tensors in PyTorch names and layouts (the inverse of `importPyTorchStateDict`),
 * ready for `writeSafetensors`.
 */
export async function exportPyTorchStateDict(model: Model, options: ExportPyTorchOptions = {}): Promise<Map<string, SafetensorsTensorToWrite>> {
  const arch = getArchitecture(model.architecture);
  const spec = arch.spec(model.config);
  const naming = options.naming ?? 'torchvision';
  const out = new Map<string, SafetensorsTensorToWrite>();
  const write = async (s: TensorSpec, tensor: tf.Tensor | undefined) => {
    if (tensor === undefined) throw new Error(`export ${model.architecture}: tensor "${s.name}" is missing from the model`);
    if (tensor.shape.join(',') !== s.shape.join(',')) {
      throw new Error(`export ${model.architecture}: tensor "${s.name}" has shape ${formatShape(tensor.shape)}, expected ${formatShape(s.shape)}`);
    }
    const data = (await tensor.data()) as Float32Array;
    out.set(pytorchNameOf(s.name, model.architecture, naming), { dtype: 'F32', shape: pytorchShapeOf(model.architecture, s), data: toPyTorchLayout(model.architecture, s, data) });
  };
  // PyTorch's state_dict order: module by module, parameters before buffers.
  for (const layer of spec.layers) {
    for (const name of layer.params) await write(spec.params.find((s) => s.name === name) as TensorSpec, model.params.get(name));
    for (const name of layer.buffers) await write(spec.buffers.find((s) => s.name === name) as TensorSpec, model.buffers.get(name));
    if (options.numBatchesTracked !== false) {
      for (const name of layer.buffers) {
        if (!name.endsWith('.running_var')) continue;
        const counter = pytorchNameOf(name.replace(/running_var$/, 'num_batches_tracked'), model.architecture, naming);
        out.set(counter, { dtype: 'I64', shape: [], data: [0] });
      }
    }
  }
  if (out.size === 0) throw new Error(`export ${model.architecture}: the model has no tensors`);
  return out;
}

/** Writes the model as a PyTorch state dict in safetensors (metadata `format: pt`), atomically. */
export async function savePyTorchStateDict(path: string, model: Model, options: ExportPyTorchOptions = {}): Promise<void> {
  await writeSafetensors(path, await exportPyTorchStateDict(model, options), { format: 'pt' });
}
