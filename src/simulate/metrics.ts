/**
 * Tidy rows of a decentralized learning run and the summaries read off them.
 *
 * Plateau delay (Tian et al. 2024): the first recorded tick at which the mean test accuracy over
 * the nodes reaches 50 % and 80 %, and the tick that ends the largest increase of the mean
 * accuracy between two consecutive records (the end of the plateau when there is one).
 */
import type { LayerStatRow } from '../rows/rows.js';
import type { AccuracyBandRow } from '../charts/accuracy-band-chart.js';

/** One recorded tick of one run: statistics over the nodes' models. */
export interface TickRow {
  /** Run label (e.g. `gossip-corrected`). */
  readonly series: string;
  readonly tick: number;
  /** Test accuracy (0..1) over the nodes: mean, min, max. */
  readonly accuracyMean: number;
  readonly accuracyMin: number;
  readonly accuracyMax: number;
  /** Test loss (mean cross-entropy, nats) over the nodes. */
  readonly lossMean: number;
  readonly lossMin: number;
  readonly lossMax: number;
  /** Mean variance-correction factor applied since the previous record; null when none was applied. */
  readonly correctionFactor: number | null;
  /** Averaging events since the previous record. */
  readonly averagings: number;
  /** Training steps (one node, one batch) so far. */
  readonly trainSteps: number;
  /** Bytes of model parameters sent so far (float32). */
  readonly bytesSent: number;
}

/** One node's test metrics at one recorded tick. */
export interface NodeRow {
  readonly series: string;
  readonly tick: number;
  readonly node: number;
  readonly accuracy: number;
  readonly loss: number;
}

/** Everything a run records. */
export interface SimulationRows {
  readonly ticks: TickRow[];
  /** Per-layer weight variance (mean over nodes) at each recorded tick. */
  readonly layers: LayerStatRow[];
  readonly nodes: NodeRow[];
}

export interface PlateauDelay {
  readonly series: string;
  /** First tick with mean accuracy ≥ 0.5; null if never. */
  readonly tick50: number | null;
  /** First tick with mean accuracy ≥ 0.8; null if never. */
  readonly tick80: number | null;
  /** Tick ending the largest rise of the mean accuracy between consecutive records; null with < 2 records. */
  readonly largestJumpTick: number | null;
  /** That rise (accuracy units). */
  readonly largestJump: number;
}

/** Plateau delay of the rows of one series (ordered by tick). */
export function plateauDelay(rows: readonly TickRow[]): PlateauDelay {
  const sorted = [...rows].sort((a, b) => a.tick - b.tick);
  const first = (level: number) => sorted.find((r) => r.accuracyMean >= level)?.tick ?? null;
  let largestJumpTick: number | null = null;
  let largestJump = 0;
  for (let i = 1; i < sorted.length; i++) {
    const jump = (sorted[i] as TickRow).accuracyMean - (sorted[i - 1] as TickRow).accuracyMean;
    if (largestJumpTick === null || jump > largestJump) {
      largestJump = jump;
      largestJumpTick = (sorted[i] as TickRow).tick;
    }
  }
  return { series: sorted[0]?.series ?? '', tick50: first(0.5), tick80: first(0.8), largestJumpTick, largestJump };
}

/** First recorded tick at which the mean accuracy reaches `level`; null if never. */
export function ticksToAccuracy(rows: readonly TickRow[], level: number): number | null {
  return [...rows].sort((a, b) => a.tick - b.tick).find((r) => r.accuracyMean >= level)?.tick ?? null;
}

/** Rows for `accuracyBandChart`. */
export function accuracyBandRows(rows: readonly TickRow[]): AccuracyBandRow[] {
  return rows.map((r) => ({ series: r.series, tick: r.tick, mean: r.accuracyMean, min: r.accuracyMin, max: r.accuracyMax }));
}

export { toCsv } from '../util/csv.js';
