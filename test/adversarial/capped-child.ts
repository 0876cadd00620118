/**
 * Runs the package's readers on hostile files in a child process whose memory is capped twice:
 * the V8 heap (`--max-old-space-size`) and, where the shell allows it, the whole address space
 * (`ulimit -v`, which also bounds the Buffers and ArrayBuffers that live outside the V8 heap), with
 * a wall-clock timeout that kills the child (a reader that blocks on a FIFO must not hang the suite).
 *
 * The child entry (`read-in-child.ts`) is bundled once with esbuild into a plain .mjs, so that the
 * child runs on bare node: tsx's WebAssembly lexer cannot start under an address-space limit.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface ChildResult {
  /** Exit status (null when killed). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly ms: number;
  /** The child's JSON line, when it printed one. */
  readonly report?: { readonly ok?: boolean; readonly summary?: string; readonly error?: string; readonly maxRssMb: number };
  readonly stderr: string;
}

export interface CappedReaders {
  /** Runs `reader` on `path` in a fresh capped child. */
  run(reader: string, path: string, options?: { readonly timeoutMs?: number }): Promise<ChildResult>;
  dispose(): Promise<void>;
}

/** Limits of every child: V8 heap and address space, in MiB. */
export const CHILD_HEAP_MB = 256;
export const CHILD_ADDRESS_SPACE_MB = 3072;

/** Bundles the child entry; call `dispose` when done. */
export async function prepareCappedReaders(): Promise<CappedReaders> {
  const dir = await mkdtemp(join(tmpdir(), 'modeconn-adversarial-child-'));
  const outfile = join(dir, 'read-in-child.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./read-in-child.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
    // Bundled CommonJS dependencies may call require().
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return {
    run: (reader, path, options = {}) => runChild(outfile, reader, path, options.timeoutMs ?? 20_000),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

function runChild(script: string, reader: string, path: string, timeoutMs: number): Promise<ChildResult> {
  const started = performance.now();
  const node = `exec "$0" --max-old-space-size=${CHILD_HEAP_MB} "$1" "$2" "$3"`;
  // `ulimit -v` where the shell supports it (Linux); the heap cap and the timeout always apply.
  const command = process.platform === 'linux' ? `ulimit -v ${CHILD_ADDRESS_SPACE_MB * 1024} && ${node}` : node;
  const child = spawn('/bin/sh', ['-c', command, process.execPath, script, reader, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      let report: ChildResult['report'];
      try {
        report = JSON.parse(line) as ChildResult['report'];
      } catch {
        report = undefined;
      }
      resolve({ code, signal, timedOut, ms: performance.now() - started, ...(report === undefined ? {} : { report }), stderr: stderr.slice(-4000) });
    });
  });
}
