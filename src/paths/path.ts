/**
 * A path in parameter space: θ(t) for t ∈ [0, 1]. Linear interpolation, Bezier/PolyChain curves,
 * AutoNEB chains and LLPF paths all implement this, so the barrier evaluation treats them alike
 * and every method can be compared on one chart.
 */
import type { ArchitectureName, ModelState } from '../models/types.js';

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
}
