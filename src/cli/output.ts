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
