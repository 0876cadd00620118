import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from './init-backend.js';
import { startWebGpu, WEBGPU_PACKAGES, WEBGPU_SYNC_READ_ERROR, type DawnAdapter, type DawnModule, type TfjsWebGpuModule, type WebGpuDependencies } from './webgpu-backend.js';
import { expectNoLeakedTensors, maxRelativeError, reportSkip, webgpuAvailability } from '../../test/helpers.js';

/** Dependencies whose Dawn answers `requestAdapter` with `adapter` (or throws `adapterError`). */
function fakeDeps(options: { loader?: string; adapter?: DawnAdapter | null; adapterError?: Error }): { deps: WebGpuDependencies; created: string[][] } {
  const created: string[][] = [];
  const dawn: DawnModule = {
    create(flags) {
      created.push(flags);
      return {
        requestAdapter: async () => {
          await Promise.resolve();
          if (options.adapterError !== undefined) throw options.adapterError;
          return options.adapter ?? null;
        },
      };
    },
    globals: { GPUBufferUsage: { STORAGE: 128 } },
  };
  const deps: WebGpuDependencies = {
    importDawn: () => Promise.resolve(dawn),
    // Never constructed: every case here fails before the backend is registered.
    importTfjsWebGpu: () => Promise.resolve({ WebGPUBackend: class {} as never }),
    findVulkanLoader: () => options.loader,
    platform: 'linux',
  };
  return { deps, created };
}

describe('startWebGpu without a GPU (Dawn replaced by a double)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('auto on Linux without libvulkan.so.1 declines before waking Dawn, saying what is missing', async () => {
    const { deps, created } = fakeDeps({});
    await expect(startWebGpu({ auto: true }, deps)).rejects.toThrow(/^Vulkan loader libvulkan\.so\.1 not found \(searched \d+ library directories\); install libvulkan1/);
    expect(created).toEqual([]);
  });

  it('an explicit request lets Dawn look even without the loader; no adapter is "no WebGPU adapter", with no globals left behind', async () => {
    const { deps, created } = fakeDeps({});
    await expect(startWebGpu({ auto: false }, deps)).rejects.toThrow(/^no WebGPU adapter \(Dawn found no usable Vulkan driver; software Vulkan such as Mesa lavapipe/);
    expect(created).toEqual([[]]);
    expect('GPUBufferUsage' in globalThis).toBe(false);
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.findBackendFactory('webgpu')).toBeNull();
  });

  it('a failing adapter request and a failing device request are reasons of their own', async () => {
    const thrown = fakeDeps({ loader: '/usr/lib/libvulkan.so.1', adapterError: new Error('vkCreateInstance failed\nstack') });
    await expect(startWebGpu({ auto: true }, thrown.deps)).rejects.toThrow(/^WebGPU adapter request failed: vkCreateInstance failed$/);
    const adapter: DawnAdapter = {
      features: new Set<string>(),
      limits: { maxBufferSize: 1 << 30 },
      requestDevice: () => Promise.reject(new Error('limit maxBufferSize too high')),
    };
    const device = fakeDeps({ loader: '/usr/lib/libvulkan.so.1', adapter });
    await expect(startWebGpu({ auto: true }, device.deps)).rejects.toThrow(/^WebGPU device request failed: limit maxBufferSize too high$/);
    expect(tf.findBackendFactory('webgpu')).toBeNull();
    delete (globalThis as Record<string, unknown>)['GPUBufferUsage'];
  });

  it('a missing package is the reason, through the real loader on a machine without the optional packages', async () => {
    const deps: WebGpuDependencies = { ...fakeDeps({}).deps, importDawn: () => Promise.reject(new Error('package webgpu not installed')) };
    await expect(startWebGpu({ auto: true }, deps)).rejects.toThrow('package webgpu not installed');
  });
});

// The real thing: on this machine, either the packages are absent, or Dawn finds no adapter.
const availability = await webgpuAvailability();
if (!availability.available) reportSkip('webgpu-backend.test.ts', 'webgpu tests on a GPU', availability.reason);

describe('initBackend("webgpu") on this machine', () => {
  it.skipIf(availability.available)('is a clear error naming the backend and the reason', async () => {
    await expect(initBackend('webgpu')).rejects.toThrow(
      /^backend "webgpu" is not available \(@tensorflow\/tfjs-backend-webgpu\): (package webgpu not installed|package @tensorflow\/tfjs-backend-webgpu not installed|no WebGPU adapter|WebGPU adapter request failed|WebGPU device request failed).*; it needs the optional packages webgpu@0\.6\.2/,
    );
  });

  it.skipIf(availability.available)('auto skips it with one short reason and starts wasm', async () => {
    const choice = await initBackend('auto');
    const webgpu = choice.skipped.find((s) => s.name === 'webgpu');
    if (choice.active === 'tensorflow') return; // tfjs-node starts before webgpu is tried
    expect(choice.active).toBe('wasm');
    expect(webgpu?.reason).toMatch(/^(package (webgpu|@tensorflow\/tfjs-backend-webgpu) not installed|Vulkan loader libvulkan\.so\.1 not found|no WebGPU adapter|WebGPU)/);
    expect(webgpu?.reason).not.toContain('\n');
  });
});

describe.skipIf(!availability.available)('webgpu on a GPU', () => {
  beforeAll(async () => {
    await initBackend('webgpu');
  });
  afterAll(async () => {
    await initBackend('cpu');
  });

  it('starts, names its adapter, and holds the event loop', async () => {
    const choice = await initBackend('webgpu');
    expect(choice.active).toBe('webgpu');
    expect(choice.holdsEventLoop).toBe(true);
    expect(tf.getBackend()).toBe('webgpu');
  });

  it('a 256×256 matMul equals the cpu backend within 1e-3 relative, without leaking tensors', async () => {
    const a = tf.randomUniform([256, 256], -1, 1, 'float32', 1);
    const b = tf.randomUniform([256, 256], -1, 1, 'float32', 2);
    // Asynchronous reads only: webgpu cannot read a GPU tensor synchronously in Node.
    const [av, bv] = [await a.data(), await b.data()];
    const product = tf.matMul(a, b);
    const got = await product.data();
    product.dispose();
    await tf.setBackend('cpu');
    const expected = tf.tidy(() => tf.matMul(tf.tensor2d(av, [256, 256]), tf.tensor2d(bv, [256, 256])).dataSync().slice());
    await tf.setBackend('webgpu');
    expect(maxRelativeError(got, expected)).toBeLessThan(1e-3);
    await expectNoLeakedTensors(async () => {
      const p = tf.matMul(a, b);
      await p.data();
      p.dispose();
    });
    tf.dispose([a, b]);
  });
});

// Dawn's null backend: an adapter with no GPU behind it (commands are accepted, shaders do not run),
// so the real packages and our glue are exercised on any machine where the packages load.
const dawnPackage = await import(WEBGPU_PACKAGES.dawn).then(
  (m) => ({ module: m as DawnModule }),
  (error: unknown) => ({ reason: (error as Error).message.split('\n')[0] ?? '' }),
);
if ('reason' in dawnPackage) reportSkip('webgpu-backend.test.ts', "tests on Dawn's null adapter", `package ${WEBGPU_PACKAGES.dawn} does not load: ${dawnPackage.reason}`);
/** Dawn instances made here stay reachable until the process exits (releasing one is unsafe). */
const instances: unknown[] = [];

describe.skipIf('reason' in dawnPackage)("the real packages on Dawn's null adapter (no GPU needed)", () => {
  it('start the backend; async reads resolve; a synchronous read of a GPU tensor is a clear error, and nothing is printed', async () => {
    const dawn = (dawnPackage as { module: DawnModule }).module;
    const deps: WebGpuDependencies = {
      importDawn: () =>
        Promise.resolve({
          globals: dawn.globals,
          create: () => {
            const gpu = dawn.create(['backend=null']);
            instances.push(gpu);
            return gpu;
          },
        }),
      importTfjsWebGpu: async () => (await import(WEBGPU_PACKAGES.tfjs)) as TfjsWebGpuModule,
      findVulkanLoader: () => undefined,
      platform: 'linux',
    };
    const warn = vi.spyOn(console, 'warn');
    const started = await startWebGpu({ auto: false }, deps);
    expect(started).toMatchObject({ active: 'webgpu', holdsEventLoop: true });
    expect(tf.getBackend()).toBe('webgpu');
    const before = tf.memory().numTensors;
    const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2, 3]), tf.tensor1d([4, 5, 6])));
    // The null backend runs no shaders: only that the read completes is checked, not its values.
    expect((await sum.data()).length).toBe(3);
    const product = tf.tidy(() => tf.matMul(tf.ones([4, 4]), tf.ones([4, 4])));
    expect(() => product.dataSync()).toThrow(WEBGPU_SYNC_READ_ERROR);
    // CPU-resident values (just uploaded, never computed on the GPU) still read synchronously.
    const uploaded = tf.tensor1d([7, 8]);
    expect(Array.from(uploaded.dataSync())).toEqual([7, 8]);
    tf.dispose([sum, product, uploaded]);
    expect(tf.memory().numTensors).toBe(before);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    await tf.setBackend('cpu');
    tf.removeBackend('webgpu');
  });
});
