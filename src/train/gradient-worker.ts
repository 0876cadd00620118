/**
 * Entry point of a gradient worker thread (started by gradient-pool.ts; imported by nothing
 * else): activates the parent's backend, then for every task reads a state from its shared slot,
 * builds its shard's batch (from the shared split or the shared inputs), runs the same
 * `lossAndGradients` as the parent (src/train/step.ts) and writes gradients, BatchNorm batch
 * statistics, loss, correct count and example count into its own slots of shared memory. An
 * `each` request (the pool's forEachLossAndGradients) is a list of whole tasks that this worker,
 * the other workers and the parent claim one at a time from a shared counter, each written into
 * the task's own slots of that call's memory.
 *
 * One request at a time: the parent sends the next one only after the reply.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/init-backend.js';
import type { Batch } from '../data/batches.js';
import { loadWorkerArchitecture } from '../models/architecture-module.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { readEntries, reduceRange, resultSlots, shardBatch, writeResult, type EachTask, type GradientReply, type GradientTask, type GradientWorkerInit, type ReduceTask, type ResultSlots, type ShardMessage } from './gradient-messages.js';
import { lossAndGradients } from './step.js';
import { serveWorker, type WorkerService } from '../util/worker-serve.js';

async function setUp(init: GradientWorkerInit): Promise<WorkerService<GradientTask | ReduceTask | EachTask, GradientReply>> {
  await initBackend(init.backend);
  const architecture = await loadWorkerArchitecture(init);
  const { layout, memory, index } = init;
  const slotSize = layout.paramSize + layout.bufferSize;
  const states = new Float32Array(memory.states);
  const slots = resultSlots(memory, layout, index);

  /** Tensors of slot `slot` of `from`. */
  const readState = (from: Float32Array, slot: number): ModelState => {
    const base = slot * slotSize;
    return { params: readEntries(layout.params, from, base), buffers: readEntries(layout.buffers, from, base + layout.paramSize) };
  };

  /** Loss and gradients at the state in slot `slot` of `from` on `shard`, written into `into`. */
  const compute = (from: Float32Array, slot: number, shard: ShardMessage, into: ResultSlots): void => {
    let state: ModelState | undefined;
    let batch: Batch | undefined;
    try {
      state = readState(from, slot);
      batch = shardBatch(shard, init.split, init.preprocessing, 'gradient worker');
      const out = lossAndGradients(architecture, init.config, state, batch);
      try {
        writeResult(layout, out, batch.x.shape[0], into, 'gradient worker');
      } finally {
        tf.dispose([out.loss, out.correct, ...out.grads.values(), ...out.batchStats.values()]);
      }
    } finally {
      if (state !== undefined) disposeTensors(state);
      if (batch !== undefined) tf.dispose([batch.x, batch.y]);
    }
  };

  const run = (task: GradientTask): GradientReply => {
    compute(states, task.stateSlot, task.shard, slots);
    return { kind: 'done', id: task.id };
  };
  /** Tasks claimed one at a time from the shared counter until none is left (the parent claims too). */
  const each = (task: EachTask): GradientReply => {
    const control = new Int32Array(task.memory.control);
    const taskStates = new Float32Array(task.memory.states);
    for (;;) {
      const j = Atomics.add(control, 0, 1);
      if (j >= task.count) break;
      compute(taskStates, j, task.shards[j] as ShardMessage, resultSlots(task.memory, layout, j));
      Atomics.store(control, 1 + j, 1);
    }
    return { kind: 'done', id: task.id };
  };
  /** This worker's range of the summed gradient (the parent's serial sum, spread over the participants). */
  const reduce = (task: ReduceTask): GradientReply => {
    reduceRange(memory, layout, task);
    return { kind: 'done', id: task.id };
  };
  return { handle: (task) => (task.kind === 'reduce' ? reduce(task) : task.kind === 'each' ? each(task) : run(task)) };
}

await serveWorker('gradient-worker', setUp);
