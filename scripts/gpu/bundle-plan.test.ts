import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUNDLE_TOOLS, bundleClosure, keepFile, packageName, resolveInLock, type LockFile } from './bundle-plan.js';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as LockFile;
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };

describe('GPU bundle plan', () => {
  it('resolves as Node does: a nested copy first, then the top level', () => {
    const fake: LockFile = { packages: { 'node_modules/a': {}, 'node_modules/b': {}, 'node_modules/a/node_modules/b': {} } };
    expect(resolveInLock(fake, 'node_modules/a', 'b')).toBe('node_modules/a/node_modules/b');
    expect(resolveInLock(fake, 'node_modules/b', 'a')).toBe('node_modules/a');
    expect(resolveInLock(fake, '', 'c')).toBeUndefined();
    expect(packageName('node_modules/a/node_modules/@s/b')).toBe('@s/b');
  });

  it('the closure of the real lock has the runtime, tsx, vitest and the webgpu packages, and no tfjs-node, types or dev tools', () => {
    const names = new Set(bundleClosure(lock, [...Object.keys(pkg.dependencies), ...BUNDLE_TOOLS]).map(packageName));
    for (const needed of [...Object.keys(pkg.dependencies), ...BUNDLE_TOOLS, 'esbuild', '@esbuild/linux-x64', 'vite', 'long', 'seedrandom']) expect(names, needed).toContain(needed);
    for (const absent of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'typescript', 'eslint', '@types/node', 'core-js', '@esbuild/darwin-arm64', '@esbuild/linux-arm64']) {
      expect(names, absent).not.toContain(absent);
    }
  });

  it('optional platform packages are followed only where they run (linux x64 glibc)', () => {
    const fake: LockFile = {
      packages: {
        'node_modules/tool': { optionalDependencies: { 'tool-linux-x64-gnu': '1', 'tool-linux-x64-musl': '1', 'tool-darwin-arm64': '1' } },
        'node_modules/tool-linux-x64-gnu': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
        'node_modules/tool-linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
        'node_modules/tool-darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
      },
    };
    expect(bundleClosure(fake, ['tool'])).toEqual(['node_modules/tool', 'node_modules/tool-linux-x64-gnu']);
    expect(() => bundleClosure(fake, ['missing'])).toThrow(/no entry for missing/);
  });

  it('keeps what Node loads: tfjs Node bundles and wasm binaries, the linux-x64 dawn.node; drops maps, types, sources', () => {
    expect(keepFile('@tensorflow/tfjs-core', 'dist/tf-core.node.js')).toBe(true);
    expect(keepFile('@tensorflow/tfjs-backend-wasm', 'dist/tfjs-backend-wasm-simd.wasm')).toBe(true);
    expect(keepFile('@tensorflow/tfjs-core', 'dist/tf-core.min.js')).toBe(false);
    expect(keepFile('@tensorflow/tfjs-core', 'dist/ops/add.js')).toBe(false);
    expect(keepFile('@tensorflow/tfjs-core', 'package.json')).toBe(true);
    expect(keepFile('webgpu', 'dist/linux-x64/dawn.node')).toBe(true);
    expect(keepFile('webgpu', 'dist/win32-x64/dawn.node')).toBe(false);
    expect(keepFile('webgpu', 'index.js')).toBe(true);
    expect(keepFile('esbuild', 'bin/esbuild')).toBe(false);
    expect(keepFile('esbuild', 'lib/main.js')).toBe(true);
    expect(keepFile('vitest', 'dist/index.js')).toBe(true);
    expect(keepFile('vitest', 'dist/index.js.map')).toBe(false);
    expect(keepFile('vitest', 'dist/index.d.ts')).toBe(false);
    expect(keepFile('ajv', 'lib/core.ts')).toBe(false);
  });
});
