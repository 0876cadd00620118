/**
 * Opening input files defensively: only regular files, and reads at explicit positions.
 *
 * A reader that calls `readFile` on whatever path it is given hangs on a FIFO (open(2) blocks
 * until a writer appears), grows without bound on `/dev/zero`, and cannot read a file over 2 GiB.
 * Readers here instead open with O_NONBLOCK (so that opening a FIFO returns at once), `fstat` the
 * open handle (no race between the check and the read) and refuse anything but a regular file;
 * they then read what the file's own header says they need, at explicit offsets, in chunks of at
 * most 1 GiB (one read(2) call, and one Node read, is limited to just under 2 GiB).
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/** Largest single read, well under Node's 2 GiB − 1 limit per read call. */
const READ_CHUNK_BYTES = 2 ** 30;

/** An open regular file and its size at open time. */
export interface OpenRegularFile {
  readonly handle: FileHandle;
  readonly size: number;
}

/** What a non-regular file is, in words. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens `path` for reading and checks, on the open handle, that it is a regular file. Errors from
 * open(2) (missing file, no permission) are thrown as they are, with their `code`; a non-regular
 * file is `<label>: is a FIFO (named pipe), expected a regular file` (and the handle is closed).
 * The caller closes the returned handle.
 */
export async function openRegularFile(path: string, label: string): Promise<OpenRegularFile> {
  // O_NONBLOCK only matters for FIFOs and devices; Windows has no such flag (and no FIFOs at paths).
  const handle = await open(path, constants.O_RDONLY | ((constants.O_NONBLOCK as number | undefined) ?? 0));
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new Error(`${label}: is ${kindOf(stats)}, expected a regular file`);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Reads `into.byteLength` bytes starting at `position`; returns how many were read (fewer only
 * when the file ends first).
 */
export async function readAt(handle: FileHandle, into: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < into.byteLength) {
    const length = Math.min(READ_CHUNK_BYTES, into.byteLength - done);
    const { bytesRead } = await handle.read(into, done, length, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
