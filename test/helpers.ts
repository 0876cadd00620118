/** Shared test utilities: backend selection, backend-comparison tolerances and tensor-leak checks. */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { initBackend, backendFromEnv } from '../src/backend/init-backend.js';
import { startWebGpu } from '../src/backend/webgpu-backend.js';
import type { Architecture, ModelState } from '../src/models/types.js';

/** Activates the backend tests run on: MODECONN_BACKEND, else wasm (what our machines run). */
export async function useTestBackend(): Promise<string> {
  const name = backendFromEnv();
  const choice = await initBackend(name === 'auto' ? 'wasm' : name);
  return choice.active;
}

/** Switches to backend `name` (already registered) and runs `f` there: cpu-vs-wasm kernel comparisons. */
export async function onBackend<T>(name: string, f: () => T): Promise<T> {
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

/**
 * How many tensors of x's size a gradient through a stack of `layer`s holds at its peak per layer:
 * (peak of 8 layers − peak of 1) / 7, from tf.profile's peak bytes (which counts reshaped views
 * again). tfjs keeps each op's saved inputs and output gradient until the backward pass ends, so
 * an op-by-op layer costs about as many activations as it has ops; a custom gradient that frees
 * its intermediates costs its saved input and its gradient, about 2.
 */
export async function backwardPeakPerLayer(layer: (h: tf.Tensor) => tf.Tensor, x: tf.Tensor): Promise<number> {
  const peak = async (layers: number) => {
    const info = await tf.profile(() => {
      const dx = tf.grad((input: tf.Tensor) => {
        let h = input;
        for (let i = 0; i < layers; i++) h = layer(h);
        return tf.sum(tf.square(h));
      })(x);
      dx.dispose();
    });
    return info.peakBytes / (x.size * 4);
  };
  return ((await peak(8)) - (await peak(1))) / 7;
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

/**
 * Relative tolerance (in {@link maxRelativeError}'s sense) of each backend against cpu on one
 * float32 op: wasm (XNNPACK) and tfjs-node sum in other orders; webgpu's shaders also use
 * fast exp/log and tiled reductions, and tfjs's own webgpu tests accept 1e-3 where cpu's accept
 * 1e-5. Tests of deep models multiply this by a depth factor they state.
 */
export const BACKEND_TOLERANCE: Readonly<Record<string, number>> = {
  cpu: 1e-6,
  wasm: 1e-5,
  tensorflow: 1e-5,
  'tensorflow-gpu': 1e-3,
  webgpu: 1e-3,
};

export type Availability = { readonly available: true } | { readonly available: false; readonly reason: string };

/**
 * Whether the webgpu backend can start here, without printing (the Vulkan loader is looked for
 * before Dawn is woken) and leaving the active backend as it was. Where it starts, the webgpu
 * backend stays registered for later `initBackend('webgpu')` calls.
 */
export async function webgpuAvailability(): Promise<Availability> {
  const previous = tf.getBackend() as string | undefined;
  try {
    await startWebGpu({ auto: true });
  } catch (error) {
    return { available: false, reason: (error as Error).message };
  } finally {
    if (previous !== undefined && previous !== null) await tf.setBackend(previous);
  }
  return { available: true };
}

export interface ComparisonBackend {
  /** The backend compared against cpu: MODECONN_BACKEND, or wasm when unset or `auto`. */
  readonly name: string;
  /** Its tolerance from {@link BACKEND_TOLERANCE}. */
  readonly tolerance: number;
  /** Why the comparison cannot run here (print it once and skip); absent when it can. */
  readonly skipReason?: string;
}

/**
 * The backend that backend-comparison tests run against cpu, from MODECONN_BACKEND, so the same
 * suite runs on a GPU (`MODECONN_BACKEND=webgpu npx vitest run test/backend-comparison.test.ts`).
 * Nothing is activated except to find out whether it starts.
 */
export async function comparisonBackend(env: NodeJS.ProcessEnv = process.env): Promise<ComparisonBackend> {
  const requested = backendFromEnv(env);
  const name = requested === 'auto' ? 'wasm' : requested;
  const active = name === 'tensorflow-gpu' ? 'tensorflow' : name;
  const tolerance = BACKEND_TOLERANCE[name] ?? 1e-3;
  if (name === 'webgpu') {
    const availability = await webgpuAvailability();
    return availability.available ? { name: active, tolerance } : { name: active, tolerance, skipReason: `MODECONN_BACKEND=webgpu: ${availability.reason}` };
  }
  try {
    await initBackend(name);
  } catch (error) {
    return { name: active, tolerance, skipReason: `MODECONN_BACKEND=${name}: ${(error as Error).message}` };
  }
  return { name: active, tolerance };
}

/** Prints once why tests of `file` are skipped: a skip is never silent. */
export function reportSkip(file: string, what: string, reason: string): void {
  console.warn(`${file}: ${what} skipped: ${reason}`);
}

/** erf by its Maclaurin series in double precision, accurate to ~1e-9 for |x| ≤ 4 (GELU references). */
export function erfSeries(x: number): number {
  let term = x, sum = x;
  for (let n = 1; n < 120; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/**
 * Asserts that a training-mode cross-entropy through `arch` has a gradient of each parameter's
 * shape for every parameter, none of them all zero (a parameter the forward pass ignores or a
 * broken gradient path would show as zeros).
 */
export function expectEveryGradientNonZero<C>(arch: Architecture<C>, config: C, state: ModelState, x: tf.Tensor4D, labels: readonly number[], classes: number): void {
  const names = [...state.params.keys()];
  const oneHot = tf.oneHot(tf.tensor1d([...labels], 'int32'), classes);
  const grads = tf.grads((...ps: tf.Tensor[]) => {
    const params = new Map(names.map((n, i) => [n, ps[i] as tf.Tensor]));
    return tf.losses.softmaxCrossEntropy(oneHot, arch.apply(config, { params, buffers: state.buffers }, x, { training: true }).logits);
  })(names.map((n) => state.params.get(n) as tf.Tensor));
  grads.forEach((g, i) => {
    const name = names[i] as string;
    expect(g.shape, name).toEqual((state.params.get(name) as tf.Tensor).shape);
    expect(tf.tidy(() => tf.max(tf.abs(g))).dataSync()[0], name).toBeGreaterThan(0);
  });
  tf.dispose([oneHot, ...grads]);
}
