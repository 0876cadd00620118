/**
 * Ctrl-C during a command's long work: SIGINT aborts the signal the work was given (the library
 * stops at its next check), and the command exits 130 (128 + SIGINT), as a shell reports an
 * interrupted program. SIGINT is listened to only while the work runs, and only once: a second
 * Ctrl-C ends the process as usual.
 *
 * Work with a resumable state (train, path llpf) returns `completed: false` and says how to go on;
 * a grid has no partial result and throws an AbortError, which {@link interruptibleGrid} turns
 * into exit 130 and one line on stderr.
 */

/** The exit status of a command stopped by Ctrl-C. */
export const INTERRUPTED = 130;

/** Runs `work` with a signal that SIGINT (Ctrl-C) aborts; the listener is removed when it settles. */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    return await work(abort.signal);
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** Whether `error` is what the library throws when its `signal` is aborted (progress.ts's abortError). */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Runs a grid command's work (which returns its exit status) under {@link withInterrupt}: an
 * AbortError becomes {@link INTERRUPTED} with "`command`: interrupted; nothing was written" on
 * stderr (the outputs are written only once the grid is complete). Other errors pass through.
 */
export async function interruptibleGrid(command: string, work: (signal: AbortSignal) => Promise<number>): Promise<number> {
  try {
    return await withInterrupt(work);
  } catch (error) {
    if (!isAbortError(error)) throw error;
    console.error(`${command}: interrupted; nothing was written (a grid is not resumable: run the command again)`);
    return INTERRUPTED;
  }
}
