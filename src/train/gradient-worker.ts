/**
 * Entry point of a gradient worker thread (started by gradient-pool.ts; imported by nothing
 * else): activates the parent's backend, then for every task reads a state from its shared slot,
 * builds its shard's batch (from the shared split or the shared inputs), runs the same
 * `lossAndGradients` as the parent (src/train/step.ts) and writes gradients, BatchNorm batch
 * statistics, loss, correct count and example count into its own slots of shared memory.
 *
 * One task at a time: the parent sends the next task only after the reply.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/init-backend.js';
import type { Batch } from '../data/batches.js';
import { loadWorkerArchitecture } from '../models/architecture-module.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { reduceRange, resultSlots, shardBatch, writeResult, type GradientReply, type GradientTask, type GradientWorkerInit, type LayoutEntry, type ReduceTask } from './gradient-messages.js';
import { lossAndGradients } from './step.js';
import { serveWorker, type WorkerService } from '../util/worker-serve.js';

async function setUp(init: GradientWorkerInit): Promise<WorkerService<GradientTask | ReduceTask, GradientReply>> {
  await initBackend(init.backend);
  const architecture = await loadWorkerArchitecture(init);
  const { layout, memory, index } = init;
  const slotSize = layout.paramSize + layout.bufferSize;
  const states = new Float32Array(memory.states);
  const slots = resultSlots(memory, layout, index);

  /** Tensors of slot `slot` (copied: the cpu backend would otherwise keep a view of shared memory). */
  const readState = (slot: number): ModelState => {
    const base = slot * slotSize;
    const read = (list: readonly LayoutEntry[], from: number) =>
      new Map(list.map((e) => [e.name, tf.tensor(states.slice(from + e.offset, from + e.offset + e.size), [...e.shape], 'float32')]));
    return { params: read(layout.params, base), buffers: read(layout.buffers, base + layout.paramSize) };
  };

  const run = (task: GradientTask): GradientReply => {
    let state: ModelState | undefined;
    let batch: Batch | undefined;
    try {
      state = readState(task.stateSlot);
      batch = shardBatch(task.shard, init.split, init.preprocessing, 'gradient worker');
      const out = lossAndGradients(architecture, init.config, state, batch);
      try {
        writeResult(layout, out, batch.x.shape[0], slots, 'gradient worker');
      } finally {
        tf.dispose([out.loss, out.correct, ...out.grads.values(), ...out.batchStats.values()]);
      }
      return { kind: 'done', id: task.id };
    } finally {
      if (state !== undefined) disposeTensors(state);
      if (batch !== undefined) tf.dispose([batch.x, batch.y]);
    }
  };
  /** This worker's range of the summed gradient (the parent's serial sum, spread over the participants). */
  const reduce = (task: ReduceTask): GradientReply => {
    reduceRange(memory, layout, task);
    return { kind: 'done', id: task.id };
  };
  return { handle: (task) => (task.kind === 'reduce' ? reduce(task) : run(task)) };
}

await serveWorker('gradient-worker', setUp);
