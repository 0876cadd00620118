import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeLoadFailure } from './load-failure.js';

const dir = mkdtempSync(join(tmpdir(), 'load-failure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error Node itself throws for `f`. */
async function errorOf(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('describeLoadFailure', () => {
  it('an absent package (a real ESM and a real CommonJS resolution failure) is "package X not installed"', async () => {
    const specifier = '@modeconn-test/no-such-package';
    expect(describeLoadFailure(specifier, await errorOf(() => import(specifier)))).toBe(`package ${specifier} not installed`);
    const require = createRequire(import.meta.url);
    expect(describeLoadFailure(specifier, await errorOf(() => require(specifier)))).toBe(`package ${specifier} not installed`);
  });

  it('a native library the dynamic linker cannot open is named (libtensorflow gets its own reason)', async () => {
    // A real dlopen failure: an addon that is not an ELF file, then one whose path names the library.
    const fake = join(dir, 'libtensorflow.so.2');
    writeFileSync(fake, 'not a shared object');
    const tf = describeLoadFailure('@tensorflow/tfjs-node', await errorOf(() => process.dlopen({ exports: {} }, fake)));
    expect(tf).toBe('libtensorflow missing (libtensorflow.so.2)');
    // What tfjs-node-gpu 4.22 throws on a CUDA 12 machine (tensorflow/tfjs#8362).
    const cuda = new Error('libcudart.so.11.0: cannot open shared object file: No such file or directory');
    expect(describeLoadFailure('@tensorflow/tfjs-node-gpu', cuda)).toBe('libcudart.so.11.0 missing (libcudart.so.11.0: cannot open shared object file: No such file or directory)');
  });

  it('tfjs-node installed without its binding (install script skipped) is "libtensorflow missing"', () => {
    const error = new Error('The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/lib/napi-v8/tfjs_binding.node.\nPlease run command ...');
    expect(describeLoadFailure('@tensorflow/tfjs-node', error)).toBe('libtensorflow missing (tfjs_binding.node not built at install)');
  });

  it('anything else keeps its first line, cut to 160 characters', () => {
    expect(describeLoadFailure('x', new Error('first\nsecond'))).toBe('first');
    const long = describeLoadFailure('x', new Error('y'.repeat(400)));
    expect(long).toHaveLength(160);
    expect(long.endsWith('...')).toBe(true);
    expect(describeLoadFailure('x', 'a thrown string')).toBe('a thrown string');
  });
});
