/**
 * Entry point of an evaluation worker thread (started by worker-pool.ts; not imported by anything
 * else): activates the parent's backend, turns the shared evaluation data into tensors once, and
 * then evaluates each model state it is sent with the same `createEvaluator` as the parent —
 * BatchNorm re-estimation included — replying with the same `SplitMetrics`.
 *
 * One task at a time: the parent sends a worker its next state only after the previous reply.
 */
import { initBackend } from '../backend/init-backend.js';
import { loadWorkerArchitecture } from '../models/architecture-module.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { createEvaluator } from './evaluate.js';
import { disposeEvaluationData } from './evaluation-data.js';
import { dataFromMessage, stateFromMessage, type ReplyMessage, type TaskMessage, type WorkerInit } from './worker-messages.js';
import { serveWorker, type WorkerService } from '../util/worker-serve.js';

async function setUp(init: WorkerInit): Promise<WorkerService<TaskMessage, ReplyMessage>> {
  await initBackend(init.backend);
  const architecture = await loadWorkerArchitecture(init);
  const data = dataFromMessage(init.data);
  const evaluator = createEvaluator(architecture, init.config, data, {
    splits: init.splits,
    bnReset: init.bnReset,
    ...(init.bnBatchCount !== undefined ? { bnBatchCount: init.bnBatchCount } : {}),
  });
  return {
    async handle(task) {
      let state: ModelState | undefined;
      try {
        state = stateFromMessage(task.state);
        return { kind: 'result', id: task.id, metrics: await evaluator.evaluate(state, task.splits) };
      } finally {
        if (state !== undefined) disposeTensors(state);
      }
    },
    close() {
      evaluator.dispose();
      disposeEvaluationData(data);
    },
  };
}

await serveWorker('evaluation-worker', setUp);
