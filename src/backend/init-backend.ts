/**
 * Compute backend selection.
 *
 * `auto` tries, in order: `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node` (both optional
 * dependencies whose install downloads libtensorflow, so they are often absent), the wasm backend
 * (with our gradient kernels registered), then the pure-JS cpu backend. The library reports the
 * choice in the returned value; it never prints.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmGradientKernels } from './wasm-gradient-kernels.js';

export const BACKEND_NAMES = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendChoice {
  /** What was asked for. */
  readonly requested: BackendName;
  /** The backend now active, as tfjs names it (`tensorflow`, `wasm`, `cpu`). */
  readonly active: string;
  /** The npm package that provides it. */
  readonly package: string;
  /** Candidates that were tried before the active one and why they were skipped. */
  readonly skipped: readonly { readonly name: BackendName; readonly reason: string }[];
}

export interface InitBackendOptions {
  /** Threads for the wasm backend (default: 1, which is what tfjs-backend-wasm uses in Node). */
  readonly threads?: number;
}

const PACKAGES: Record<Exclude<BackendName, 'auto'>, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

const INSTALL_HINT: Record<Exclude<BackendName, 'auto'>, string> = {
  'tensorflow-gpu':
    'install it with `npm install @tensorflow/tfjs-node-gpu@4.22.0` on a machine with CUDA that can download libtensorflow',
  tensorflow:
    'install it with `npm install @tensorflow/tfjs-node@4.22.0` on a machine that can download libtensorflow',
  wasm: 'it ships with mode-connectivity; reinstall with `npm ci`',
  cpu: 'it ships with mode-connectivity; reinstall with `npm ci`',
};

/** Parses a backend name from the CLI or the environment, with an error that lists the choices. */
export function parseBackendName(value: string, where = '--backend'): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`${where}: unknown backend "${value}"; expected one of ${BACKEND_NAMES.join(', ')}`);
}

/**
 * tfjs-core's entry point registers no gradients, and its ESM gradient files cannot be imported by
 * Node directly (extensionless imports); the @tensorflow/tfjs bundle registers all of them in the
 * global gradient registry, which every backend shares.
 */
async function registerGradients(): Promise<void> {
  await import('@tensorflow/tfjs');
}

async function tryActivate(name: Exclude<BackendName, 'auto'>, options: InitBackendOptions): Promise<void> {
  await registerGradients();
  // The library never prints: PROD silences tfjs's console warnings (e.g. the cpu backend's
  // "install tfjs-node" banner); it gates nothing else in tfjs-core.
  tf.env().set('PROD', true);
  // A variable specifier keeps TypeScript from resolving optional packages at compile time.
  const specifier = PACKAGES[name];
  if (name === 'tensorflow' || name === 'tensorflow-gpu') {
    await import(specifier);
    if (!(await tf.setBackend('tensorflow'))) throw new Error(`${specifier} loaded but its backend did not start`);
  } else if (name === 'wasm') {
    const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
    registerWasmGradientKernels();
    if (options.threads !== undefined) wasm.setThreadsCount(options.threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  } else {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not start');
  }
  await tf.ready();
}

/**
 * Activates a compute backend and returns which one is active.
 *
 * @example
 * const choice = await initBackend(process.env.MODECONN_BACKEND ?? 'auto');
 * // choice.active === 'wasm' on machines without libtensorflow
 */
export async function initBackend(name: string = 'auto', options: InitBackendOptions = {}): Promise<BackendChoice> {
  const requested = parseBackendName(name);
  if (requested !== 'auto') {
    try {
      await tryActivate(requested, options);
    } catch (error) {
      throw new Error(
        `backend "${requested}" is not available (${PACKAGES[requested]}): ${(error as Error).message}; ${INSTALL_HINT[requested]}`,
        { cause: error },
      );
    }
    return { requested, active: tf.getBackend(), package: PACKAGES[requested], skipped: [] };
  }
  const skipped: { name: BackendName; reason: string }[] = [];
  for (const candidate of ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const) {
    try {
      await tryActivate(candidate, options);
      return { requested, active: tf.getBackend(), package: PACKAGES[candidate], skipped };
    } catch (error) {
      skipped.push({ name: candidate, reason: firstLine((error as Error).message) });
    }
  }
  throw new Error(`no compute backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/** Backend name from MODECONN_BACKEND, or `auto`. */
export function backendFromEnv(env: NodeJS.ProcessEnv = process.env): BackendName {
  const value = env['MODECONN_BACKEND'];
  return value === undefined || value === '' ? 'auto' : parseBackendName(value, 'MODECONN_BACKEND');
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
