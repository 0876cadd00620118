import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findVulkanLoader, librarySearchDirs, VULKAN_LOADER } from './vulkan-loader.js';

const root = mkdtempSync(join(tmpdir(), 'vulkan-loader-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string, withLoader: boolean): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  if (withLoader) writeFileSync(join(dir, VULKAN_LOADER), '');
  return dir;
}

describe('findVulkanLoader', () => {
  const envDir = folder('env', false);
  const confDir = folder('conf-listed', true);
  const includedDir = folder('included', true);
  const confD = folder('ld.so.conf.d', false);
  writeFileSync(join(confD, 'b-gpu.conf'), `# vendor libraries\n${includedDir}\n`);
  writeFileSync(join(confD, 'a-ignored.txt'), `${join(root, 'not-a-conf')}\n`);
  const conf = join(root, 'ld.so.conf');
  writeFileSync(conf, `${confDir}  # trailing comment\ninclude ${confD}/*.conf\n\n`);

  it('searches LD_LIBRARY_PATH, then ld.so.conf with its includes, then the default directories', () => {
    const dirs = librarySearchDirs({ LD_LIBRARY_PATH: `${envDir}::/opt/x` }, conf);
    expect(dirs.slice(0, 4)).toEqual([envDir, '/opt/x', confDir, includedDir]);
    expect(dirs).toContain('/usr/lib/x86_64-linux-gnu');
    expect(dirs).not.toContain(join(root, 'not-a-conf'));
  });

  it('returns the first libvulkan.so.1 on that path', () => {
    expect(findVulkanLoader({}, conf)).toBe(join(confDir, VULKAN_LOADER));
    writeFileSync(join(envDir, VULKAN_LOADER), '');
    expect(findVulkanLoader({ LD_LIBRARY_PATH: envDir }, conf)).toBe(join(envDir, VULKAN_LOADER));
  });

  it('an unreadable ld.so.conf is no error (defaults only)', () => {
    expect(librarySearchDirs({}, join(root, 'missing.conf'))[0]).toBe('/lib/x86_64-linux-gnu');
  });
});
