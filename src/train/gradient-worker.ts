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
import { toTensors, type Batch } from '../data/batches.js';
import { DEFAULT_PREPROCESSING } from '../data/preprocess.js';
import { loadWorkerArchitecture } from '../models/architecture-module.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { SCALARS_PER_WORKER, type GradientReply, type GradientTask, type GradientWorkerInit, type LayoutEntry, type ReduceTask } from './gradient-messages.js';
import { weightedSum } from './shards.js';
import { lossAndGradients } from './step.js';
import { serveWorker, type WorkerService } from '../util/worker-serve.js';

async function setUp(init: GradientWorkerInit): Promise<WorkerService<GradientTask | ReduceTask, GradientReply>> {
  await initBackend(init.backend);
  const architecture = await loadWorkerArchitecture(init);
  const { layout, memory, index } = init;
  const slotSize = layout.paramSize + layout.bufferSize;
  const states = new Float32Array(memory.states);
  const grads = new Float32Array(memory.grads, index * layout.paramSize * 4, layout.paramSize);
  const stats = new Float32Array(memory.stats, index * layout.bufferSize * 4, layout.bufferSize);
  const scalars = new Float64Array(memory.scalars, index * SCALARS_PER_WORKER * 8, SCALARS_PER_WORKER);
  const allGrads = new Float32Array(memory.grads);
  const reduced = new Float32Array(memory.reduced);

  /** Tensors of slot `slot` (copied: the cpu backend would otherwise keep a view of shared memory). */
  const readState = (slot: number): ModelState => {
    const base = slot * slotSize;
    const read = (list: readonly LayoutEntry[], from: number) =>
      new Map(list.map((e) => [e.name, tf.tensor(states.slice(from + e.offset, from + e.offset + e.size), [...e.shape], 'float32')]));
    return { params: read(layout.params, base), buffers: read(layout.buffers, base + layout.paramSize) };
  };

  const batchOf = (task: GradientTask): Batch => {
    const shard = task.shard;
    if (shard.kind === 'indices') {
      if (init.split === undefined) throw new Error('gradient worker: an index batch was sent but the pool has no training split');
      return toTensors(init.split, shard.indices, init.preprocessing ?? DEFAULT_PREPROCESSING);
    }
    const [, h, w, c] = shard.shape;
    const pixels = h * w * c;
    const x = tf.tensor4d(shard.x.slice(shard.start * pixels, (shard.start + shard.count) * pixels), [shard.count, h, w, c], 'float32');
    const y = tf.tensor1d(shard.y.slice(shard.start, shard.start + shard.count), 'int32');
    return { x, y };
  };

  const run = (task: GradientTask): GradientReply => {
    let state: ModelState | undefined;
    let batch: Batch | undefined;
    try {
      state = readState(task.stateSlot);
      batch = batchOf(task);
      const out = lossAndGradients(architecture, init.config, state, batch);
      try {
        for (const e of layout.params) {
          const g = out.grads.get(e.name);
          if (g === undefined) throw new Error(`gradient worker: no gradient for parameter "${e.name}"`);
          grads.set(g.dataSync(), e.offset);
        }
        for (const e of layout.buffers) {
          const s = out.batchStats.get(e.name);
          if (s === undefined) throw new Error(`gradient worker: the forward pass gave no batch statistic for buffer "${e.name}"`);
          stats.set(s.dataSync(), e.offset);
        }
        scalars[0] = out.loss.dataSync()[0] as number;
        scalars[1] = out.correct.dataSync()[0] as number;
        scalars[2] = batch.x.shape[0];
      } finally {
        tf.dispose([out.loss, out.correct, ...out.grads.values(), ...out.batchStats.values()]);
      }
      return { kind: 'done', id: task.id };
    } finally {
      if (state !== undefined) disposeTensors(state);
      if (batch !== undefined) tf.dispose([batch.x, batch.y]);
    }
  };
  /** This worker's range of the summed gradient (the parent's serial sum, spread over the workers). */
  const reduce = (task: ReduceTask): GradientReply => {
    const parts = task.slots.map((w) => allGrads.subarray(w * layout.paramSize + task.start, w * layout.paramSize + task.start + task.length));
    weightedSum(parts, task.weights, reduced.subarray(task.start, task.start + task.length));
    return { kind: 'done', id: task.id };
  };
  return { handle: (task) => (task.kind === 'reduce' ? reduce(task) : run(task)) };
}

await serveWorker('gradient-worker', setUp);
