/**
 * A pool of worker threads that evaluate model states concurrently, one state per worker at a
 * time. The wasm and cpu backends compute on one core in Node, so a grid of independent points
 * (a path's t values, layer-wise or perturbed points) runs up to N times faster on N cores.
 *
 * Each worker activates the parent's backend, receives the evaluation data once (in
 * SharedArrayBuffers, see worker-messages.ts) and evaluates with the same `createEvaluator` as the
 * parent, BatchNorm re-estimation included; same backend, same data and same code give the same
 * numbers. A state is copied out of the parent's backend when it is submitted.
 *
 * The worker lifecycle (start, ready handshake, failures naming the worker, terminate) is
 * util/worker-group.ts's, shared with the gradient pool; this module adds the queue of points.
 *
 * With tfjs-node (`tensorflow` backend) the parent already uses every core, and its native addon
 * is not meant for worker threads: the pool refuses it, and `autoWorkerCount` gives 1 there.
 */
import * as tf from '@tensorflow/tfjs-core';
import { availableParallelism } from 'node:os';
import { getArchitecture, isBuiltInArchitecture } from '../models/registry.js';
import type { Architecture, ModelState } from '../models/types.js';
import { createEvaluator, type EvaluationData, type EvaluatorOptions, type SplitMetrics } from './evaluate.js';
import type { Split } from '../rows/rows.js';
import { serializeState, shareEvaluationData, type ReplyMessage, type TaskMessage, type WorkerInit } from './worker-messages.js';
import { startWorkerGroup, workerArchitecture, workerLaunch } from '../util/worker-group.js';

/** Re-exported: the pools' worker start-up lives in util/worker-group.ts. */
export { workerLaunch } from '../util/worker-group.js';

export interface PoolOptions {
  /**
   * Worker threads evaluating points concurrently (default 1: evaluate in this thread, no pool).
   * Needs the wasm or cpu backend and an architecture from the registry.
   */
  readonly workers?: number;
}

/** Evaluates model states, possibly several at once; `evaluate` does not take ownership of `state`. */
export interface GridEvaluator {
  /** Splits evaluated by default. */
  readonly splits: readonly Split[];
  /** Whether BatchNorm statistics are re-estimated before each evaluation. */
  readonly bnReset: boolean;
  /** How many `evaluate` calls are worth having in flight at once (1 in this thread). */
  readonly concurrency: number;
  evaluate(state: ModelState, splits?: readonly Split[]): Promise<SplitMetrics>;
  /** Frees what the evaluator holds; for a pool, terminates its workers. */
  close(): Promise<void>;
}

/**
 * Checks that worker threads can find `architecture` by name: the registry's own object, and for a
 * user architecture a `module` the workers import to register it (evaluation and gradient pools).
 */
export function assertWorkerArchitecture(architecture: Architecture<unknown>): void {
  if (getArchitecture(architecture.name) !== architecture) {
    throw new Error(`workers: worker threads use the toolkit's own ${architecture.name}; a custom implementation cannot be sent to them (use workers: 1)`);
  }
  if (!isBuiltInArchitecture(architecture.name) && architecture.module === undefined) {
    throw new Error(
      `workers: worker threads cannot load the user architecture ${architecture.name}: it was registered without a module ` +
        `(load it with loadArchitectureModule, give it a \`module\`: the URL of a module exporting it, or use workers: 1)`,
    );
  }
}

/** `workers` for "use every core": the number of cores on wasm and cpu, 1 on other backends. */
export function autoWorkerCount(backend: string = tf.getBackend()): number {
  return backend === 'wasm' || backend === 'cpu' ? availableParallelism() : 1;
}

/** Checks a `workers` value: an integer ≥ 1 (`where` names the option in the error). */
export function checkWorkerCount(workers: number, where = 'workers'): number {
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`${where}: expected an integer ≥ 1, found ${workers}`);
  return workers;
}

interface Task {
  readonly message: TaskMessage;
  readonly transfer: ArrayBuffer[];
  resolve(metrics: SplitMetrics): void;
  reject(error: Error): void;
}

/**
 * Starts `options.workers` evaluation workers for `architecture`/`config` on `data` and waits
 * until all are ready. The first error in any worker rejects that point's promise, terminates the
 * pool and rejects every other pending point. Always `close()` it.
 *
 * @example
 * const pool = await createEvaluatorPool(lenet5, config, data, { workers: 2 });
 * try {
 *   const [a, b] = await Promise.all([pool.evaluate(stateA), pool.evaluate(stateB)]);
 * } finally {
 *   await pool.close();
 * }
 */
export async function createEvaluatorPool<Config>(
  architecture: Architecture<Config>,
  config: Config,
  data: EvaluationData,
  options: EvaluatorOptions & { readonly workers: number },
): Promise<GridEvaluator> {
  const count = checkWorkerCount(options.workers);
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new Error(
      `workers: evaluation workers run the wasm or cpu backend, the active backend is ${backend}` +
        (backend === 'tensorflow' ? ' (which already computes on every core; use workers: 1)' : ''),
    );
  }
  assertWorkerArchitecture(architecture);
  // The in-thread evaluator validates splits and BN batches exactly as the workers will.
  const probe = createEvaluator(architecture, config, data, options);
  const { splits, bnReset } = probe;
  probe.dispose();
  const init: WorkerInit = {
    backend,
    ...workerArchitecture(architecture),
    config,
    data: await shareEvaluationData(data, bnReset ? options.bnBatchCount : 0),
    splits,
    bnReset,
    ...(options.bnBatchCount !== undefined ? { bnBatchCount: options.bnBatchCount } : {}),
  };
  const queue: Task[] = [];
  const group = await startWorkerGroup<ReplyMessage>({
    workerName: 'evaluation worker',
    poolName: 'evaluation pool',
    count,
    launch: workerLaunch('evaluation-worker', import.meta.url),
    workerData: () => init,
    closedMessage: 'evaluation pool: closed before this point was evaluated',
    // Points still queued (not yet sent to a worker) are rejected with the pool's failure too.
    onFailure: (stopped) => {
      for (const task of queue.splice(0)) task.reject(stopped);
    },
  });
  const idle = Array.from({ length: count }, (_, w) => w);
  let nextId = 0;

  function dispatch(): void {
    while (group.failure === undefined && idle.length > 0 && queue.length > 0) {
      const w = idle.shift() as number;
      const task = queue.shift() as Task;
      group.request(w, task.message, task.transfer).then(
        (reply) => {
          idle.push(w);
          if (reply.kind === 'result') task.resolve(reply.metrics);
          else task.reject(new Error(`evaluation worker ${w + 1} of ${count}: expected a result, found a ${reply.kind} message`));
          dispatch();
        },
        (error: unknown) => task.reject(error instanceof Error ? error : new Error(String(error))),
      );
    }
  }

  return {
    splits,
    bnReset,
    concurrency: count,
    async evaluate(state, which = splits) {
      if (group.failure !== undefined) throw group.failure;
      if (group.closed) throw new Error('evaluation pool: evaluate called after close()');
      const { message, transfer } = await serializeState(state);
      return new Promise<SplitMetrics>((resolve, reject) => {
        if (group.failure !== undefined) return reject(group.failure);
        if (group.closed) return reject(new Error('evaluation pool: closed before this point was evaluated'));
        queue.push({ message: { id: nextId++, state: message, splits: which }, transfer, resolve, reject });
        dispatch();
      });
    },
    async close() {
      const error = new Error('evaluation pool: closed before this point was evaluated');
      for (const task of queue.splice(0)) task.reject(error);
      await group.close();
    },
  };
}
