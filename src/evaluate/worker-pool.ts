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
 * With tfjs-node (`tensorflow` backend) the parent already uses every core, and its native addon
 * is not meant for worker threads: the pool refuses it, and `autoWorkerCount` gives 1 there.
 */
import * as tf from '@tensorflow/tfjs-core';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { getArchitecture, isBuiltInArchitecture } from '../models/registry.js';
import type { Architecture, ModelState } from '../models/types.js';
import { createEvaluator, type EvaluationData, type EvaluatorOptions, type SplitMetrics } from './evaluate.js';
import type { Split } from '../rows/rows.js';
import { serializeState, shareEvaluationData, type ReplyMessage, type TaskMessage, type WorkerInit } from './worker-messages.js';

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

/**
 * How to start a worker whose entry is `name` beside `from` (an `import.meta.url`).
 *
 * - Compiled package (`from` is `.js`): the `.js` entry beside it.
 * - Sources under a loader flag that also works in worker threads (`node --loader ts-node/esm`,
 *   inherited through `execArgv`): the `.ts` entry as is.
 * - Sources otherwise (vitest, `npx tsx`, bin/modeconn.js's `tsx/esm/api` `register()`): a
 *   two-line bootstrap that calls tsx's `register()` in the worker and then imports the `.ts`
 *   entry. `execArgv: ['--import', 'tsx']` is not enough on Node 20: tsx's `--import` entry
 *   registers its hooks only on the main thread (privatenumber/tsx#354), so the worker would fail
 *   with ERR_UNKNOWN_FILE_EXTENSION; its `register()` API does work inside a worker.
 */
export function workerLaunch(
  name: string,
  from: string,
  execArgv: readonly string[] = process.execArgv,
  resolve: (specifier: string) => string = (specifier) => import.meta.resolve(specifier),
): { entry: URL | string; eval: boolean } {
  const typescript = from.endsWith('.ts');
  const url = new URL(`./${name}${typescript ? '.ts' : '.js'}`, from);
  if (!typescript || execArgv.some((arg) => arg.includes('ts-node'))) return { entry: url, eval: false };
  let api: string;
  try {
    api = resolve('tsx/esm/api');
  } catch (error) {
    throw new Error(`worker threads: ${url.pathname} is TypeScript and tsx (a devDependency) cannot be found to load it; build the package (npm run build) or install the dev dependencies`, { cause: error });
  }
  // An eval'd worker runs as a CommonJS script: dynamic import() only.
  return { entry: `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`, eval: true };
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
    architecture: architecture.name,
    ...(architecture.module === undefined ? {} : { architectureModule: architecture.module }),
    config,
    data: await shareEvaluationData(data, bnReset ? options.bnBatchCount : 0),
    splits,
    bnReset,
    ...(options.bnBatchCount !== undefined ? { bnBatchCount: options.bnBatchCount } : {}),
  };
  const launch = workerLaunch('evaluation-worker', import.meta.url);

  const queue: Task[] = [];
  const running = new Map<Worker, Task>();
  const idle: Worker[] = [];
  let nextId = 0;
  let failure: Error | undefined;
  let closed = false;
  let ready = 0;
  let started: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const allReady = new Promise<void>((resolve, reject) => {
    started = { resolve, reject };
  });

  const workers = Array.from({ length: count }, (_, index) => {
    const worker = new Worker(launch.entry, { eval: launch.eval, workerData: init });
    worker.on('message', (reply: ReplyMessage) => {
      if (reply.kind === 'error') {
        const error = new Error(`evaluation worker ${index + 1} of ${count}: ${reply.message}`);
        if (reply.stack !== undefined) error.stack = `${error.message}\n    (in the worker) ${reply.stack}`;
        running.get(worker)?.reject(error);
        running.delete(worker);
        fail(error);
        return;
      }
      if (reply.kind === 'ready') {
        ready += 1;
        if (ready === count) started?.resolve();
      } else {
        const task = running.get(worker);
        running.delete(worker);
        task?.resolve(reply.metrics);
      }
      idle.push(worker);
      dispatch();
    });
    worker.on('error', (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      fail(new Error(`evaluation worker ${index + 1} of ${count} failed: ${message}`, { cause: error }));
    });
    worker.on('exit', (code) => {
      if (!closed) fail(new Error(`evaluation worker ${index + 1} of ${count} exited (code ${code}) while the pool was open`));
    });
    return worker;
  });

  function dispatch(): void {
    while (failure === undefined && idle.length > 0 && queue.length > 0) {
      const worker = idle.shift() as Worker;
      const task = queue.shift() as Task;
      running.set(worker, task);
      worker.postMessage(task.message, task.transfer);
    }
  }

  let terminated: Promise<void> | undefined;
  function stopWorkers(): Promise<void> {
    closed = true;
    terminated ??= Promise.all(workers.map((w) => w.terminate())).then(() => undefined);
    return terminated;
  }

  /** The first error stops everything: pending points are rejected and the workers terminated. */
  function fail(error: Error): void {
    if (failure !== undefined || closed) return;
    failure = error;
    started?.reject(error);
    const stopped = new Error(`evaluation pool stopped: ${error.message}`, { cause: error });
    for (const task of [...running.values(), ...queue]) task.reject(stopped);
    running.clear();
    queue.length = 0;
    void stopWorkers();
  }

  try {
    await allReady;
  } catch (error) {
    await stopWorkers();
    throw error;
  }

  return {
    splits,
    bnReset,
    concurrency: count,
    async evaluate(state, which = splits) {
      if (failure !== undefined) throw failure;
      if (closed) throw new Error('evaluation pool: evaluate called after close()');
      const { message, transfer } = await serializeState(state);
      return new Promise<SplitMetrics>((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        if (closed) return reject(new Error('evaluation pool: closed before this point was evaluated'));
        queue.push({ message: { id: nextId++, state: message, splits: which }, transfer, resolve, reject });
        dispatch();
      });
    },
    async close() {
      const error = new Error('evaluation pool: closed before this point was evaluated');
      for (const task of [...running.values(), ...queue]) task.reject(error);
      running.clear();
      queue.length = 0;
      await stopWorkers();
    },
  };
}
