/**
 * Compute backend selection.
 *
 * `auto` tries, in order: `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node` (optional
 * dependencies whose install downloads libtensorflow, so they are often absent), webgpu
 * (`@tensorflow/tfjs-backend-webgpu` on Dawn, only where a GPU adapter is found), the wasm
 * backend (with our gradient kernels registered), then the pure-JS cpu backend. The rules live in
 * `select-backend.ts`; this file supplies the real loaders. The library reports the choice, and
 * why each earlier candidate was skipped, in the returned value; it never prints. Nothing is
 * loaded before `initBackend` is called.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeLoadFailure } from './load-failure.js';
import { parseBackendName, selectBackend, type BackendChoice, type BackendLoaders } from './select-backend.js';
import { startWebGpu } from './webgpu-backend.js';
import { guardWasmAllocations } from './wasm-failure.js';
import { registerWasmGradientKernels } from './wasm-gradient-kernels.js';

export {
  BACKEND_NAMES,
  AUTO_ORDER,
  parseBackendName,
  backendFromEnv,
  type BackendName,
  type BackendChoice,
  type SkippedBackend,
} from './select-backend.js';

export interface InitBackendOptions {
  /** Threads for the wasm backend (default: 1, which is what tfjs-backend-wasm uses in Node). */
  readonly threads?: number;
}

/**
 * tfjs-core's entry point registers no gradients, and its ESM gradient files cannot be imported by
 * Node directly (extensionless imports); the @tensorflow/tfjs bundle registers all of them in the
 * global gradient registry, which every backend shares.
 */
async function prepareTfjs(): Promise<void> {
  await import('@tensorflow/tfjs');
  // The library never prints: PROD silences tfjs's console warnings (e.g. the cpu backend's
  // "install tfjs-node" banner); it gates nothing else in tfjs-core.
  tf.env().set('PROD', true);
}

async function importOrReason(specifier: string): Promise<void> {
  try {
    // A variable specifier keeps TypeScript from resolving optional packages at compile time.
    await import(specifier);
  } catch (error) {
    throw new Error(describeLoadFailure(specifier, error), { cause: error });
  }
}

async function activate(name: string): Promise<{ active: string }> {
  if (!(await tf.setBackend(name))) throw new Error(`the ${name} backend did not start`);
  await tf.ready();
  return { active: tf.getBackend() };
}

/** The real loaders, one per backend. */
export function backendLoaders(options: InitBackendOptions = {}): BackendLoaders {
  const tensorflow = (specifier: string) => async () => {
    await prepareTfjs();
    await importOrReason(specifier);
    return activate('tensorflow');
  };
  return {
    'tensorflow-gpu': {
      package: '@tensorflow/tfjs-node-gpu',
      hint: 'install it with `npm install @tensorflow/tfjs-node-gpu@4.22.0` on a machine with CUDA 11.2 and cuDNN 8.1 that can download libtensorflow (or use webgpu)',
      start: tensorflow('@tensorflow/tfjs-node-gpu'),
    },
    tensorflow: {
      package: '@tensorflow/tfjs-node',
      hint: 'install it with `npm install @tensorflow/tfjs-node@4.22.0` on a machine that can download libtensorflow',
      start: tensorflow('@tensorflow/tfjs-node'),
    },
    webgpu: {
      package: '@tensorflow/tfjs-backend-webgpu',
      hint: 'it needs the optional packages webgpu@0.6.2 and @tensorflow/tfjs-backend-webgpu@4.22.0 (installed by `npm ci` where they load) and a GPU with a Vulkan driver (Metal on macOS, D3D12 on Windows)',
      async start(context) {
        await prepareTfjs();
        const started = await startWebGpu(context);
        await tf.ready();
        return started;
      },
    },
    wasm: {
      package: '@tensorflow/tfjs-backend-wasm',
      hint: 'it ships with mode-connectivity; reinstall with `npm ci`',
      async start() {
        await prepareTfjs();
        const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
        registerWasmGradientKernels();
        if (options.threads !== undefined) wasm.setThreadsCount(options.threads);
        const started = await activate('wasm');
        guardWasmAllocations(tf.backend());
        return started;
      },
    },
    cpu: {
      package: '@tensorflow/tfjs-backend-cpu',
      hint: 'it ships with mode-connectivity; reinstall with `npm ci`',
      async start() {
        await prepareTfjs();
        await import('@tensorflow/tfjs-backend-cpu');
        return activate('cpu');
      },
    },
  };
}

/**
 * Activates a compute backend and returns which one is active, and for `auto` why each earlier
 * candidate was skipped (one short reason each).
 *
 * @example
 * const choice = await initBackend(process.env.MODECONN_BACKEND ?? 'auto');
 * // choice.active === 'wasm' on machines without libtensorflow or a GPU;
 * // choice.skipped[2] = { name: 'webgpu', reason: 'no WebGPU adapter (…)' }
 * // with webgpu active, choice.holdsEventLoop is true: end the program with process.exit()
 */
export async function initBackend(name: string = 'auto', options: InitBackendOptions = {}): Promise<BackendChoice> {
  return selectBackend(parseBackendName(name), backendLoaders(options));
}
