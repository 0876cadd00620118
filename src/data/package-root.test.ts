import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findPackageRoot } from './package-root.js';

describe('findPackageRoot', () => {
  it('finds this repository from src/data', () => {
    const root = findPackageRoot();
    expect(existsSync(join(root, 'package.json'))).toBe(true);
    expect(existsSync(join(root, 'src', 'data', 'package-root.ts'))).toBe(true);
  });

  it('walks up from a built module in dist/data to the folder with package.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modeconn-root-'));
    try {
      await mkdir(join(dir, 'dist', 'data'), { recursive: true });
      await writeFile(join(dir, 'package.json'), '{}');
      expect(findPackageRoot(pathToFileURL(join(dir, 'dist', 'data', 'datasets.js')).href)).toBe(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
