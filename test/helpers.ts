/** Shared test utilities: backend selection and tensor-leak checks. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { initBackend, backendFromEnv } from '../src/backend/init-backend.js';

/** Activates the backend tests run on: MODECONN_BACKEND, else wasm (what our machines run). */
export async function useTestBackend(): Promise<string> {
  const name = backendFromEnv();
  const choice = await initBackend(name === 'auto' ? 'wasm' : name);
  return choice.active;
}

/** Switches to backend `name` (already registered) and runs `f` there: cpu-vs-wasm kernel comparisons. */
export async function onBackend<T>(name: 'cpu' | 'wasm', f: () => T): Promise<T> {
  await tf.setBackend(name);
  return f();
}

/**
 * Runs `step` `repeats` times and asserts the number of live tensors is the same after every
 * repeat as after the first (the first may allocate lasting state such as caches).
 */
export async function expectNoLeakedTensors(step: () => unknown, repeats = 3): Promise<void> {
  await step();
  const after = tf.memory().numTensors;
  for (let i = 1; i < repeats; i++) {
    await step();
    expect(tf.memory().numTensors, `live tensors after repeat ${i + 1}`).toBe(after);
  }
}

/** Max |a−b| / max(1, |b|) over all elements. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    worst = Math.max(worst, Math.abs(x - y) / Math.max(1, Math.abs(y)));
  }
  return worst;
}
