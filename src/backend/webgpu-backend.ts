/**
 * The webgpu backend in Node: `@tensorflow/tfjs-backend-webgpu` on Dawn, through Dawn's own Node
 * binding (the `webgpu` npm package, prebuilt `dawn.node`). Both are optional dependencies.
 *
 *   1. load both packages (their absence is a reason, not a crash)
 *   2. (auto only, Linux) look for the Vulkan loader library before waking Dawn
 *   3. Dawn: create an instance, request a high-performance adapter (none → reason)
 *   4. expose Dawn's constants (GPUBufferUsage, GPUMapMode, …) and `navigator.gpu` as globals, as
 *      a browser does; tfjs-backend-webgpu reads the constants from the global scope and its
 *      backend's constructor checks for `navigator.gpu`
 *   5. request a device with the adapter's largest limits (as tfjs does in a browser) and register
 *      a backend factory on that device, then activate it
 *
 * tfjs-backend-webgpu registers its own factory only where `navigator.gpu` exists at import time;
 * it is imported before we set it, and we hand our device to `WebGPUBackend` ourselves. Dawn keeps polling its instance on the event loop while it lives, and releasing it is
 * unsafe, so the instance lives until the process exits: `holdsEventLoop` tells callers to end
 * the process explicitly.
 *
 * Limitation: a GPU tensor can only be read asynchronously (`await t.data()`), see
 * {@link WEBGPU_SYNC_READ_ERROR}; code that calls `dataSync()` on results fails on webgpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeLoadFailure } from './load-failure.js';
import type { StartedBackend } from './select-backend.js';
import { findVulkanLoader, librarySearchDirs, VULKAN_LOADER } from './vulkan-loader.js';

/** The parts of Dawn's GPUAdapter used here. */
export interface DawnAdapter {
  readonly features: { has(name: string): boolean };
  readonly limits: object;
  readonly info?: { readonly vendor?: string; readonly architecture?: string; readonly device?: string; readonly description?: string };
  requestDevice(descriptor: { requiredFeatures: string[]; requiredLimits: Record<string, number> }): Promise<unknown>;
}

/** The `webgpu` package: `create(dawnOptions)` gives a `navigator.gpu` equivalent. */
export interface DawnModule {
  create(options: string[]): { requestAdapter(options?: { powerPreference?: string }): Promise<DawnAdapter | null> };
  readonly globals: Readonly<Record<string, unknown>>;
}

/** The part of `@tensorflow/tfjs-backend-webgpu` used here. */
export interface TfjsWebGpuModule {
  readonly WebGPUBackend: new (device: unknown, adapterInfo?: unknown) => tf.KernelBackend;
}

/** Where the pieces come from; tests replace them. */
export interface WebGpuDependencies {
  importDawn(): Promise<DawnModule>;
  importTfjsWebGpu(): Promise<TfjsWebGpuModule>;
  /** The Vulkan loader's path, or undefined; consulted only by `auto` on Linux. */
  findVulkanLoader(): string | undefined;
  readonly platform: NodeJS.Platform;
}

export const WEBGPU_PACKAGES = { dawn: 'webgpu', tfjs: '@tensorflow/tfjs-backend-webgpu' } as const;

/** The limits tfjs-backend-webgpu raises to the adapter's maximum (larger buffers and workgroups). */
const RAISED_LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupSizeX',
  'maxComputeInvocationsPerWorkgroup',
] as const;

/**
 * The real packages. MODECONN_DAWN_OPTIONS (comma-separated Dawn options, read when the backend
 * starts) reaches Dawn's `create`: `adapter=NAME` picks a GPU, `backend=null` gives Dawn's null
 * adapter, which runs no shaders but finds code that reads GPU tensors synchronously, on any machine.
 */
export function defaultWebGpuDependencies(env: NodeJS.ProcessEnv = process.env): WebGpuDependencies {
  const options = (env['MODECONN_DAWN_OPTIONS'] ?? '').split(',').filter((o) => o !== '');
  return {
    // Variable specifiers keep TypeScript from resolving the optional packages at compile time.
    importDawn: async () => {
      const dawn = await importPackage<DawnModule>(WEBGPU_PACKAGES.dawn);
      return options.length === 0 ? dawn : { globals: dawn.globals, create: (extra) => dawn.create([...options, ...extra]) };
    },
    importTfjsWebGpu: () => importPackage<TfjsWebGpuModule>(WEBGPU_PACKAGES.tfjs),
    findVulkanLoader: () => findVulkanLoader(),
    platform: process.platform,
  };
}

/**
 * Starts the webgpu backend and makes it active, or rejects with a one-line reason:
 * "package webgpu not installed", "Vulkan loader libvulkan.so.1 not found (…)",
 * "no WebGPU adapter (…)", "WebGPU device request failed: …".
 */
export async function startWebGpu(context: { readonly auto: boolean }, deps: WebGpuDependencies = defaultWebGpuDependencies()): Promise<StartedBackend> {
  if (tf.findBackendFactory('webgpu') !== null) {
    if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend is registered but did not start');
    return { active: 'webgpu', holdsEventLoop: true };
  }
  // 1. Packages.
  const dawn = await deps.importDawn();
  const tfjsWebGpu = await deps.importTfjsWebGpu();
  // 2. Vulkan loader (cheap, and keeps Dawn from printing on machines without a GPU stack).
  if (context.auto && deps.platform === 'linux' && deps.findVulkanLoader() === undefined) {
    throw new Error(`Vulkan loader ${VULKAN_LOADER} not found (searched ${librarySearchDirs().length} library directories); install libvulkan1 and a GPU driver`);
  }
  // 3. Adapter.
  const gpu = dawn.create([]);
  let adapter: DawnAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    throw new Error(`WebGPU adapter request failed: ${firstLine(error)}`, { cause: error });
  }
  if (adapter === null) {
    throw new Error(
      `no WebGPU adapter (Dawn found no usable ${deps.platform === 'linux' ? 'Vulkan' : 'GPU'} driver; software Vulkan such as Mesa lavapipe lacks features Dawn requires)`,
    );
  }
  // 4. Constants that WebGPU code expects as globals; existing ones are left alone.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
  }
  installNavigatorGpu(gpu);
  // 5. Device and backend.
  const features = ['timestamp-query'].filter((f) => adapter.features.has(f));
  const limits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const value = (adapter.limits as Record<string, unknown>)[name];
    if (typeof value === 'number') limits[name] = value;
  }
  let device: unknown;
  try {
    device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits: limits });
  } catch (error) {
    throw new Error(`WebGPU device request failed: ${firstLine(error)}`, { cause: error });
  }
  const info = adapter.info;
  // Constructed here rather than in the factory, whose errors tfjs would swallow.
  let backend: tf.KernelBackend;
  try {
    backend = withNodeReadSync(new tfjsWebGpu.WebGPUBackend(device, info));
  } catch (error) {
    throw new Error(`tfjs-backend-webgpu could not start on the device: ${firstLine(error)}`, { cause: error });
  }
  tf.registerBackend(
    'webgpu',
    () => {
      void gpu; // keeps the Dawn instance reachable for as long as the device is used
      return backend;
    },
    3,
  );
  if (!(await tf.setBackend('webgpu'))) {
    tf.removeBackend('webgpu');
    throw new Error('the webgpu backend did not start on the adapter Dawn found');
  }
  const name = [info?.vendor, info?.architecture, info?.description !== undefined && info.description !== '' ? info.description : info?.device]
    .filter((s) => s !== undefined && s !== '')
    .join(' ');
  return { active: 'webgpu', holdsEventLoop: true, ...(name === '' ? {} : { device: name }) };
}

/**
 * `navigator.gpu` = Dawn's GPU object: WebGPUBackend's constructor refuses to run without it
 * (its `isWebGPUSupported` check). Node 20 has no `navigator`; Node ≥ 21 has one without `gpu`.
 * An existing `navigator.gpu` is left alone.
 */
function installNavigatorGpu(gpu: unknown): void {
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (scope.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, writable: true, configurable: true });
  } else if (scope.navigator.gpu === undefined) {
    Object.defineProperty(scope.navigator, 'gpu', { value: gpu, writable: true, configurable: true });
  }
}

/** What `dataSync()` of a GPU-resident tensor says on webgpu in Node. */
export const WEBGPU_SYNC_READ_ERROR =
  'webgpu in Node cannot read a GPU tensor synchronously (dataSync, arraySync, bufferSync): tfjs-backend-webgpu reads back through OffscreenCanvas, which Node lacks, and Dawn maps buffers only asynchronously; use `await tensor.data()`';

/**
 * tfjs-backend-webgpu's synchronous read-back draws GPU buffers onto an OffscreenCanvas, a browser
 * API; in Node it would fail with "OffscreenCanvas is not defined" after printing a performance
 * warning. Values already on the CPU are still returned; a GPU-resident tensor gets an error that
 * says what to do instead, and nothing is printed.
 */
function withNodeReadSync(backend: tf.KernelBackend): tf.KernelBackend {
  const flags = backend as unknown as { hasReadSyncWarned?: boolean };
  flags.hasReadSyncWarned = true;
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object) => {
    if (typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined') return readSync(dataId);
    try {
      return readSync(dataId);
    } catch (error) {
      if (error instanceof ReferenceError && error.message.includes('OffscreenCanvas')) throw new Error(WEBGPU_SYNC_READ_ERROR, { cause: error });
      throw error;
    }
  };
  return backend;
}

async function importPackage<T>(specifier: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    throw new Error(describeLoadFailure(specifier, error), { cause: error });
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
