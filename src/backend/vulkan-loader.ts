/**
 * Where the Vulkan loader (`libvulkan.so.1`) would be found by the dynamic linker on Linux, or
 * undefined: LD_LIBRARY_PATH, the directories of /etc/ld.so.conf (and the files it includes),
 * then the default library directories.
 *
 * Dawn reaches the GPU through this library on Linux; without it Dawn finds no adapter and prints
 * a warning of its own on stderr, which `auto` avoids by looking first. Only a hint: an explicit
 * `webgpu` request skips this check and lets Dawn look for itself.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const VULKAN_LOADER = 'libvulkan.so.1';

const DEFAULT_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib'];

/** The library search directories, in the linker's order (without its binary cache). */
export function librarySearchDirs(env: NodeJS.ProcessEnv = process.env, confFile = '/etc/ld.so.conf'): string[] {
  const fromEnv = (env['LD_LIBRARY_PATH'] ?? '').split(':').filter((d) => d !== '');
  return [...new Set([...fromEnv, ...confDirs(confFile, 0), ...DEFAULT_DIRS])];
}

/** The first `libvulkan.so.1` on the search path, or undefined. */
export function findVulkanLoader(env: NodeJS.ProcessEnv = process.env, confFile = '/etc/ld.so.conf'): string | undefined {
  for (const dir of librarySearchDirs(env, confFile)) {
    const path = join(dir, VULKAN_LOADER);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Directories listed in an ld.so.conf file; `include PATTERN` lines with a `*.conf` glob are followed (depth ≤ 4). */
function confDirs(file: string, depth: number): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const dirs: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const include = /^include\s+(.+)$/.exec(line);
    if (include === null) {
      dirs.push(line);
      continue;
    }
    if (depth >= 4) continue;
    const pattern = (include[1] as string).trim();
    const folder = dirname(pattern);
    const base = pattern.slice(folder.length + 1);
    const star = base.indexOf('*');
    let files: string[];
    try {
      files = star < 0 ? [base] : readdirSync(folder).filter((f) => f.startsWith(base.slice(0, star)) && f.endsWith(base.slice(star + 1))).sort();
    } catch {
      files = [];
    }
    for (const f of files) dirs.push(...confDirs(join(folder, f), depth + 1));
  }
  return dirs;
}
