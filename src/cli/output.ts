/**
 * Tidy rows out of the CLI: JSON on stdout, CSV files, written atomically.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

export { toCsv } from '../util/csv.js';

/** Writes text to `path` atomically (see `util/atomic-write.ts`), creating the folder. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, text);
}

/**
 * The unit of error barriers everywhere the toolkit shows one (text, JSON, CSV, charts, report): a
 * fraction of the evaluated examples, like the accuracy columns (0.015 = 1.5 points of accuracy).
 */
export const ERROR_BARRIER_UNIT = 'Error barriers are fractions of the evaluated examples (0.015 = 1.5 accuracy points), in text, JSON, CSV and charts alike.';

/**
 * Prints rows as a tab-separated table with a header line (columns of the first row). A column of
 * integers (epoch, layer index, examples) prints as integers, any other number column with 4 decimals.
 */
export function printRowsTable(rows: readonly Record<string, unknown>[]): void {
  for (const line of formatRowsTable(rows)) console.log(line);
}

/** The lines {@link printRowsTable} prints. */
export function formatRowsTable(rows: readonly Record<string, unknown>[]): string[] {
  const columns = Object.keys(rows[0] ?? {});
  const integral = new Set(columns.filter((c) => rows.every((r) => typeof r[c] !== 'number' || Number.isInteger(r[c]))));
  const cell = (value: unknown, column: string): string => (typeof value !== 'number' ? String(value) : integral.has(column) ? String(value) : value.toFixed(4));
  return [columns.join('\t'), ...rows.map((row) => columns.map((c) => cell(row[c], c)).join('\t'))];
}

/** The barrier metrics of one split in words, the error barrier as a fraction ({@link ERROR_BARRIER_UNIT}). */
export function formatBarrierMetrics(m: { readonly lossA: number; readonly lossB: number; readonly lossBarrier: number; readonly lossBarrierEndpointMean: number; readonly errorBarrier: number }): string {
  const maxLoss = m.lossBarrierEndpointMean + (m.lossA + m.lossB) / 2;
  return `max loss ${maxLoss.toFixed(4)}, loss barrier ${m.lossBarrier.toFixed(4)} (endpoint-mean form ${m.lossBarrierEndpointMean.toFixed(4)}), error barrier ${m.errorBarrier.toFixed(4)}`;
}
