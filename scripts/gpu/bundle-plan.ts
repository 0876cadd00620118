/**
 * What goes into the GPU-check bundle (scripts/gpu-bundle.sh): the packages needed to run the
 * tests, the benchmark and the demo with Node on a machine that has no Node and no network, and
 * which of their files.
 *
 *   packages = closure over package-lock.json of: our runtime dependencies, tsx, vitest, and the
 *              webgpu packages; without tfjs-node (libtensorflow), type-only packages, and
 *              platform packages for other systems
 *   files    = everything, less source maps, type declarations and TypeScript sources; the
 *              tfjs packages keep only what Node loads (dist/*.node.js, the wasm binaries);
 *              `webgpu` keeps only the linux-x64 dawn.node, esbuild not its CLI's binary copy
 */

export interface LockPackage {
  readonly version?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
  readonly libc?: readonly string[];
  readonly dev?: boolean;
}

export interface LockFile {
  readonly packages: Readonly<Record<string, LockPackage>>;
}

/** Packages the bundle starts from, besides package.json's dependencies. */
export const BUNDLE_TOOLS = ['tsx', 'vitest', 'webgpu', '@tensorflow/tfjs-backend-webgpu'] as const;

/** Never bundled: libtensorflow bindings (not the backend under test, and they download at install). */
export const BUNDLE_EXCLUDED = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] as const;

/**
 * Dependencies that a package declares but never loads in Node: @tensorflow/tfjs's Node bundle
 * (dist/tf.node.js) requires only the tfjs packages, long and seedrandom; core-js and
 * regenerator-runtime serve its browser bundles, yargs, argparse and chalk its converter tools.
 */
export const UNUSED_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  '@tensorflow/tfjs': ['core-js', 'regenerator-runtime', 'yargs', 'argparse', 'chalk'],
};

/** The lock path (`node_modules/a/node_modules/b`) that `name` resolves to from the package at `from`, as Node resolves. */
export function resolveInLock(lock: LockFile, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (lock.packages[candidate] !== undefined) return candidate;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

function runsHere(entry: LockPackage, platform: { os: string; cpu: string; libc: string }): boolean {
  if (entry.os !== undefined && !entry.os.includes(platform.os)) return false;
  if (entry.cpu !== undefined && !entry.cpu.includes(platform.cpu)) return false;
  if (entry.libc !== undefined && !entry.libc.includes(platform.libc)) return false;
  return true;
}

/**
 * Lock paths of every package the roots need, sorted. Peer dependencies are followed only for the
 * tfjs packages (tfjs-core is a peer of its backends); other peers are optional integrations
 * (typescript, jsdom, …) that the bundle does not use. Type-only packages (`@types/*`, `@webgpu/types`) are dropped.
 */
export function bundleClosure(lock: LockFile, roots: readonly string[], platform = { os: 'linux', cpu: 'x64', libc: 'glibc' }): string[] {
  const seen = new Set<string>();
  const missing: string[] = [];
  const queue: string[] = [];
  for (const root of roots) {
    const path = resolveInLock(lock, '', root);
    if (path === undefined) missing.push(root);
    else queue.push(path);
  }
  if (missing.length > 0) throw new Error(`package-lock.json: no entry for ${missing.join(', ')}; expected every bundle root in the lock`);
  while (queue.length > 0) {
    const path = queue.pop() as string;
    if (seen.has(path)) continue;
    seen.add(path);
    const entry = lock.packages[path] as LockPackage;
    const names = [...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {})];
    if (path.includes('@tensorflow/')) names.push(...Object.keys(entry.peerDependencies ?? {}));
    const unused = UNUSED_DEPENDENCIES[packageName(path)] ?? [];
    for (const name of names) {
      if (name.startsWith('@types/') || name === '@webgpu/types' || (BUNDLE_EXCLUDED as readonly string[]).includes(name) || unused.includes(name)) continue;
      const target = resolveInLock(lock, path, name);
      if (target !== undefined && runsHere(lock.packages[target] as LockPackage, platform)) queue.push(target);
    }
  }
  return [...seen].sort();
}

/** The package name of a lock path: `node_modules/a/node_modules/@s/b` → `@s/b`. */
export function packageName(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/**
 * Whether `file` (relative to its package folder, `/`-separated) goes into the bundle. Nested
 * `node_modules` folders are separate lock entries and are never walked through here.
 */
export function keepFile(name: string, file: string): boolean {
  if (file === 'package.json') return true;
  if (/\.(map|d\.ts|d\.mts|d\.cts)$/.test(file) || (/\.(ts|mts|cts)$/.test(file) && !file.endsWith('.d.ts'))) return false;
  if (name.startsWith('@tensorflow/')) return /^dist\/[^/]+\.node\.js$/.test(file) || /^dist\/[^/]+\.wasm$/.test(file) || /^LICENSE/.test(file);
  if (name === 'webgpu') return file === 'index.js' || file.startsWith('dist/linux-x64/') || /^LICENSE/.test(file);
  // esbuild's JS API runs the binary of @esbuild/linux-x64; bin/esbuild is a second copy for its CLI.
  if (name === 'esbuild') return file !== 'bin/esbuild';
  return true;
}
