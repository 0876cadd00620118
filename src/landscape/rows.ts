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
