import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { removeStaleTempFiles, tempPathFor, writeFileAtomic, writeFileAtomicWith } from './atomic-write.js';

// Lets a test fix the "random" suffix, to plant a symlink at the exact name a write will use.
const fixedRandom = vi.hoisted(() => ({ bytes: undefined as Buffer | undefined }));
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  return { ...crypto, randomBytes: (n: number) => fixedRandom.bytes ?? crypto.randomBytes(n) };
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-atomic-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Names in `dir` that look like temporary files. */
async function temps(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((f) => f.endsWith('.tmp'));
}

describe('writeFileAtomic', () => {
  it('writes text, bytes and chunk lists, replaces an existing file, and leaves no temporary file', async () => {
    const path = join(dir, 'out.json');
    await writeFileAtomic(path, 'first\n');
    expect(await readFile(path, 'utf8')).toBe('first\n');
    await writeFileAtomic(path, new Uint8Array([104, 105]));
    expect(await readFile(path, 'utf8')).toBe('hi');
    await writeFileAtomic(path, [new Uint8Array([97]), new Uint8Array(0), new Uint8Array([98, 99])]);
    expect(await readFile(path, 'utf8')).toBe('abc');
    expect(await temps(dir)).toEqual([]);
  });

  it('temporary names are .<base>.<16 random hex>.tmp in the target folder, never twice the same', () => {
    const a = tempPathFor(join(dir, 'epoch-1.safetensors'));
    const b = tempPathFor(join(dir, 'epoch-1.safetensors'));
    expect(a).toMatch(new RegExp(`^${dir.replace(/[.\\/]/g, '\\$&')}/\\.epoch-1\\.safetensors\\.[0-9a-f]{16}\\.tmp$`));
    expect(a).not.toBe(b);
  });

  it('does not write through a symlink planted at the old predictable name <out>.<pid>.tmp', async () => {
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    const out = join(dir, 'rows.csv');
    await symlink(victim, `${out}.${process.pid}.tmp`);
    await writeFileAtomic(out, 'a,b\n1,2\n');
    expect(await readFile(out, 'utf8')).toBe('a,b\n1,2\n');
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(out)).isSymbolicLink()).toBe(false);
    await rm(`${out}.${process.pid}.tmp`);
  });

  it('refuses to create its temporary file over anything planted at that exact name (O_EXCL), and removes nothing of it', async () => {
    const victim = join(dir, 'victim-2.txt');
    await writeFile(victim, 'precious');
    const out = join(dir, 'metrics.json');
    fixedRandom.bytes = Buffer.from('0011223344556677', 'hex');
    try {
      const planted = tempPathFor(out);
      expect(planted).toBe(join(dir, '.metrics.json.0011223344556677.tmp'));
      await symlink(victim, planted);
      await expect(writeFileAtomic(out, '{}')).rejects.toThrow(/cannot write .*metrics\.json: EEXIST/);
      expect(await readFile(victim, 'utf8')).toBe('precious');
      expect(await readlink(planted)).toBe(victim);
      await rm(planted);
    } finally {
      fixedRandom.bytes = undefined;
    }
    await expect(lstat(out)).rejects.toThrow(/ENOENT/);
  });

  it('a failure midway leaves the old file intact and no temporary file', async () => {
    const path = join(dir, 'state.safetensors');
    await writeFileAtomic(path, 'old');
    await expect(
      writeFileAtomicWith(path, async (handle) => {
        await handle.write(new Uint8Array(1000));
        throw new Error('ENOSPC: no space left on device (simulated)');
      }),
    ).rejects.toThrow(/cannot write .*state\.safetensors: ENOSPC/);
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await temps(dir)).toEqual([]);
  });

  it('a folder as target (e.g. --csv onto an existing folder) is refused, and no temporary file is left', async () => {
    const folder = join(dir, 'a-folder');
    await mkdir(folder);
    await expect(writeFileAtomic(folder, 'x')).rejects.toThrow(/cannot write .*a-folder: it is a folder, expected a file path/);
    expect(await temps(dir)).toEqual([]);
    // A missing parent folder: the temporary file cannot even be created.
    await expect(writeFileAtomic(join(dir, 'missing', 'x.csv'), 'x')).rejects.toThrow(/cannot write .*missing\/x\.csv: ENOENT/);
  });
});

describe('removeStaleTempFiles', () => {
  it('removes our temporary files (new and old naming) and nothing else; a symlink is unlinked, not followed', async () => {
    const run = join(dir, 'run');
    await mkdir(run);
    const victim = join(dir, 'victim-3.txt');
    await writeFile(victim, 'precious');
    const ours = ['.epoch-1.safetensors.0123456789abcdef.tmp', 'epoch-2.safetensors.12345.tmp', '.metrics.json.fedcba9876543210.tmp'];
    for (const name of ours) await writeFile(join(run, name), 'partial');
    await symlink(victim, join(run, '.train-state.safetensors.aaaaaaaaaaaaaaaa.tmp'));
    const theirs = ['notes.tmp', '.hidden.tmp', 'epoch-1.safetensors', '.x.0123.tmp', 'data.abc.tmp'];
    for (const name of theirs) await writeFile(join(run, name), 'keep');
    await mkdir(join(run, '.folder.0123456789abcdef.tmp'));

    const onlyMetrics = await removeStaleTempFiles(run, 'metrics.json');
    expect(onlyMetrics).toEqual([join(run, '.metrics.json.fedcba9876543210.tmp')]);
    const removed = await removeStaleTempFiles(run, (base) => base.endsWith('.safetensors'));
    expect(removed.sort()).toEqual([join(run, '.epoch-1.safetensors.0123456789abcdef.tmp'), join(run, '.train-state.safetensors.aaaaaaaaaaaaaaaa.tmp'), join(run, 'epoch-2.safetensors.12345.tmp')].sort());
    expect((await readdir(run)).sort()).toEqual([...theirs, '.folder.0123456789abcdef.tmp'].sort());
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect(await removeStaleTempFiles(join(dir, 'no-such-run'))).toEqual([]);
  });
});
