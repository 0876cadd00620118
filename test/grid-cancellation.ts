/**
 * The cancellation contract every grid evaluation shares (issue 12 §2, as `evaluatePath`'s): with
 * `options.signal` aborted before the call, nothing is evaluated, no worker starts and an
 * AbortError naming the function is thrown; aborted from the first progress event, no further
 * point starts, the points in flight settle, the same error is thrown, no tensor is left behind,
 * and with `workers: 2` every worker thread of the pool has exited.
 */
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it, vi } from 'vitest';
import type { ProgressEvent } from '../src/progress.js';

/** What a grid gets from the contract's tests: the signal, the worker count and a progress callback. */
export interface CancellableRunOptions {
  readonly signal: AbortSignal;
  readonly workers: number;
  readonly progress: (event: ProgressEvent) => void;
}

/**
 * Runs `work` and returns the worker threads started meanwhile (through the shared worker group,
 * which listens to each one's messages as soon as it is created).
 */
export async function withWorkerTracking<T>(work: () => Promise<T>): Promise<{ readonly result: PromiseSettledResult<T>; readonly workers: Worker[] }> {
  const spy = vi.spyOn(Worker.prototype, 'on');
  try {
    const [result] = await Promise.allSettled([work()]);
    const workers = [...new Set(spy.mock.contexts as Worker[])];
    return { result: result as PromiseSettledResult<T>, workers };
  } finally {
    spy.mockRestore();
  }
}

function expectAbortError(result: PromiseSettledResult<unknown>, message: RegExp): void {
  expect(result.status).toBe('rejected');
  const reason = (result as PromiseRejectedResult).reason as Error;
  expect(reason.name).toBe('AbortError');
  expect(reason.message).toMatch(message);
}

/**
 * Declares the three tests of the contract for `name`. `run` must evaluate more than three points
 * (so that aborting at the first keeps some from starting, even with two workers in flight);
 * `message` is the AbortError's message.
 */
export function itStopsOnAbort(name: string, run: (options: CancellableRunOptions) => Promise<unknown>, message: RegExp): void {
  it(`${name}: aborted before the call, evaluates nothing, starts no worker and throws an AbortError`, async () => {
    const controller = new AbortController();
    controller.abort();
    const events: ProgressEvent[] = [];
    const before = tf.memory().numTensors;
    const { result, workers } = await withWorkerTracking(() => run({ signal: controller.signal, workers: 2, progress: (e) => events.push(e) }));
    expectAbortError(result, message);
    expect(events).toEqual([]);
    expect(workers).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });

  for (const workers of [1, 2]) {
    it(`${name}: aborted from the first progress event (workers ${workers}), starts no further point, throws an AbortError and leaks nothing${workers > 1 ? '; the pool’s workers have exited' : ''}`, async () => {
      const controller = new AbortController();
      const steps: number[] = [];
      let total = 0;
      const before = tf.memory().numTensors;
      const tracked = await withWorkerTracking(() =>
        run({
          signal: controller.signal,
          workers,
          progress: (e) => {
            steps.push(e.step);
            total = e.total;
            controller.abort();
          },
        }),
      );
      expectAbortError(tracked.result, message);
      expect(steps.length).toBeGreaterThan(0);
      // At most the points already in flight (one per worker) finish after the first.
      expect(steps.length).toBeLessThanOrEqual(1 + workers);
      expect(steps.length).toBeLessThan(total);
      expect(tf.memory().numTensors).toBe(before);
      if (workers > 1) {
        expect(tracked.workers).toHaveLength(workers);
        // A terminated worker's threadId is −1.
        for (const worker of tracked.workers) expect(worker.threadId).toBe(-1);
      } else {
        expect(tracked.workers).toEqual([]);
      }
    });
  }
}
