/**
 * Output paths checked before any work: a command that trains for an hour and then cannot write
 * its result has lost the hour. Every command lists its outputs (`--out`, `--csv`, …) and calls
 * `checkOutputPaths` right after parsing its options, before loading data or computing.
 *
 * A file output must not be a folder; a folder output must not be a file. The folders on the way
 * are created now, as the writers would (some create them, some do not): the nearest existing one
 * must be a writable folder, and nothing on the way may be a file.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export interface OutputPath {
  /** The path as the user gave it. */
  readonly path: string;
  /** A file written there, or a folder that receives several files. */
  readonly kind: 'file' | 'folder';
  /** How the user named it in errors, e.g. `--out`, `--csv`, `OUTPUT`. */
  readonly option: string;
}

/** Throws, naming the option and the path, unless every output can be written; creates missing folders. */
export async function checkOutputPaths(outputs: readonly OutputPath[]): Promise<void> {
  for (const output of outputs) await checkOutputPath(output);
}

async function checkOutputPath({ path, kind, option }: OutputPath): Promise<void> {
  const fail = (reason: string): Error => new Error(`${option}: cannot write ${path}: ${reason}`);
  const existing = await stat(path).catch(() => undefined);
  if (existing !== undefined) {
    if (kind === 'file' && existing.isDirectory()) throw new Error(`${option}: ${path} is a folder; expected a file path`);
    if (kind === 'folder' && !existing.isDirectory()) throw new Error(`${option}: ${path} is a file; expected a folder`);
  }
  // The folder that must hold the output: the output itself (folder) or its parent (file).
  const folder = kind === 'folder' ? resolve(path) : dirname(resolve(path));
  let nearest = folder;
  let info = await stat(nearest).catch(() => undefined);
  while (info === undefined && dirname(nearest) !== nearest) {
    nearest = dirname(nearest);
    info = await stat(nearest).catch(() => undefined);
  }
  if (info === undefined) throw fail(`no folder on the way exists`);
  if (!info.isDirectory()) throw fail(`${nearest} is a file, not a folder`);
  try {
    await access(nearest, constants.W_OK | constants.X_OK);
  } catch {
    throw fail(`the folder ${nearest} is not writable`);
  }
  if (kind === 'file' && existing !== undefined) {
    // Writers replace files by rename, which needs the folder (checked above), not the file.
    return;
  }
  if (nearest !== folder) await mkdir(folder, { recursive: true });
}
