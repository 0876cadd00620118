/**
 * Tidy rows produced by the barrier, path and averaging analyses and consumed by the chart
 * builders, JSON and CSV writers. One row per evaluated point; numbers in natural units
 * (loss in nats of mean cross-entropy, accuracy in 0..1).
 */

export type Split = 'train' | 'test';

/** A point on a path θ(t). */
export interface PathRow {
  /** Which path (e.g. `linear`, `bezier`, `llpf`); lets one chart compare methods. */
  readonly path: string;
  readonly t: number;
  readonly split: Split;
  readonly loss: number;
  readonly accuracy: number;
}

/** Single-layer interpolation: only `layer` at t, every other layer from endpoint `rest`. */
export interface LayerRow {
  readonly layer: string;
  /** Position of the layer group, input side = 0. */
  readonly layerIndex: number;
  readonly rest: 'A' | 'B';
  readonly t: number;
  readonly split: Split;
  readonly loss: number;
  readonly accuracy: number;
  /** Barrier of this layer's path (interpolation-baseline form, loss), repeated on each row of the layer. */
  readonly barrier?: number;
  /** Training epoch of the checkpoints, for layer × epoch analyses. */
  readonly epoch?: number;
}

/** Cumulative interpolation: layers added one at a time in an order, midpoint barrier after each. */
export interface CumulativeRow {
  readonly order: 'shallow' | 'deep' | 'random';
  /** Number of layers interpolated so far (1 = first layer of the order). */
  readonly step: number;
  readonly addedLayer: string;
  readonly split: Split;
  readonly loss: number;
  readonly accuracy: number;
  /** Midpoint loss minus the mean of the endpoint losses. */
  readonly barrier: number;
}

/** Loss when layer `layer` of A moves along a direction by the step t (robustness). */
export interface RobustnessRow {
  readonly layer: string;
  readonly direction: 'interpolation' | 'random';
  readonly sample: number;
  readonly t: number;
  readonly split: Split;
  readonly loss: number;
  readonly accuracy: number;
}

/** Loss versus perturbation magnitude along a kind of direction (subspace analysis). */
export interface SubspaceRow {
  readonly direction: 'interpolation' | 'training-subspace' | 'null-space';
  readonly sample: number;
  /** ‖perturbation‖ relative to ‖θ_B − θ_A‖. */
  readonly magnitude: number;
  readonly split: Split;
  readonly loss: number;
  readonly accuracy: number;
}

/** One grid point of a 2D loss surface on the plane through three parameter maps. */
export interface SurfaceRow {
  /** Coordinates in the plane's orthonormal basis, in units of ‖w_2 − w_0‖. */
  readonly u: number;
  readonly v: number;
  readonly split: Split;
  readonly loss: number;
  readonly accuracy: number;
}

/** A named 2D point (a mode, a bend or a path point) projected onto a plane or PCA axes. */
export interface ProjectedPoint {
  readonly label: string;
  /** Path or series the point belongs to, or `mode`. */
  readonly series: string;
  readonly u: number;
  readonly v: number;
  /** Order along its path (t or tick), for drawing lines. */
  readonly order: number;
}

/** One recorded tick of an LLPF run. */
export interface LlpfRow {
  readonly tick: number;
  readonly split: Split;
  readonly loss: number;
  readonly accuracy: number;
  /** ‖θ‖₂ over all parameters. */
  readonly weightNorm: number;
  /** ‖θ − target‖₂. */
  readonly distanceToTarget: number;
  /** Highest loss on the segment from the previous recorded point (continuity check), when measured. */
  readonly segmentMaxLoss?: number;
}

/** Per-layer statistics over ticks (variance of LLPF points, of averaged models in gossip runs). */
export interface LayerStatRow {
  readonly tick: number;
  readonly layer: string;
  readonly variance: number;
  /** Configuration or run label. */
  readonly series: string;
}
