/**
 * Locates the installed package's root folder (the nearest ancestor holding package.json), so
 * files shipped with the package (data/fashion-mnist-small) are found both from src/ under tsx and
 * from dist/ after a build or an npm install.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest folder at or above the module at `moduleUrl` that contains package.json. */
export function findPackageRoot(moduleUrl: string = import.meta.url): string {
  const start = dirname(fileURLToPath(moduleUrl));
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json found in ${start} or any folder above it`);
    dir = parent;
  }
}
