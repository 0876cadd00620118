/** Tidy rows of the landscape analyses (one row per evaluated point and split). */
import type { Split } from '../rows/rows.js';

/** f(α) = L(θ + α·d) (1-D) or f(α, β) = L(θ + α·d + β·e) (2-D) along filter-normalized directions. */
export interface DirectionRow {
  readonly alpha: number;
  /** Present for 2-D landscapes only. */
  readonly beta?: number;
  readonly split: Split;
  readonly loss: number;
  readonly accuracy: number;
}

/** Distance and similarity of one layer group of two models (Adilova et al., ICLR 2024). */
export interface LayerComparisonRow {
  readonly layer: string;
  /** Position of the layer group, input side = 0; the whole model is the row after the last group, layer `all`. */
  readonly layerIndex: number;
  /** ‖θ_A^l − θ_B^l‖₂ over the group's trainable tensors. */
  readonly distance: number;
  /** ⟨θ_A^l, θ_B^l⟩ / (‖θ_A^l‖·‖θ_B^l‖); NaN when either norm is 0. */
  readonly cosine: number;
  readonly normA: number;
  readonly normB: number;
}

/** How often two models predict the same class on a split. */
export interface AgreementRow {
  readonly split: Split;
  /** Fraction of examples where argmax f_A = argmax f_B. */
  readonly agreement: number;
  readonly accuracyA: number;
  readonly accuracyB: number;
  readonly count: number;
}

/** One cell of the K×K disagreement matrix: examples predicted `predictedA` by A and `predictedB` by B. */
export interface DisagreementRow {
  readonly split: Split;
  readonly predictedA: number;
  readonly predictedB: number;
  readonly count: number;
}
