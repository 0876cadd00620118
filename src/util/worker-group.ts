/**
 * The lifecycle both worker pools share (evaluate/worker-pool.ts, train/gradient-pool.ts): start
 * N worker threads, wait for each one's `ready`, send one request at a time per worker and match
 * its reply, turn the first failure anywhere into one error that names the worker, and terminate.
 *
 * Protocol (worker side): post `{ kind: 'ready' }` once set up, then for each request exactly one
 * reply; a reply `{ kind: 'error', message, stack }` reports a failure. Anything else is the
 * request's result and resolves `request`.
 *
 * Failure rule: the first error (an error reply, an uncaught exception in a worker, a worker that
 * exits while the group is open) rejects the failing worker's request with that error, rejects
 * every other pending request with "`<pool>` stopped: …", terminates every worker and makes later
 * requests reject with the first error. `close()` rejects pending requests with `closedMessage`.
 */
import { Worker } from 'node:worker_threads';

/** How to start a worker thread: a module URL, or a script to evaluate (`eval: true`). */
export interface WorkerLaunch {
  readonly entry: URL | string;
  readonly eval: boolean;
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
): WorkerLaunch {
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

/**
 * How a worker finds the architecture it runs, part of every pool's `workerData`: its registry
 * name, and for a user architecture the module that registers it (`Architecture.module`), which
 * the worker imports first (`loadWorkerArchitecture`, models/architecture-module.ts). Built-in architectures
 * need no module: the worker imports the toolkit's registry.
 */
export interface WorkerArchitecture {
  readonly architecture: string;
  readonly architectureModule?: string;
}

/** The {@link WorkerArchitecture} of `architecture` (check it with the pools' `assertWorkerArchitecture` first). */
export function workerArchitecture(architecture: { readonly name: string; readonly module?: string | undefined }): WorkerArchitecture {
  return { architecture: architecture.name, ...(architecture.module === undefined ? {} : { architectureModule: architecture.module }) };
}

/** A worker's failure report (the `error` reply of the protocol above). */
export interface WorkerErrorReply {
  readonly kind: 'error';
  readonly message: string;
  readonly stack: string | undefined;
}

export interface WorkerGroupOptions {
  /** What one worker is called in errors: `evaluation worker` → "evaluation worker 2 of 3: …". */
  readonly workerName: string;
  /** What the group is called in errors: `evaluation pool` → "evaluation pool stopped: …". */
  readonly poolName: string;
  /** Worker threads to start (≥ 1). */
  readonly count: number;
  /**
   * How worker `index` (0-based) is named in errors (default `${workerName} ${index + 1} of ${count}`);
   * a pool whose own thread is participant 1 numbers its threads from 2.
   */
  readonly label?: (index: number) => string;
  readonly launch: WorkerLaunch;
  /** `workerData` of worker `index` (0-based). */
  readonly workerData: (index: number) => unknown;
  /** Why a request is rejected when `close()` comes first, e.g. "evaluation pool: closed before this point was evaluated". */
  readonly closedMessage: string;
  /** Called once on the first failure, after the group's own requests were rejected (to reject the caller's own queue). */
  readonly onFailure?: (stopped: Error) => void;
}

/** N started, ready workers; one request in flight per worker. */
export interface WorkerGroup<Reply> {
  readonly count: number;
  /** The first failure, once there is one. */
  readonly failure: Error | undefined;
  /** Whether `close()` was called or a failure stopped the group. */
  readonly closed: boolean;
  /** Posts `message` to worker `index` and resolves with its reply (rejects per the module doc). */
  request(index: number, message: unknown, transfer?: readonly ArrayBuffer[]): Promise<Reply>;
  /** Rejects pending requests with `closedMessage` and terminates every worker. */
  close(): Promise<void>;
}

interface Pending<Reply> {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/**
 * Starts `options.count` workers and resolves once every one has posted `ready`; the first failure
 * before that terminates them all and rejects with the error. Always `close()` the group.
 *
 * @example
 * const group = await startWorkerGroup<Done>({ workerName: 'gradient worker', poolName: 'gradient pool', count: 2,
 *   launch: workerLaunch('gradient-worker', import.meta.url), workerData: (i) => ({ index: i }), closedMessage: '…' });
 * try {
 *   const done = await group.request(0, task);
 * } finally {
 *   await group.close();
 * }
 */
export async function startWorkerGroup<Reply>(options: WorkerGroupOptions): Promise<WorkerGroup<Reply>> {
  const { count, workerName, poolName } = options;
  if (!Number.isInteger(count) || count < 1) throw new Error(`${poolName}: expected an integer number of workers ≥ 1, found ${count}`);
  const pending = new Map<number, Pending<Reply>>();
  let failure: Error | undefined;
  let closed = false;
  let ready = 0;
  let started: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const allReady = new Promise<void>((resolve, reject) => {
    started = { resolve, reject };
  });
  const label = options.label ?? ((index: number): string => `${workerName} ${index + 1} of ${count}`);

  const workers = Array.from({ length: count }, (_, index) => {
    const worker = new Worker(options.launch.entry, { eval: options.launch.eval, workerData: options.workerData(index) });
    worker.on('message', (reply: Reply | WorkerErrorReply | { readonly kind: 'ready' }) => {
      const kind = typeof reply === 'object' && reply !== null && 'kind' in reply ? reply.kind : undefined;
      if (kind === 'ready') {
        ready += 1;
        if (ready === count) started?.resolve();
        return;
      }
      const task = pending.get(index);
      pending.delete(index);
      if (kind === 'error') {
        const { message, stack } = reply as WorkerErrorReply;
        const error = new Error(`${label(index)}: ${message}`);
        if (stack !== undefined) error.stack = `${error.message}\n    (in the worker) ${stack}`;
        task?.reject(error);
        fail(error);
        return;
      }
      task?.resolve(reply as Reply);
    });
    worker.on('error', (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      fail(new Error(`${label(index)} failed: ${message}`, { cause: error }));
    });
    worker.on('exit', (code) => {
      if (!closed) fail(new Error(`${label(index)} exited (code ${code}) while the pool was open`));
    });
    return worker;
  });

  let terminated: Promise<void> | undefined;
  const stopWorkers = (): Promise<void> => {
    closed = true;
    terminated ??= Promise.all(workers.map((w) => w.terminate())).then(() => undefined);
    return terminated;
  };
  const rejectPending = (error: Error): void => {
    for (const task of pending.values()) task.reject(error);
    pending.clear();
  };
  function fail(error: Error): void {
    if (failure !== undefined || closed) return;
    failure = error;
    started?.reject(error);
    const stopped = new Error(`${poolName} stopped: ${error.message}`, { cause: error });
    rejectPending(stopped);
    options.onFailure?.(stopped);
    void stopWorkers();
  }

  try {
    await allReady;
  } catch (error) {
    await stopWorkers();
    throw error;
  }

  return {
    count,
    get failure() {
      return failure;
    },
    get closed() {
      return closed;
    },
    request(index, message, transfer = []) {
      return new Promise<Reply>((resolve, reject) => {
        if (failure !== undefined) return reject(failure);
        if (closed) return reject(new Error(options.closedMessage));
        const worker = workers[index];
        if (worker === undefined) return reject(new Error(`${poolName}: expected a worker index in [0, ${count}), found ${index}`));
        if (pending.has(index)) return reject(new Error(`${poolName}: ${label(index)} already has a request in flight`));
        pending.set(index, { resolve, reject });
        worker.postMessage(message, [...transfer]);
      });
    },
    async close() {
      rejectPending(new Error(options.closedMessage));
      await stopWorkers();
    },
  };
}
