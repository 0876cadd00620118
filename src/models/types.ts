/**
 * The model contract of this toolkit: an architecture is a pure function of an explicit, named,
 * ordered parameter map. Everything path-related (interpolation, curves, layer-wise operations,
 * averaging) works on these maps, never on hidden layer state.
 *
 * Layouts are TensorFlow's: images NHWC, conv kernels HWIO, dense kernels [in, out]. Names follow
 * PyTorch's state-dict names (`conv1.weight`, `layer1.0.bn1.running_mean`, `fc.bias`) so that
 * imported checkpoints keep their names; only the layout differs (see src/checkpoint).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ActivationHooks, LlpfStages, PermutationSpec, PyTorchFormat } from './capabilities.js';

/** Named tensors in a fixed order, input side first. */
export type TensorMap = ReadonlyMap<string, tf.Tensor>;

/**
 * An architecture's registry name (`lenet5`, `resnet18`, `cct`, or one registered with
 * `registerArchitecture`); see src/models/registry.ts.
 */
export type ArchitectureName = string;

/** What a tensor is, so that layer-wise operations and averaging can treat kinds differently. */
export const TENSOR_KINDS = [
  'weight', // conv or dense kernel, attention projection
  'bias',
  'norm-scale', // BatchNorm/LayerNorm gamma
  'norm-shift', // BatchNorm/LayerNorm beta
  'embedding', // positional embedding, class token
  'running-mean', // BatchNorm buffer
  'running-var', // BatchNorm buffer
] as const;
export type TensorKind = (typeof TENSOR_KINDS)[number];

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly kind: TensorKind;
  /** The layer group this tensor belongs to (see LayerGroup). */
  readonly layer: string;
}

/**
 * A layer group: a layer's weight and bias together, with the affine parameters and running
 * statistics of the normalization that follows it (Adilova et al., ICLR 2024).
 */
export interface LayerGroup {
  readonly name: string;
  /** Trainable tensors of the group, in order. */
  readonly params: readonly string[];
  /** Non-trainable buffers of the group (BatchNorm running statistics), in order. */
  readonly buffers: readonly string[];
}

export interface ModelSpec {
  /** Trainable parameters, input side first. */
  readonly params: readonly TensorSpec[];
  /** BatchNorm running statistics (empty for models without BatchNorm). */
  readonly buffers: readonly TensorSpec[];
  /** Layer groups, input side first. */
  readonly layers: readonly LayerGroup[];
  /** Input shape of one example, [H, W, C]. */
  readonly inputShape: readonly [number, number, number];
  readonly classes: number;
}

export interface ApplyOptions {
  /**
   * Training mode: BatchNorm normalizes with the batch statistics and reports them in
   * `ApplyResult.batchStats`; dropout-free architectures behave otherwise the same.
   * Evaluation mode uses the running statistics in `buffers`.
   */
  readonly training: boolean;
}

export interface ApplyResult {
  readonly logits: tf.Tensor2D;
  /**
   * Training mode only: for every BatchNorm buffer name, the statistic of this batch
   * (`*.running_mean` → batch mean, `*.running_var` → unbiased batch variance), to be folded into
   * the running statistics by `updateRunningStats`. Empty in evaluation mode.
   */
  readonly batchStats: TensorMap;
}

export type InitScheme = 'pytorch' | 'xavier';

export interface InitOptions {
  /** `pytorch` (default) reproduces torch.nn defaults; `xavier` is Glorot-uniform weights, zero biases. */
  readonly scheme?: InitScheme;
}

/**
 * One architecture: a spec, an initializer and a pure forward function, plus the optional
 * capabilities the toolkit uses when they are there (see capabilities.ts). Each lives in its own
 * folder, src/models/<name>/, and is registered once (src/models/registry.ts).
 */
export interface Architecture<Config> {
  /** Registry name: a letter, then letters, digits, `.`, `_` or `-` (at most 64 characters). */
  readonly name: ArchitectureName;
  readonly defaultConfig: Config;
  /** Validates a config (e.g. from checkpoint metadata), filling defaults; errors name the field. */
  parseConfig(raw: unknown): Config;
  spec(config: Config): ModelSpec;
  /** Fresh parameters and buffers, deterministic in `seed`. */
  init(config: Config, seed: number, options?: InitOptions): ModelState;
  /** logits = f(params, buffers, x); x is [N, H, W, C] float32. Never mutates its inputs. */
  apply(config: Config, state: ModelState, x: tf.Tensor4D, options: ApplyOptions): ApplyResult;

  /** PyTorch state-dict names and layouts (import, export, detection, config inference). */
  readonly pytorch?: PyTorchFormat;
  /** The permutation symmetries, for weight matching (Git Re-Basin). */
  permutationSpec?(spec: ModelSpec): PermutationSpec;
  /** Hidden pre-activations, for activation matching and REPAIR without BatchNorm. */
  readonly activations?: ActivationHooks;
  /** The stage order of layer-wise path finding (LLPF). */
  readonly llpfStages?: LlpfStages;
  /** The block (stage) a layer group belongs to, when it is part of one (a residual block, an encoder layer). */
  blockOf?(group: string): string | undefined;
  /**
   * URL (or absolute path) of an ES module whose default or `architecture` export is this
   * architecture, so that worker threads can load it; set by `loadArchitectureModule`.
   */
  readonly module?: string;
}

/** Parameters and BatchNorm buffers of one network. */
export interface ModelState {
  readonly params: TensorMap;
  readonly buffers: TensorMap;
}

/** A network: which architecture, its config, and its tensors. */
export interface Model<Config = unknown> extends ModelState {
  readonly architecture: ArchitectureName;
  readonly config: Config;
}
