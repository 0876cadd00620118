/**
 * PyTorch state dicts (saved as safetensors) to and from our Models, for every registered
 * architecture with a `pytorch` capability (see src/models/capabilities.ts; each architecture's
 * own rules are in src/models/<name>/pytorch.ts).
 *
 * Names: our names are PyTorch's, so only variants need translating — a DataParallel `module.`
 * prefix is stripped, `num_batches_tracked` counters are dropped, and the architecture's
 * `canonicalName` maps its variants (e.g. pytorch-cifar's ResNet names) to ours.
 *
 * Layouts (PyTorch → ours):
 *   - conv kernels OIHW → HWIO:   ours[h, w, i, o] = torch[o, i, h, w]
 *   - Linear weights [out, in] → [in, out]:  ours[j, o] = torch[o, j]
 *   - a Linear that reads a flattened C×H×W feature map (the architecture's `denseInputOrder`)
 *     additionally reorders its input rows. PyTorch flattens channel-major, NHWC channel-minor, so
 *     the feature (c, h, w) sits at  p = (c·H + h)·W + w  in PyTorch's vector and at
 *     n = (h·W + w)·C + c  in ours; hence ours[n(c, h, w), o] = torch[o, p(c, h, w)].
 *   - everything else (biases, norm parameters, running statistics, embeddings) as is, reshaped
 *     where the architecture's `pytorchShape` says PyTorch keeps another shape.
 *
 * The config is inferred from tensor shapes (the architecture's `inferConfig`), and fields given
 * by the caller take precedence.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { missingCapability, type PyTorchFormat } from '../models/capabilities.js';
import { getArchitecture, listArchitectures } from '../models/registry.js';
import type { Architecture, Model, TensorSpec } from '../models/types.js';
import { modelFromTensors, throwIfProblems } from './model-tensors.js';
import { FLOAT_DTYPES, readSafetensors, writeSafetensors, type ReadSafetensorsOptions, type SafetensorsTensor, type SafetensorsTensorToWrite } from './safetensors.js';

/**
 * A naming convention of an architecture's state dicts (its `pytorch.namings`; ResNet18:
 * `torchvision`, `pytorch-cifar`).
 */
export type PyTorchNaming = string;

export interface ImportPyTorchOptions {
  /** Architecture name; detected from the tensor names when absent. */
  readonly architecture?: string;
  /** Config fields; fields not given are inferred from the tensor shapes. */
  readonly config?: unknown;
  /** Names the file in errors (default "PyTorch state dict"). */
  readonly source?: string;
}

export interface ExportPyTorchOptions {
  /**
   * Naming convention, one of the architecture's `pytorch.namings` (default: its first; ResNet18:
   * `torchvision` or `pytorch-cifar`). Architectures with a single naming ignore it.
   */
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

/** The PyTorch capability of an architecture; the error names it and the ones that have one. */
function pytorchFormatOf(arch: Architecture<unknown>, what: string): PyTorchFormat {
  if (arch.pytorch === undefined) {
    throw missingCapability(arch.name, 'PyTorch names and layouts (pytorch)', what, `PyTorch state dicts are supported for ${pytorchArchitectures().join(', ')}`);
  }
  return arch.pytorch;
}

/** The registered architectures with a PyTorch capability, in registration order. */
function pytorchArchitectures(): string[] {
  return listArchitectures().filter((name) => getArchitecture(name).pytorch !== undefined);
}

function withoutModulePrefix(name: string): string {
  return name.startsWith('module.') ? name.slice('module.'.length) : name;
}

/** A PyTorch name in our naming: no `module.` prefix, the architecture's variants translated. */
export function canonicalPyTorchName(name: string, architecture: string): string {
  const out = withoutModulePrefix(name);
  const format = pytorchFormatOf(getArchitecture(architecture), 'PyTorch names');
  return format.canonicalName === undefined ? out : format.canonicalName(out);
}

/** Our name as PyTorch spells it in the given naming (default: the architecture's first). */
export function pytorchNameOf(name: string, architecture: string, naming?: PyTorchNaming): string {
  const format = pytorchFormatOf(getArchitecture(architecture), 'PyTorch names');
  return nameInNaming(format, architecture, name, naming);
}

function nameInNaming(format: PyTorchFormat, architecture: string, name: string, naming: PyTorchNaming | undefined): string {
  if (format.nameOf === undefined) return name;
  // One convention: whatever naming was asked for, the architecture's names.
  if (format.namings === undefined || format.namings.length === 0) return format.nameOf(name, '');
  const chosen = naming ?? format.namings[0] ?? '';
  if (!format.namings.includes(chosen)) {
    throw new Error(`PyTorch names: ${architecture} has no naming "${chosen}"; expected one of ${format.namings.join(', ')}`);
  }
  return format.nameOf(name, chosen);
}

/**
 * The architecture a state dict's names belong to: the one registered architecture whose
 * `pytorch.matches` accepts them, or an error: the lookalike network a family names (which no
 * format reads), else some of the names and the closest family (or the candidates when several
 * match).
 */
export function detectPyTorchArchitecture(names: Iterable<string>, source = 'PyTorch state dict'): string {
  const list = [...names].map(withoutModulePrefix);
  const candidates = pytorchArchitectures();
  const matching = candidates.filter((name) => (getArchitecture(name).pytorch as PyTorchFormat).matches(list));
  if (matching.length === 1) return matching[0] as string;
  const shown = `${list.slice(0, 6).join(', ')}${list.length > 6 ? ', …' : ''}`;
  if (matching.length > 1) {
    throw new Error(`${source}: the tensor names (${shown}) match several architectures (${matching.join(', ')}); pass the architecture`);
  }
  const lookalike = candidates.map((name) => (getArchitecture(name).pytorch as PyTorchFormat).lookalike?.(list)).find((s) => s !== undefined);
  if (lookalike !== undefined) throw new Error(`${source}: ${lookalike}`);
  const closest = closestPyTorchFamily(list, candidates);
  const hint = closest === undefined ? '' : `; closest: ${describeClosest(closest)}`;
  throw new Error(`${source}: cannot tell the architecture from the tensor names (${shown})${hint}; pass the architecture (one of ${candidates.join(', ')})`);
}

/** How a state dict's names compare with one architecture's (at its default config). */
export interface PyTorchNameOverlap {
  readonly architecture: string;
  /** Names (canonical, without `num_batches_tracked`) both have. */
  readonly common: number;
  /** The architecture's names at its default config. */
  readonly expected: number;
  /** File names the architecture does not have, in file order. */
  readonly unexpected: readonly string[];
  /** The architecture's names the file lacks, in spec order. */
  readonly missing: readonly string[];
}

/**
 * The architecture whose names overlap most with a state dict's: the largest share |A ∩ B| / |A| of
 * the file's canonical names A that the architecture's default config has (B), ties broken by the
 * Jaccard index |A ∩ B| / |A ∪ B|; undefined when none shares a name.
 * Shapes and configs are not compared: this names a likely family for an error message.
 */
export function closestPyTorchFamily(names: readonly string[], candidates: readonly string[] = pytorchArchitectures()): PyTorchNameOverlap | undefined {
  const fileNames = names.map(withoutModulePrefix).filter((n) => !n.endsWith('num_batches_tracked'));
  let best: { overlap: PyTorchNameOverlap; score: number } | undefined;
  for (const name of candidates) {
    const arch = getArchitecture(name);
    const format = arch.pytorch;
    if (format === undefined) continue;
    const spec = arch.spec(arch.parseConfig({}));
    const expected = [...spec.params, ...spec.buffers].map((t) => t.name);
    const expectedSet = new Set(expected);
    const canonical = fileNames.map((n) => format.canonicalName?.(n) ?? n);
    const present = new Set(canonical);
    const common = expected.filter((n) => present.has(n)).length;
    if (common === 0) continue;
    // The share of the file's names the architecture has, then the Jaccard index as a tie-break.
    const score = common / present.size + 1e-3 * (common / (expectedSet.size + present.size - common));
    if (best !== undefined && score <= best.score) continue;
    best = {
      score,
      overlap: {
        architecture: name,
        common,
        expected: expected.length,
        unexpected: fileNames.filter((_, i) => !expectedSet.has(canonical[i] as string)),
        missing: expected.filter((n) => !present.has(n)),
      },
    };
  }
  return best?.overlap;
}

function describeClosest(o: PyTorchNameOverlap): string {
  const first = (list: readonly string[]) => `${list.slice(0, 3).map((n) => `"${n}"`).join(', ')}${list.length > 3 ? `, … (${list.length})` : ''}`;
  const parts = [`${o.architecture} (${o.common} of its ${o.expected} names at its default config)`];
  if (o.unexpected.length > 0) parts.push(`names it does not have: ${first(o.unexpected)}`);
  if (o.missing.length > 0) parts.push(`its names the file lacks: ${first(o.missing)}`);
  return parts.join('; ');
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

/** The shape PyTorch gives a tensor whose shape is `spec.shape` in our layout. */
function pytorchShapeOf(format: PyTorchFormat, spec: TensorSpec): number[] {
  const s = spec.shape;
  if (spec.kind === 'weight' && s.length === 4) return [s[3], s[2], s[0], s[1]] as number[];
  if (spec.kind === 'weight' && s.length === 2) return [s[1], s[0]] as number[];
  const special = format.pytorchShape?.(spec);
  return special === undefined ? [...s] : [...special];
}

/** One tensor from PyTorch's layout to ours. `data` has PyTorch's shape (`pytorchShapeOf`). */
function fromPyTorchLayout(format: PyTorchFormat, spec: TensorSpec, data: Float32Array): Float32Array {
  const s = spec.shape;
  if (spec.kind === 'weight' && s.length === 4) return oihwToHwio(data, pytorchShapeOf(format, spec));
  if (spec.kind === 'weight' && s.length === 2) {
    const [inF, outF] = s as [number, number];
    const order = format.denseInputOrder?.(spec);
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
function toPyTorchLayout(format: PyTorchFormat, spec: TensorSpec, data: Float32Array): Float32Array {
  const s = spec.shape;
  if (spec.kind === 'weight' && s.length === 4) return hwioToOihw(data, s);
  if (spec.kind === 'weight' && s.length === 2) {
    const [inF, outF] = s as [number, number];
    const order = format.denseInputOrder?.(spec);
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
  architecture: string,
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
  return pytorchFormatOf(getArchitecture(architecture), 'PyTorch config inference').inferConfig(tensors, shapeOf, source);
}

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
  const format = pytorchFormatOf(arch, `${source}: PyTorch import`);

  const canonical = new Map<string, SafetensorsTensor>();
  const fileNameOf = new Map<string, string>();
  for (const [fileName, tensor] of tensors) {
    if (fileName.endsWith('num_batches_tracked')) continue;
    const stripped = withoutModulePrefix(fileName);
    const ours = format.canonicalName === undefined ? stripped : format.canonicalName(stripped);
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
  format.checkConfig?.(inferred, givenRecord, source);
  const config = arch.parseConfig(mergeConfig(arch, inferred, given as Record<string, unknown> | undefined));
  const spec = arch.spec(config);
  const specs = [...spec.params, ...spec.buffers];

  const problems: string[] = [];
  const converted = new Map<string, SafetensorsTensor>();
  const expected = new Set(specs.map((s) => s.name));
  for (const s of specs) {
    const torchName = fileNameOf.get(s.name) ?? s.name;
    const t = canonical.get(s.name);
    const torchShape = pytorchShapeOf(format, s);
    if (t === undefined) {
      problems.push(`missing tensor "${torchName}" (expected F32${formatShape(torchShape)} in PyTorch layout)`);
      continue;
    }
    const shapeOk = t.shape.length === torchShape.length && t.shape.every((d, i) => d === torchShape[i]);
    if (!shapeOk || !FLOAT_DTYPES.has(t.dtype)) {
      problems.push(`tensor "${torchName}": expected F32${formatShape(torchShape)} (PyTorch layout; ours ${formatShape(s.shape)}), found ${t.dtype}${formatShape(t.shape)}`);
      continue;
    }
    converted.set(s.name, { dtype: 'F32', shape: s.shape, data: fromPyTorchLayout(format, s, t.data) });
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
  const format = pytorchFormatOf(arch, `export ${model.architecture}`);
  const spec = arch.spec(model.config);
  const naming = options.naming;
  const out = new Map<string, SafetensorsTensorToWrite>();
  const write = async (s: TensorSpec, tensor: tf.Tensor | undefined) => {
    if (tensor === undefined) throw new Error(`export ${model.architecture}: tensor "${s.name}" is missing from the model`);
    if (tensor.shape.join(',') !== s.shape.join(',')) {
      throw new Error(`export ${model.architecture}: tensor "${s.name}" has shape ${formatShape(tensor.shape)}, expected ${formatShape(s.shape)}`);
    }
    const data = (await tensor.data()) as Float32Array;
    out.set(nameInNaming(format, model.architecture, s.name, naming), { dtype: 'F32', shape: pytorchShapeOf(format, s), data: toPyTorchLayout(format, s, data) });
  };
  // PyTorch's state_dict order: module by module, parameters before buffers.
  for (const layer of spec.layers) {
    for (const name of layer.params) await write(spec.params.find((s) => s.name === name) as TensorSpec, model.params.get(name));
    for (const name of layer.buffers) await write(spec.buffers.find((s) => s.name === name) as TensorSpec, model.buffers.get(name));
    if (options.numBatchesTracked !== false) {
      for (const name of layer.buffers) {
        if (!name.endsWith('.running_var')) continue;
        const counter = nameInNaming(format, model.architecture, name.replace(/running_var$/, 'num_batches_tracked'), naming);
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
