/**
 * Tidy rows out of the CLI: JSON on stdout, CSV files, written atomically.
 */
import { writeFile, rename, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export { toCsv } from '../util/csv.js';

/** Writes text to `path` atomically (temp file, then rename), creating the folder. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
