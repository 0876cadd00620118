import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { initBackend, parseBackendName, backendFromEnv } from './init-backend.js';

describe('initBackend', () => {
  it('auto falls back past the absent tfjs-node packages and webgpu to a working backend, one short reason each', async () => {
    const choice = await initBackend('auto');
    expect(['tensorflow', 'webgpu', 'wasm', 'cpu']).toContain(choice.active);
    expect(tf.getBackend()).toBe(choice.active);
    if (choice.active === 'wasm') {
      expect(choice.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'tensorflow', 'webgpu']);
      expect(choice.holdsEventLoop).toBe(false);
      for (const s of choice.skipped) expect(s.reason, s.name).toMatch(/^[^\n]{1,200}$/);
    }
    let tfjsNode = true;
    const specifier = '@tensorflow/tfjs-node';
    await import(specifier).catch(() => (tfjsNode = false));
    if (!tfjsNode) expect(choice.skipped.find((s) => s.name === 'tensorflow')?.reason).toBe('package @tensorflow/tfjs-node not installed');
    const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
    expect(Array.from(sum)).toEqual([4, 6]);
  });

  it('wasm and cpu can be selected by name, and tfjs prints nothing (the cpu backend would warn on first use)', async () => {
    const warn = vi.spyOn(console, 'warn');
    const log = vi.spyOn(console, 'log');
    expect((await initBackend('cpu')).active).toBe('cpu');
    tf.tidy(() => tf.add(tf.tensor1d([1]), tf.tensor1d([2])).dataSync());
    expect((await initBackend('wasm')).active).toBe('wasm');
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
    warn.mockRestore();
    log.mockRestore();
  });

  it('an unknown name is an error that lists the choices', () => {
    expect(() => parseBackendName('gpu')).toThrow(/unknown backend "gpu"; expected one of auto, tensorflow-gpu/);
    expect(() => backendFromEnv({ MODECONN_BACKEND: 'tpu' })).toThrow(/MODECONN_BACKEND/);
    expect(backendFromEnv({})).toBe('auto');
  });

  it('asking for an uninstalled tfjs-node says how to install it', async () => {
    let installed = true;
    const specifier = '@tensorflow/tfjs-node';
    try {
      await import(specifier);
    } catch {
      installed = false;
    }
    if (installed) return; // on a machine with libtensorflow this case cannot occur
    await expect(initBackend('tensorflow')).rejects.toThrow(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
  });
});
