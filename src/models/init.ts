/**
 * Parameter initialization, deterministic in the seed.
 *
 * - `pytorch` (torch.nn defaults): Conv2d/Linear weights kaiming_uniform(a=√5), which is
 *   U(−1/√fan_in, 1/√fan_in), so std = 1/√(3·fan_in); biases U(−1/√fan_in, 1/√fan_in) with the
 *   fan_in of their layer; norm scale 1, shift 0; running mean 0, running variance 1.
 *   (He et al. 2015, "Delving Deep into Rectifiers", for the kaiming family.)
 * - `xavier`: Glorot uniform weights U(−√(6/(fan_in+fan_out)), +√(6/(fan_in+fan_out))), zero
 *   biases; norm parameters and buffers as above (Glorot & Bengio 2010, "Understanding the
 *   difficulty of training deep feedforward neural networks").
 *
 * Fans follow PyTorch: for an HWIO kernel fan_in = kh·kw·I and fan_out = kh·kw·O; for a dense
 * kernel [in, out], fan_in = in and fan_out = out.
 *
 * Each tensor draws from its own generator, forked from `createRandom(seed)` by its name in spec
 * order, so the same seed and spec always give the same state.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRandom, normalArray, uniformArray, type Random } from '../util/random.js';
import type { InitOptions, InitScheme, ModelSpec, ModelState, TensorSpec } from './types.js';

/** PyTorch's fan_in and fan_out of a kernel in our layout (HWIO or [in, out]). */
export function kernelFans(shape: readonly number[], name = 'kernel'): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fans of "${name}": expected a kernel of rank ≥ 2, found shape [${shape.join(', ')}]`);
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: receptive * (shape[shape.length - 2] as number), fanOut: receptive * (shape[shape.length - 1] as number) };
}

/** U(−1/√fan_in, 1/√fan_in): PyTorch's default for Conv2d/Linear weights and biases. */
export function fanInUniformArray(size: number, fanIn: number, random: Random): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  return uniformArray(size, -bound, bound, random);
}

/** Glorot uniform: U(−a, a) with a = √(6/(fan_in + fan_out)). */
export function glorotUniformArray(size: number, fanIn: number, fanOut: number, random: Random): Float32Array {
  const bound = Math.sqrt(6 / (fanIn + fanOut));
  return uniformArray(size, -bound, bound, random);
}

/** kaiming_normal_ with PyTorch's defaults (a = 0, mode fan_in): N(0, 2/fan_in). */
export function kaimingNormalArray(size: number, fanIn: number, random: Random): Float32Array {
  return normalArray(size, 0, Math.sqrt(2 / fanIn), random);
}

/**
 * torch.nn.init.trunc_normal_: N(0, std²) redrawn until inside [low, high]. PyTorch's bounds are
 * absolute (default ±2), not in units of std.
 */
export function truncatedNormalArray(size: number, std: number, random: Random, low = -2, high = 2): Float32Array {
  if (!(low < 0 && high > 0)) throw new Error(`truncated normal: bounds [${low}, ${high}] must contain 0`);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    let v = std * random.normal();
    while (v < low || v > high) v = std * random.normal();
    out[i] = v;
  }
  return out;
}

/** Values of one tensor; `random` is this tensor's own generator. */
export type TensorInitializer = (tensor: TensorSpec, random: Random) => Float32Array;

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Fills norm parameters and BatchNorm buffers; undefined for the kinds that need a scheme. */
export function normAndBufferValues(tensor: TensorSpec): Float32Array | undefined {
  const size = sizeOf(tensor.shape);
  switch (tensor.kind) {
    case 'norm-scale':
    case 'running-var':
      return new Float32Array(size).fill(1);
    case 'norm-shift':
    case 'running-mean':
      return new Float32Array(size);
    default:
      return undefined;
  }
}

/** The weight a bias belongs to: `fc.bias` → the spec of `fc.weight`. */
export function weightOfBias(spec: ModelSpec, bias: TensorSpec): TensorSpec {
  const weightName = bias.name.replace(/bias$/, 'weight');
  const weight = spec.params.find((p) => p.name === weightName);
  if (weight === undefined) throw new Error(`init: bias "${bias.name}" has no weight "${weightName}" to take its fan_in from`);
  return weight;
}

/**
 * The initializer of a scheme for weights, biases, norm parameters and buffers. Kinds it does not
 * cover (embeddings) must be handled by the architecture, which gets an error otherwise.
 */
export function schemeInitializer(spec: ModelSpec, scheme: InitScheme): TensorInitializer {
  return (tensor, random) => {
    const fixed = normAndBufferValues(tensor);
    if (fixed !== undefined) return fixed;
    const size = sizeOf(tensor.shape);
    if (tensor.kind === 'weight') {
      const { fanIn, fanOut } = kernelFans(tensor.shape, tensor.name);
      return scheme === 'xavier' ? glorotUniformArray(size, fanIn, fanOut, random) : fanInUniformArray(size, fanIn, random);
    }
    if (tensor.kind === 'bias') {
      if (scheme === 'xavier') return new Float32Array(size);
      return fanInUniformArray(size, kernelFans(weightOfBias(spec, tensor).shape).fanIn, random);
    }
    throw new Error(`init: no ${scheme} rule for tensor "${tensor.name}" of kind ${tensor.kind}`);
  };
}

/** Allocates a fresh state: every parameter and buffer of `spec`, in spec order. */
export function initModelState(spec: ModelSpec, seed: number, initializer: TensorInitializer): ModelState {
  const root = createRandom(seed);
  const make = (specs: readonly TensorSpec[]): Map<string, tf.Tensor> => {
    const out = new Map<string, tf.Tensor>();
    for (const t of specs) {
      const values = initializer(t, root.fork(t.name));
      if (values.length !== sizeOf(t.shape)) {
        throw new Error(`init: tensor "${t.name}" got ${values.length} values for shape [${t.shape.join(', ')}]`);
      }
      out.set(t.name, tf.tensor(values, [...t.shape], 'float32'));
    }
    return out;
  };
  return { params: make(spec.params), buffers: make(spec.buffers) };
}

/**
 * An architecture's `init` in the usual form: `initModelState` over the config's spec with
 * `schemeInitializer` (PyTorch's default scheme unless `options.scheme` says otherwise).
 *
 * @example
 * export const myModel = { …, spec, init: initFromSpec(spec), apply };
 */
export function initFromSpec<Config>(spec: (config: Config) => ModelSpec): (config: Config, seed: number, options?: InitOptions) => ModelState {
  return (config, seed, options = {}) => {
    const s = spec(config);
    return initModelState(s, seed, schemeInitializer(s, options.scheme ?? 'pytorch'));
  };
}
