/**
 * Entry point of an evaluation worker thread (started by worker-pool.ts; not imported by anything
 * else): activates the parent's backend, turns the shared evaluation data into tensors once, and
 * then evaluates each model state it is sent with the same `createEvaluator` as the parent —
 * BatchNorm re-estimation included — replying with the same `SplitMetrics`.
 *
 * One task at a time: the parent sends a worker its next state only after the previous reply.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend/init-backend.js';
import { loadArchitectureModule } from '../models/architecture-module.js';
import { getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { createEvaluator } from './evaluate.js';
import { disposeEvaluationData } from './evaluation-data.js';
import { dataFromMessage, stateFromMessage, type ReplyMessage, type TaskMessage, type WorkerInit } from './worker-messages.js';

function reply(message: ReplyMessage): void {
  (parentPort as NonNullable<typeof parentPort>).postMessage(message);
}

function errorReply(id: number | undefined, error: unknown): ReplyMessage {
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'error', id, message: e.message, stack: e.stack };
}

async function start(port: NonNullable<typeof parentPort>, init: WorkerInit): Promise<void> {
  await initBackend(init.backend);
  if (init.architectureModule !== undefined) await loadArchitectureModule(init.architectureModule);
  const architecture = getArchitecture(init.architecture);
  const data = dataFromMessage(init.data);
  const evaluator = createEvaluator(architecture, init.config, data, {
    splits: init.splits,
    bnReset: init.bnReset,
    ...(init.bnBatchCount !== undefined ? { bnBatchCount: init.bnBatchCount } : {}),
  });
  port.on('message', (task: TaskMessage) => {
    void run(task);
  });
  async function run(task: TaskMessage): Promise<void> {
    let state: ModelState | undefined;
    try {
      state = stateFromMessage(task.state);
      reply({ kind: 'result', id: task.id, metrics: await evaluator.evaluate(state, task.splits) });
    } catch (error) {
      reply(errorReply(task.id, error));
    } finally {
      if (state !== undefined) disposeTensors(state);
    }
  }
  port.once('close', () => {
    evaluator.dispose();
    disposeEvaluationData(data);
  });
  reply({ kind: 'ready' });
}

if (parentPort === null) throw new Error('evaluation-worker: this module runs as a worker thread started by worker-pool.ts');
await start(parentPort, workerData as WorkerInit).catch((error: unknown) => reply(errorReply(undefined, error)));
