/**
 * Atomic file writes, the one way every writer of this package puts a file on disk.
 *
 * Protocol (POSIX: rename(2) within one file system replaces the target atomically):
 *
 *     1. create  <dir>/.<base>.<16 random hex digits>.tmp  with O_CREAT | O_EXCL (flag 'wx')
 *     2. write the bytes, fsync
 *     3. rename the temporary file over <dir>/<base>, then fsync <dir> (best effort)
 *
 * A reader therefore sees either the old file or the complete new one, never a half-written one.
 * The temporary file lives in the target's folder (so the rename never crosses file systems), its
 * name is unpredictable (64 random bits), and O_EXCL makes the creation fail rather than follow a
 * symlink or reuse a file planted at that name. On every failure path the temporary file is
 * removed and the target is left as it was.
 *
 * A process killed between steps 1 and 3 leaves its temporary file behind; the names are
 * recognizable, and `removeStaleTempFiles` deletes them when a run resumes in that folder.
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What `writeFileAtomic` accepts: text (written as UTF-8), bytes, or a list of byte chunks. */
export type AtomicWriteData = string | Uint8Array | readonly Uint8Array[];

/** Temporary files of our naming: `.<base>.<16 hex digits>.tmp`. */
const TEMP_NAME = /^\.(.+)\.[0-9a-f]{16}\.tmp$/;
/** Temporary files of the naming used before (`<base>.<pid>.tmp`), also ours. */
const LEGACY_TEMP_NAME = /^(.+)\.[0-9]+\.tmp$/;

/** A fresh, unpredictable temporary name beside `path`. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
}

/** Writes all of `bytes` through `handle` (write() may write less than asked). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written);
    written += bytesWritten;
  }
}

/** fsync of the folder, so that the rename itself survives a crash; not possible everywhere. */
async function syncFolder(folder: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Some platforms and file systems cannot open or fsync a folder; the rename is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes a file atomically with a caller-supplied writer (the streaming variant): `write` gets the
 * handle of the temporary file and writes the content through it, e.g. tensor by tensor. Errors
 * are `cannot write <path>: <reason>`; the temporary file never outlives a failure.
 */
export async function writeFileAtomicWith(path: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(path);
  let created = false;
  try {
    const existing = await lstat(path).catch(() => undefined);
    if (existing?.isDirectory() === true) throw new Error('it is a folder, expected a file path');
    const handle = await open(tmp, 'wx');
    created = true;
    try {
      await write(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    created = false;
  } catch (error) {
    if (created) await rm(tmp, { force: true });
    throw new Error(`cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
  await syncFolder(dirname(path));
}

/**
 * Writes `data` to `path` atomically (see the protocol above). Text is written as UTF-8; a list
 * of chunks is written in order without being concatenated first.
 *
 * @example await writeFileAtomic('out/metrics.json', `${JSON.stringify(rows)}\n`);
 */
export async function writeFileAtomic(path: string, data: AtomicWriteData): Promise<void> {
  const chunks = typeof data === 'string' ? [new TextEncoder().encode(data)] : data instanceof Uint8Array ? [data] : data;
  await writeFileAtomicWith(path, async (handle) => {
    for (const chunk of chunks) await writeAll(handle, chunk);
  });
}

/**
 * Deletes the temporary files that interrupted atomic writes left in `dir`: names
 * `.<base>.<16 hex>.tmp` (and the older `<base>.<pid>.tmp`). With `target` (a name, or a test on
 * the name), only those whose target `<base>` it accepts. Only files and symlinks are removed (a symlink is unlinked, its target untouched);
 * call it when a run resumes in `dir`, never while another process writes there. Returns the
 * paths removed; a missing `dir` removes nothing.
 */
export async function removeStaleTempFiles(dir: string, target?: string | ((base: string) => boolean)): Promise<string[]> {
  const accepts = target === undefined ? () => true : typeof target === 'string' ? (base: string) => base === target : target;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`cannot list ${dir} to remove stale temporary files: ${(error as Error).message}`, { cause: error });
  }
  const removed: string[] = [];
  for (const name of names) {
    const base = TEMP_NAME.exec(name)?.[1] ?? LEGACY_TEMP_NAME.exec(name)?.[1];
    if (base === undefined || !accepts(base)) continue;
    const path = join(dir, name);
    const stats = await lstat(path).catch(() => undefined);
    if (stats === undefined || !(stats.isFile() || stats.isSymbolicLink())) continue;
    await rm(path, { force: true });
    removed.push(path);
  }
  return removed;
}
