import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOutputPaths } from './output-paths.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'output-paths-'));
  await writeFile(join(dir, 'file'), 'x');
  await mkdir(join(dir, 'folder'));
});
afterAll(async () => {
  await chmod(join(dir, 'folder'), 0o755).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const IS_ROOT = process.getuid?.() === 0;

describe('checkOutputPaths', () => {
  it('accepts new and existing files in writable folders, and creates missing folders on the way', async () => {
    await checkOutputPaths([
      { path: join(dir, 'file'), kind: 'file', option: '--out' },
      { path: join(dir, 'new.csv'), kind: 'file', option: '--csv' },
      { path: join(dir, 'a', 'b', 'c.safetensors'), kind: 'file', option: '--out' },
      { path: join(dir, 'run', 'seeds'), kind: 'folder', option: '--out' },
      { path: join(dir, 'folder'), kind: 'folder', option: '--out' },
    ]);
    expect(existsSync(join(dir, 'a', 'b'))).toBe(true);
    expect(existsSync(join(dir, 'a', 'b', 'c.safetensors'))).toBe(false);
    expect(existsSync(join(dir, 'run', 'seeds'))).toBe(true);
  });

  it('refuses a folder where a file goes, a file where a folder goes, and a file on the way, naming the option', async () => {
    await expect(checkOutputPaths([{ path: join(dir, 'folder'), kind: 'file', option: '--csv' }])).rejects.toThrow(`--csv: ${join(dir, 'folder')} is a folder; expected a file path`);
    await expect(checkOutputPaths([{ path: join(dir, 'file'), kind: 'folder', option: '--out' }])).rejects.toThrow(`--out: ${join(dir, 'file')} is a file; expected a folder`);
    await expect(checkOutputPaths([{ path: join(dir, 'file', 'x', 'y.csv'), kind: 'file', option: '--csv' }])).rejects.toThrow(
      `--csv: cannot write ${join(dir, 'file', 'x', 'y.csv')}: ${join(dir, 'file')} is a file, not a folder`,
    );
    expect(existsSync(join(dir, 'file', 'x'))).toBe(false);
  });

  it.skipIf(IS_ROOT)('refuses a folder without write permission (skipped as root, who may write anywhere)', async () => {
    await chmod(join(dir, 'folder'), 0o555);
    await expect(checkOutputPaths([{ path: join(dir, 'folder', 'x.csv'), kind: 'file', option: '--csv' }])).rejects.toThrow(/the folder .*folder is not writable/);
    await chmod(join(dir, 'folder'), 0o755);
  });
});
