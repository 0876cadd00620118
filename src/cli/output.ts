/**
 * Tidy rows out of the CLI: JSON on stdout, CSV files, written atomically.
 */
import { writeFile, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** CSV of rows: the union of their keys as header (first-seen order), RFC 4180 quoting. */
export function toCsv(rows: readonly object[]): string {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cell = (value: unknown): string => {
    if (value === undefined || value === null) return '';
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'number') text = String(value);
    else if (typeof value === 'boolean') text = value ? 'true' : 'false';
    else text = JSON.stringify(value) ?? '';
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = [columns.join(','), ...rows.map((row) => columns.map((c) => cell((row as Record<string, unknown>)[c])).join(','))];
  return `${lines.join('\n')}\n`;
}

/** Writes text to `path` atomically (temp file, then rename), creating the folder. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
