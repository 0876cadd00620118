/**
 * The one progress event of all long-running work: training a mode, training a curve, AutoNEB,
 * LLPF, the simulator, and every grid evaluation (paths, layer-wise barriers, robustness,
 * subspaces, weight matching). The library never prints; it calls `options.progress(event)`,
 * and a display (the CLI's progress bar, a log line, a notebook widget) reads any event alike:
 *
 *   fraction done = step / total,   text = `${task} ${message}`
 *
 * `step` counts over the whole task, units done in earlier (resumed) calls included, so a
 * resumed run continues its bar where it stopped.
 *
 * @example
 * await findCurve(arch, [a, b], train, { epochs: 4, progress: (e) => console.error(`${e.task} ${e.step}/${e.total} ${e.message ?? ''}`) });
 */

export interface ProgressEvent {
  /** What runs: `train`, `curve`, `autoneb`, `llpf`, `simulate`, `grid`, `weight-matching`, … */
  readonly task: string;
  /** Units done so far (1 after the first), over the whole task. */
  readonly step: number;
  /** Units of the whole task (step = total when it is done). */
  readonly total: number;
  /** A short human-readable state, e.g. `epoch 3 loss 0.412` or `linear t=0.500`. */
  readonly message?: string;
  /** Numbers of the latest unit by name (e.g. `loss`, `lr`, `epoch`), for logs and custom displays. */
  readonly metrics?: Readonly<Record<string, number>>;
}

/** A progress callback: called after each unit of work. */
export type Progress = (event: ProgressEvent) => void;

/** The error long work throws (or the reason it stops) when `options.signal` is aborted. */
export function abortError(where: string, signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  const detail = reason instanceof Error ? `: ${reason.message}` : typeof reason === 'string' ? `: ${reason}` : '';
  const error = new Error(`${where}: aborted${detail}`);
  error.name = 'AbortError';
  return error;
}

/** Throws `abortError(where, signal)` when `signal` is aborted (work that has no partial result). */
export function throwIfAborted(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted === true) throw abortError(where, signal);
}
