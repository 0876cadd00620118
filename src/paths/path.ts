/**
 * A path in parameter space: θ(t) for t ∈ [0, 1]. Linear interpolation, Bezier/PolyChain curves,
 * AutoNEB chains and LLPF paths all implement this, so the barrier evaluation treats them alike
 * and every method can be compared on one chart.
 *
 * Every path method has one shape:
 *
 *   findXxx(architecture, endpoints | start + target, data, options) → Promise<PathResult>
 *
 * (`findLinearPath`, `findCurve`, `findAutoNebPath`, `findLlpfPath`), with `options.progress`
 * taking the shared progress event (src/progress.ts) and `options.signal` (an AbortSignal)
 * stopping the work between steps: the result then says `completed: false` and holds the path
 * reached so far.
 *
 * Ownership, the one rule for every path kind:
 *   - a path owns its tensors and frees them with `dispose()` (a second call does nothing;
 *     `pointAt` after `dispose()` throws);
 *   - `pointAt(t)` (and `content()`) return new tensors that the caller owns and disposes;
 *   - models given to a `findXxx` method (or `linearPath`) stay the caller's: the path holds
 *     its own copies. The wrappers of a method's own result (`curvePath(curve)`, `nebPath(chain)`,
 *     `llpfPath(run)`) take that result over: from then on the path's `dispose()` frees it.
 *
 * A path saves to one safetensors file with `savePath` and comes back with `loadPath`
 * (saved-path.ts), whatever its method.
 *
 * @example
 * const { path } = await findCurve(arch, [a, b], batches, { epochs: 20 });
 * const rows = await evaluatePath(path, data, { points: 61 });
 * await savePath('curve.safetensors', path);
 * path.dispose();
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ArchitectureName, ModelState } from '../models/types.js';
import type { Progress } from '../progress.js';

export interface ParameterPath {
  /** Short label for rows and charts: `linear`, `bezier`, `polychain`, `autoneb`, `llpf`, … */
  readonly kind: string;
  readonly architecture: ArchitectureName;
  readonly config: unknown;
  /**
   * Parameters (and BatchNorm buffers, as the path's best guess; evaluation re-estimates them
   * for BN models) at t. The caller owns and disposes the returned tensors.
   */
  pointAt(t: number): ModelState;
  /** Frees the tensors the path holds. */
  dispose(): void;
  /**
   * What defines the path, for `savePath`: the path's own tensors (not copies; do not dispose
   * them) and its method's fields. Paths without it cannot be saved.
   */
  content?(): PathContent;
}

/** The defining tensors and fields of a path, as `savePath` writes them (saved-path.ts). */
export interface PathContent {
  /** The method that made the path: `linear`, `curve`, `autoneb` or `llpf`. */
  readonly method: string;
  /**
   * Model states by role (`start`, `end`, `bend0`, `pivot3`, `point2`, …), each with the
   * endpoints' tensor names; `buffers` may be empty (methods that only define parameters).
   */
  readonly states: ReadonlyMap<string, { readonly params: ReadonlyMap<string, tf.Tensor>; readonly buffers: ReadonlyMap<string, tf.Tensor> }>;
  /** Method-specific fields (JSON values), e.g. a curve's kind and trainable flags. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Options every path method takes. */
export interface PathOptions {
  /** Called after every step of the method (the shared event of src/progress.ts). */
  readonly progress?: Progress;
  /** Checked between steps: once aborted, the method returns what it reached with `completed: false`. */
  readonly signal?: AbortSignal;
}

/** What every path method returns. */
export interface PathResult<Info = Record<string, never>> {
  /** The path found; it owns its tensors (free with `dispose()`). */
  readonly path: ParameterPath;
  /** False when stopped by `options.signal` before the end (the path is the one reached). */
  readonly completed: boolean;
  /** How the path was made: the method's rows (per epoch, cycle or tick). No tensors. */
  readonly info: Info;
}
