/**
 * The optional capabilities of an architecture: what the toolkit can do with it beyond init and
 * apply. An architecture declares each one it supports as a field of its `Architecture` object
 * (see types.ts), in its own folder (src/models/<name>/); the code that needs a capability asks the
 * architecture for it and, when it is absent, fails with an error that names the architecture and
 * the missing field (`missingCapability`). No code outside an architecture's folder and the
 * registry compares architecture names.
 *
 *   capability         used by                                   absent means
 *   pytorch            checkpoint/pytorch.ts (import, export,    no PyTorch import/export, not detected
 *                      detection, config inference)
 *   permutationSpec    align/weight-matching, `path --align`     no weight matching
 *   activations        align/activation-matching, align/repair   no activation matching / REPAIR
 *                      (REPAIR of models without BatchNorm)
 *   llpfStages         paths/llpf.ts (default schedule)          every layer group moves from tick 0
 *   blockOf            models/layer-stage.ts                     every layer group is its own stage
 *
 * Adding an architecture to the toolkit: a folder src/models/<name>/ with the model (a pure
 * function of its parameter map, e.g. <name>.ts), one file per capability it has (pytorch.ts,
 * permutation-spec.ts, stages.ts, activations.ts) and an index.ts that exports the one
 * `Architecture` object combining them; then one line in `BUILT_IN` of registry.ts. A user's own
 * architecture is the same object, registered with `registerArchitecture` (or loaded from a module
 * with `loadArchitectureModule`, the CLI's `--architecture-module`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ModelState, TensorSpec } from './types.js';

// ---------------------------------------------------------------------------------------------
// Permutation symmetries (Ainsworth, Hayase, Srinivasa 2023, "Git Re-Basin")
// ---------------------------------------------------------------------------------------------

/** One axis of one tensor that a permutation acts on. */
export interface PermutedAxis {
  readonly tensor: string;
  readonly axis: number;
  /** Length of the innermost block (default 1): index = o·(size·stride) + p·stride + r, P acts on p. */
  readonly stride?: number;
}

/** A permutation P_l of `size` units and every tensor axis it acts on. */
export interface PermutationGroup {
  readonly name: string;
  readonly size: number;
  readonly axes: readonly PermutedAxis[];
}

/** Every permutation symmetry of a network (see src/align/permutation-spec.ts for the convention). */
export interface PermutationSpec {
  readonly groups: readonly PermutationGroup[];
}

// ---------------------------------------------------------------------------------------------
// PyTorch state dicts
// ---------------------------------------------------------------------------------------------

/** A tensor's shape as a state dict holds it (PyTorch layout). */
export interface ShapedTensor {
  readonly shape: readonly number[];
}

/**
 * How an architecture's PyTorch state dicts are named and laid out. The generic rules live in
 * src/checkpoint/pytorch.ts: a DataParallel `module.` prefix is stripped, `num_batches_tracked` is
 * dropped, conv kernels are OIHW ↔ HWIO, Linear weights [out, in] ↔ [in, out], everything else as
 * is. The hooks here say what differs for this architecture.
 */
export interface PyTorchFormat {
  /** Whether a state dict with these names (`module.` prefix already stripped) holds this architecture. */
  matches(names: readonly string[]): boolean;
  /**
   * A known network that resembles this family but is another one this format does not read
   * (pytorch-cifar's ShuffleNetG2 beside DFL_torch's ShuffleNet): a sentence naming it when the
   * names are its, for the detection error; undefined otherwise.
   */
  lookalike?(names: readonly string[]): string | undefined;
  /**
   * Naming conventions for export, the default first (ResNet18: torchvision, pytorch-cifar).
   * Absent: one convention, our names; any naming asked for is then ignored.
   */
  readonly namings?: readonly string[];
  /** Our name for a name in the file (`module.` already stripped); default: the same name. */
  canonicalName?(name: string): string;
  /**
   * The file's name for one of ours in `naming` (one of `namings`, or '' when there are none);
   * default: the same name.
   */
  nameOf?(name: string, naming: string): string;
  /**
   * For a dense weight that reads a flattened C×H×W feature map: its (C, H, W), so that the input
   * rows are reordered between PyTorch's channel-major and NHWC's channel-minor flattening.
   */
  denseInputOrder?(spec: TensorSpec): readonly [number, number, number] | undefined;
  /** PyTorch's shape of a tensor where it is not the generic one (e.g. a leading batch axis of 1). */
  pytorchShape?(spec: TensorSpec): readonly number[] | undefined;
  /**
   * Config fields implied by the tensor shapes (PyTorch layouts, canonical names); fields the shapes
   * do not determine are left out. `shapeOf(name, rank)` throws a located error when a tensor is
   * missing or has another rank; other errors should start with `source`.
   */
  inferConfig(tensors: ReadonlyMap<string, ShapedTensor>, shapeOf: (name: string, rank: number) => readonly number[], source: string): Record<string, unknown>;
  /**
   * Checks the inferred config merged with the caller's fields before parsing, for fields the shapes
   * cannot give and defaults must not silently fill (CCT's heads); throws an error naming `source`.
   */
  checkConfig?(inferred: Readonly<Record<string, unknown>>, given: Readonly<Record<string, unknown>>, source: string): void;
}

// ---------------------------------------------------------------------------------------------
// Activation hooks (activation matching, REPAIR)
// ---------------------------------------------------------------------------------------------

/** A hidden layer whose output units can be permuted or rescaled. */
export interface HiddenLayer {
  /** The layer's name; also the name of its permutation group in `permutationSpec`. */
  readonly name: string;
  /** The kernel whose last axis is the layer's output units. */
  readonly weight: string;
  /** The bias over the output units. */
  readonly bias: string;
}

/** The hidden pre-activations of a network, for the statistics activation matching and REPAIR need. */
export interface ActivationHooks {
  /** The hidden layers, input side first (the logits layer is not one). */
  readonly hidden: readonly HiddenLayer[];
  /**
   * Pre-activations (before the nonlinearity) of every hidden layer as [positions, units] matrices
   * (conv layers: N·H·W rows), keyed by `HiddenLayer.name`, plus the logits. The caller disposes them.
   */
  preActivations(state: ModelState, x: tf.Tensor4D): { hidden: Map<string, tf.Tensor2D>; logits: tf.Tensor2D };
}

// ---------------------------------------------------------------------------------------------
// LLPF stage order
// ---------------------------------------------------------------------------------------------

/**
 * The stage order of layer-wise path finding (Tian et al.): layer group g starts moving at tick
 * `stageOf(g) · stageTicks`.
 */
export interface LlpfStages {
  /** `stageTicks` when the caller gives none (the paper's). */
  readonly defaultStageTicks: number;
  /** The stage index (0, 1, …) of a layer group. */
  stageOf(group: string): number;
}

/** The error for a capability an architecture does not declare. */
export function missingCapability(architecture: string, capability: string, what: string, hint = ''): Error {
  return new Error(`${what}: architecture "${architecture}" does not define ${capability}${hint === '' ? '' : `; ${hint}`}`);
}
