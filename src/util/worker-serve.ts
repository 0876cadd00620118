/**
 * The worker side of util/worker-group.ts's protocol, shared by every worker entry
 * (evaluate/evaluation-worker.ts, train/gradient-worker.ts): set up from `workerData`, post
 * `ready`, then answer each request with exactly one reply; a failure (in set-up or in a request)
 * becomes an `error` reply carrying the request's id, its message and its stack, which the parent
 * turns into an error naming this worker.
 */
import { parentPort, workerData } from 'node:worker_threads';

/** An `error` reply (worker → parent). */
export interface ErrorReply {
  readonly kind: 'error';
  readonly id: number | undefined;
  readonly message: string;
  readonly stack: string | undefined;
}

/** What a worker entry serves once set up. */
export interface WorkerService<Task, Reply> {
  /** The reply to one request; a thrown error becomes an error reply with the request's id. */
  handle(task: Task): Reply | Promise<Reply>;
  /** Frees what the service holds when the parent closes the channel (terminate). */
  close?(): void;
}

/** The error reply for `error` while serving request `id` (undefined: during set-up). */
export function errorReply(id: number | undefined, error: unknown): ErrorReply {
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'error', id, message: e.message, stack: e.stack };
}

/**
 * Runs this worker thread: `setUp(workerData)`, `ready`, then one reply per request. `entry`
 * names the module in the error thrown when it is imported outside a worker thread.
 */
export async function serveWorker<Init, Task extends { readonly id: number }, Reply>(entry: string, setUp: (init: Init) => Promise<WorkerService<Task, Reply>>): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error(`${entry}: this module runs as a worker thread started by a worker pool (util/worker-group.ts)`);
  let service: WorkerService<Task, Reply>;
  try {
    service = await setUp(workerData as Init);
  } catch (error) {
    port.postMessage(errorReply(undefined, error));
    return;
  }
  port.on('message', (task: Task) => {
    void (async () => {
      try {
        port.postMessage(await service.handle(task));
      } catch (error) {
        port.postMessage(errorReply(task.id, error));
      }
    })();
  });
  port.once('close', () => service.close?.());
  port.postMessage({ kind: 'ready' });
}
