import { describe, expect, it } from 'vitest';
import { AUTO_ORDER, backendFromEnv, parseBackendName, selectBackend, type BackendLoader, type BackendLoaders, type ConcreteBackendName } from './select-backend.js';

/** Loaders that fail with `reasons[name]` or start as `name`, recording every call. */
function fakeLoaders(reasons: Partial<Record<ConcreteBackendName, string>>, device?: string): { loaders: BackendLoaders; calls: string[] } {
  const calls: string[] = [];
  const make = (name: ConcreteBackendName): BackendLoader => ({
    package: `pkg-${name}`,
    hint: `hint-${name}`,
    start: async ({ auto }) => {
      calls.push(`${name}:${auto ? 'auto' : 'explicit'}`);
      await Promise.resolve();
      const reason = reasons[name];
      if (reason !== undefined) throw new Error(reason);
      return name === 'webgpu' ? { active: 'webgpu', holdsEventLoop: true, ...(device === undefined ? {} : { device }) } : { active: name === 'tensorflow-gpu' ? 'tensorflow' : name };
    },
  });
  const loaders = Object.fromEntries(AUTO_ORDER.map((n) => [n, make(n)])) as unknown as BackendLoaders;
  return { loaders, calls };
}

const CPU_MACHINE = {
  'tensorflow-gpu': 'package @tensorflow/tfjs-node-gpu not installed',
  tensorflow: 'libtensorflow missing (libtensorflow.so.2)',
  webgpu: 'no WebGPU adapter (Dawn found no usable Vulkan driver)\nsecond line that must not reach the report',
};

describe('selectBackend', () => {
  it('auto tries tensorflow-gpu → tensorflow → webgpu → wasm → cpu and stops at the first that starts', async () => {
    expect(AUTO_ORDER).toEqual(['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu']);
    const { loaders, calls } = fakeLoaders(CPU_MACHINE);
    const choice = await selectBackend('auto', loaders);
    expect(calls).toEqual(['tensorflow-gpu:auto', 'tensorflow:auto', 'webgpu:auto', 'wasm:auto']);
    expect(choice).toEqual({
      requested: 'auto',
      active: 'wasm',
      package: 'pkg-wasm',
      holdsEventLoop: false,
      skipped: [
        { name: 'tensorflow-gpu', reason: 'package @tensorflow/tfjs-node-gpu not installed' },
        { name: 'tensorflow', reason: 'libtensorflow missing (libtensorflow.so.2)' },
        { name: 'webgpu', reason: 'no WebGPU adapter (Dawn found no usable Vulkan driver)' },
      ],
    });
  });

  it('auto takes webgpu where an adapter is found, reports the device, and says it holds the event loop', async () => {
    const { loaders, calls } = fakeLoaders({ 'tensorflow-gpu': 'a', tensorflow: 'b' }, 'nvidia hopper NVIDIA H200');
    const choice = await selectBackend('auto', loaders);
    expect(calls).toEqual(['tensorflow-gpu:auto', 'tensorflow:auto', 'webgpu:auto']);
    expect(choice.active).toBe('webgpu');
    expect(choice.device).toBe('nvidia hopper NVIDIA H200');
    expect(choice.holdsEventLoop).toBe(true);
    expect(choice.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'tensorflow']);
  });

  it('auto falls through to cpu when wasm fails too, and fails listing every reason when nothing starts', async () => {
    const { loaders } = fakeLoaders({ ...CPU_MACHINE, wasm: 'wasm broke' });
    expect((await selectBackend('auto', loaders)).active).toBe('cpu');
    const none = fakeLoaders({ ...CPU_MACHINE, wasm: 'wasm broke', cpu: 'cpu broke' });
    await expect(selectBackend('auto', none.loaders)).rejects.toThrow(
      /no compute backend could start: tensorflow-gpu: package @tensorflow\/tfjs-node-gpu not installed; tensorflow: libtensorflow missing .*; webgpu: no WebGPU adapter .*; wasm: wasm broke; cpu: cpu broke/,
    );
  });

  it('an explicit request runs only that loader, not in auto mode, with no skipped list', async () => {
    const { loaders, calls } = fakeLoaders(CPU_MACHINE);
    const choice = await selectBackend('cpu', loaders);
    expect(calls).toEqual(['cpu:explicit']);
    expect(choice).toEqual({ requested: 'cpu', active: 'cpu', package: 'pkg-cpu', holdsEventLoop: false, skipped: [] });
  });

  it('an explicit request that cannot run is an error naming the backend, its package, the reason and the hint', async () => {
    const { loaders, calls } = fakeLoaders(CPU_MACHINE);
    const error = (await selectBackend('webgpu', loaders).catch((e: unknown) => e)) as Error;
    expect(calls).toEqual(['webgpu:explicit']);
    expect(error.message).toMatch(/^backend "webgpu" is not available \(pkg-webgpu\): no WebGPU adapter \(Dawn found no usable Vulkan driver\)/);
    expect(error.message).toMatch(/; hint-webgpu$/);
    expect((error.cause as Error).message).toBe(CPU_MACHINE.webgpu);
  });
});

describe('backend names', () => {
  it('webgpu is a backend name; unknown names list the choices', () => {
    expect(parseBackendName('webgpu')).toBe('webgpu');
    expect(backendFromEnv({ MODECONN_BACKEND: 'webgpu' })).toBe('webgpu');
    expect(() => parseBackendName('gpu')).toThrow(/unknown backend "gpu"; expected one of auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu/);
  });
});
