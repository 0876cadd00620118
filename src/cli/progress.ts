/**
 * Progress bars for the CLI: drawn on stderr when it is a terminal, silent otherwise (CI logs,
 * pipes). The library never prints; it calls `progress(event)` callbacks (src/progress.ts), which
 * the CLI turns into bars with these: `bar.progress` takes any library event.
 */
import type { Progress } from '../progress.js';

export interface ProgressBar {
  /** Updates the bar; `label` replaces the text after the counts. */
  update(done: number, total: number, label?: string): void;
  /** Finishes the line. */
  done(): void;
  /** The library's progress callback drawing this bar: step of total, the event's message as label. */
  readonly progress: Progress;
}

export interface ProgressOptions {
  /** Stream to draw on (default process.stderr). */
  readonly stream?: NodeJS.WriteStream;
  /** Force drawing even when the stream is not a terminal (tests). */
  readonly force?: boolean;
  /** Minimum milliseconds between redraws (default 100). */
  readonly intervalMs?: number;
}

/** A bar titled `title`; a no-op when stderr is not a TTY. */
export function createProgressBar(title: string, options: ProgressOptions = {}): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const enabled = options.force === true || stream.isTTY;
  if (!enabled) return { update: () => undefined, done: () => undefined, progress: () => undefined };
  const start = Date.now();
  const interval = options.intervalMs ?? 100;
  let last = 0;
  let drawn = false;
  const bar: ProgressBar = {
    update(done, total, label = '') {
      const now = Date.now();
      if (now - last < interval && done < total) return;
      last = now;
      drawn = true;
      stream.write(`\r${formatBar(title, done, total, (now - start) / 1000, label)}\x1b[K`);
    },
    done() {
      if (drawn) stream.write('\n');
    },
    progress: (event) => bar.update(event.step, event.total, event.message),
  };
  return bar;
}

/** One line: `title [#####.....] 50% 5/10 12.3s eta 12.3s label`. */
export function formatBar(title: string, done: number, total: number, elapsedSeconds: number, label = ''): string {
  const width = 24;
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * width);
  const eta = fraction > 0 ? (elapsedSeconds * (1 - fraction)) / fraction : NaN;
  const etaText = Number.isFinite(eta) ? ` eta ${eta.toFixed(0)}s` : '';
  return `${title} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${done}/${total} ${elapsedSeconds.toFixed(0)}s${etaText}${label === '' ? '' : ` ${label}`}`;
}
