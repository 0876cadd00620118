/**
 * Loss and gradients on every core: data-parallel worker threads with PyTorch
 * DistributedDataParallel semantics (shared/ALGORITHMS.md §9; arithmetic in shards.ts).
 *
 * The wasm and cpu backends compute on one core in Node. A pool of W participants — this thread
 * (participant 0) and W − 1 worker threads, each with its own backend — holds the training split in
 * shared memory (sent once). One data-parallel call:
 *
 *   1. this thread writes the state (parameters, BN buffers) into shared slot 0;
 *   2. the batch is cut into W contiguous shards; participant w computes the loss, the gradient of
 *      the MEAN loss over its shard and its shard's BN batch statistics with the same
 *      `lossAndGradients` (step.ts) and writes them into its slots — shard 0 in this thread while
 *      the workers compute theirs, so W participants use W cores, not W + 1 threads on W cores;
 *   3. the slots are summed in participant order weighted by shard size (deterministic): each
 *      participant sums one contiguous range of the parameters over all slots (a reduce-scatter in
 *      shared memory, so the sum is not a serial W·P loop here); this thread combines the BN
 *      statistics (parallel-variance formula, shards.ts) and returns tensors.
 *
 * The caller then applies its optimizer once, so every replica sees the same update. Per step only
 * the indices (or one copy of a tensor batch) and a few numbers cross threads by message.
 *
 * `workers: 1` runs in this thread: exactly `lossAndGradients` of step.ts, no threads. With more
 * workers, results are deterministic for a given worker count and equal the one-thread results up
 * to float summation order, except for BatchNorm networks, whose forward pass normalizes with
 * per-shard statistics (as DDP does).
 *
 * The worker lifecycle (start, ready handshake, failures naming the worker, terminate) is
 * util/worker-group.ts's, shared with the evaluation pool.
 *
 * `lossAndGradientsEach` is the other use of the same participants: independent (state, batch)
 * tasks, one whole task per participant in rounds of W (the simulator's nodes within a tick: task
 * r·W + w on participant w, this thread's in-thread); each result is bit-identical to the in-thread
 * one, whichever participant computed it. Rounds, not a queue: this thread cannot feed a worker
 * while it computes, so a worker that finished early would wait anyway.
 *
 * `forEachLossAndGradients` is the queue for callers with work of their own per result (the
 * simulator's node updates): every task's state is written to shared memory first, then every
 * participant claims tasks from one shared counter (Atomics) and this thread, between its own
 * tasks, hands each written result to the caller. This thread does the caller's work and claims
 * fewer tasks; a worker never waits for it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { toTensors, type Batch } from '../data/batches.js';
import { DEFAULT_PREPROCESSING, type Preprocessing } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
import { assertWorkerArchitecture, autoWorkerCount, checkWorkerCount } from '../evaluate/worker-pool.js';
import { startWorkerGroup, workerArchitecture, workerLaunch } from '../util/worker-group.js';
import type { Architecture, ModelState } from '../models/types.js';
import {
  SCALARS_PER_WORKER,
  assertStateMatches,
  readEntries,
  reduceRange,
  resultSlots,
  shardBatch,
  shareSplit,
  writeResult,
  specLayout,
  type GradientReply,
  type EachTask,
  type GradientTask,
  type TaskMemory,
  type ReduceTask,
  type GradientWorkerInit,
  type ShardMessage,
  type StateLayout,
} from './gradient-messages.js';
import { combineBatchNormStats, shardSizes, shardStarts, weightedSum } from './shards.js';
import { lossAndGradients, type LossAndGradients } from './step.js';

/** `workers` as the options of every training method take it: a count, or `auto` (one per core). */
export type WorkerCount = number | 'auto';

/** The worker count `workers` stands for on `backend` (`auto`: one per core on wasm/cpu, else 1). */
export function resolveWorkers(workers: WorkerCount | undefined, where = 'workers', backend: string = tf.getBackend()): number {
  if (workers === undefined) return 1;
  if (workers === 'auto') return autoWorkerCount(backend);
  return checkWorkerCount(workers, where);
}

/** Data the workers receive once: the training split that index batches refer to. */
export interface GradientPoolData {
  readonly train?: ImageSplit;
  /** How the split's bytes become inputs (default: pixels scaled to [0, 1]). */
  readonly preprocessing?: Preprocessing;
}

export interface GradientPoolOptions {
  /** Threads computing: this one and `workers − 1` worker threads (default 1: this thread only). `auto`: one per core on wasm and cpu. */
  readonly workers?: WorkerCount;
}

/** A batch as the pool takes it: indices into the pool's training split, or tensors. */
export type PoolBatch = Int32Array | Batch;

/** One independent task of `lossAndGradientsEach` / `forEachLossAndGradients`. */
export interface PoolTask {
  readonly state: ModelState;
  readonly batch: PoolBatch;
}

/** Loss and gradients on every core; `close()` it when done. */
export interface GradientPool {
  /** Threads computing (1: in this thread). */
  readonly workers: number;
  /**
   * The contract of step.ts's `lossAndGradients` (mean loss of the batch, its gradient for every
   * parameter, BN batch statistics, correct count; the caller disposes all of them), computed
   * data-parallel over the workers. `state` is not taken over.
   */
  lossAndGradients(state: ModelState, batch: PoolBatch): Promise<LossAndGradients>;
  /** Independent tasks, each computed whole by one worker; results in task order. */
  lossAndGradientsEach(tasks: readonly PoolTask[]): Promise<LossAndGradients[]>;
  /**
   * Independent tasks, each computed whole by one participant and handed to `use(j, result)` in
   * this thread as soon as this thread sees it ready, in no fixed order (`use` takes the result
   * over). The participants claim tasks one at a time from a shared counter, so what `use` does
   * here (an optimizer step, say) overlaps the workers' tasks and this thread simply claims fewer.
   * Each result is bit-identical to the in-thread one. Shared memory holds one state and one
   * result slot per task, so for many large states prefer `lossAndGradientsEach` (W slots).
   * Resolves to the number of tasks this thread computed (the workers computed the rest).
   */
  forEachLossAndGradients(tasks: readonly PoolTask[], use: (index: number, result: LossAndGradients) => void): Promise<number>;
  /** Terminates the workers (in-thread: nothing to do). Pending calls are rejected. */
  close(): Promise<void>;
}

function batchTensors(batch: PoolBatch, data: GradientPoolData, where: string): { batch: Batch; own: boolean } {
  if (!(batch instanceof Int32Array)) return { batch, own: false };
  if (data.train === undefined) throw new Error(`${where}: an index batch needs the pool's training split (data.train), which was not given`);
  return { batch: toTensors(data.train, batch, data.preprocessing ?? DEFAULT_PREPROCESSING), own: true };
}

/** In this thread: step.ts's `lossAndGradients`, nothing else. */
function inThreadPool<Config>(architecture: Architecture<Config>, config: Config, data: GradientPoolData): GradientPool {
  const one = (state: ModelState, b: PoolBatch): LossAndGradients => {
    const { batch, own } = batchTensors(b, data, 'gradient pool');
    try {
      return lossAndGradients(architecture, config, state, batch);
    } finally {
      if (own) tf.dispose([batch.x, batch.y]);
    }
  };
  return {
    workers: 1,
    lossAndGradients: (state, batch) => Promise.resolve().then(() => one(state, batch)),
    lossAndGradientsEach: (tasks) => Promise.resolve().then(() => tasks.map((t) => one(t.state, t.batch))),
    forEachLossAndGradients: (tasks, use) =>
      Promise.resolve().then(() => {
        tasks.forEach((t, j) => use(j, one(t.state, t.batch)));
        return tasks.length;
      }),
    close: () => Promise.resolve(),
  };
}

/**
 * Starts a gradient pool for `architecture`/`config` (module doc). `workers: 1` (default) computes
 * in this thread; more workers need the wasm or cpu backend and an architecture from the registry
 * (a user architecture with its `module`, which each worker imports: util/worker-group.ts's
 * WorkerArchitecture, as the evaluation workers do). The first error in a worker rejects the pending call, terminates every worker and makes later
 * calls throw it. Always `close()` the pool.
 *
 * @example
 * const pool = await createGradientPool(lenet5, config, { train }, { workers: 'auto' });
 * try {
 *   const { loss, grads, batchStats, correct } = await pool.lossAndGradients(state, indices);
 *   // optimizer.step(state.params, grads, lr) …, then dispose loss, grads, batchStats, correct
 * } finally {
 *   await pool.close();
 * }
 */
export async function createGradientPool<Config>(
  architecture: Architecture<Config>,
  config: Config,
  data: GradientPoolData = {},
  options: GradientPoolOptions = {},
): Promise<GradientPool> {
  const count = resolveWorkers(options.workers);
  if (count === 1) return inThreadPool(architecture, config, data);
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new Error(
      `workers: gradient workers run the wasm or cpu backend, the active backend is ${backend}` +
        (backend === 'tensorflow' ? ' (which already computes on every core; use workers: 1)' : ''),
    );
  }
  assertWorkerArchitecture(architecture);
  const layout: StateLayout = specLayout(architecture.spec(config));
  const slotSize = layout.paramSize + layout.bufferSize;
  const memory = {
    states: new SharedArrayBuffer(count * slotSize * 4),
    grads: new SharedArrayBuffer(Math.max(1, count * layout.paramSize) * 4),
    stats: new SharedArrayBuffer(Math.max(1, count * layout.bufferSize) * 4),
    scalars: new SharedArrayBuffer(count * SCALARS_PER_WORKER * 8),
    reduced: new SharedArrayBuffer(Math.max(1, layout.paramSize) * 4),
  };
  const reduced = new Float32Array(memory.reduced);
  const states = new Float32Array(memory.states);
  const grads = new Float32Array(memory.grads);
  const stats = new Float32Array(memory.stats);
  const scalars = new Float64Array(memory.scalars);
  const ownSlots = resultSlots(memory, layout, 0);
  const split = data.train === undefined ? undefined : shareSplit(data.train);
  // Participant 0 is this thread; participants 1‥count−1 are the worker threads 0‥count−2.
  const group = await startWorkerGroup<GradientReply>({
    workerName: 'gradient worker',
    poolName: 'gradient pool',
    count: count - 1,
    label: (thread) => `gradient worker ${thread + 2} of ${count}`,
    launch: workerLaunch('gradient-worker', import.meta.url),
    workerData: (thread): GradientWorkerInit => ({
      backend,
      ...workerArchitecture(architecture),
      config,
      index: thread + 1,
      layout,
      memory,
      ...(split !== undefined ? { split } : {}),
      ...(data.preprocessing !== undefined ? { preprocessing: data.preprocessing } : {}),
    }),
    closedMessage: 'gradient pool: closed before this step was computed',
  });

  let nextId = 0;
  /** Posts `task` to participant `p` ≥ 1 (a worker thread); resolves when it has written its result. */
  const post = (p: number, task: GradientTask | ReduceTask | EachTask): Promise<void> => group.request(p - 1, task).then(() => undefined);
  const send = (p: number, stateSlot: number, shard: ShardMessage): Promise<void> => post(p, { kind: 'step', id: nextId++, stateSlot, shard });
  /**
   * The weighted gradient sum into `reduced`, each active participant summing one contiguous range
   * (active[0] is this thread, which sums its range while the workers sum theirs).
   */
  const reduceAll = async (active: readonly number[], weights: readonly number[]): Promise<void> => {
    const lengths = shardSizes(layout.paramSize, active.length);
    const starts = shardStarts(lengths);
    const range = (k: number) => ({ slots: active, weights, start: starts[k] as number, length: lengths[k] as number });
    const posted = active.slice(1).map((p, k) => post(p, { kind: 'reduce', id: nextId++, ...range(k + 1) }));
    reduceRange(memory, layout, range(0));
    await Promise.all(posted);
  };

  const writeState = (state: ModelState, slot: number, into: Float32Array = states): void => {
    assertStateMatches(layout, state, 'gradient pool');
    const base = slot * slotSize;
    for (const e of layout.params) into.set((state.params.get(e.name) as tf.Tensor).dataSync(), base + e.offset);
    for (const e of layout.buffers) into.set((state.buffers.get(e.name) as tf.Tensor).dataSync(), base + layout.paramSize + e.offset);
  };
  let eachMemory: TaskMemory | undefined;

  const inputs: { x: Float32Array; y: Int32Array } = { x: new Float32Array(new SharedArrayBuffer(4)), y: new Int32Array(new SharedArrayBuffer(4)) };
  /** Shard messages for `batch` cut into `sizes`. */
  const shardsOf = (batch: PoolBatch, sizes: readonly number[]): ShardMessage[] => {
    const starts = shardStarts(sizes);
    if (batch instanceof Int32Array) {
      if (split === undefined) throw new Error('gradient pool: an index batch needs the pool\'s training split (data.train), which was not given');
      return sizes.map((size, w) => ({ kind: 'indices', indices: batch.slice(starts[w], (starts[w] as number) + size) }));
    }
    const [n, h, wd, c] = batch.x.shape;
    if (batch.y.shape[0] !== n) throw new Error(`gradient pool: the batch has ${n} images but ${batch.y.shape[0]} labels`);
    if (inputs.x.length < batch.x.size) inputs.x = new Float32Array(new SharedArrayBuffer(batch.x.size * 4));
    if (inputs.y.length < n) inputs.y = new Int32Array(new SharedArrayBuffer(n * 4));
    inputs.x.set(batch.x.dataSync());
    const labels = batch.y.dataSync();
    for (let i = 0; i < n; i++) inputs.y[i] = labels[i] as number;
    const { x, y } = inputs;
    return sizes.map((size, w) => ({ kind: 'inputs', x, y, shape: [n, h, wd, c], start: starts[w] as number, count: size }));
  };

  /** Participant 0's shard, in this thread exactly as a worker computes one (gradient-worker.ts), into slot 0. */
  const computeOwn = (state: ModelState, shard: ShardMessage): void => {
    const batch = shardBatch(shard, split, data.preprocessing, 'gradient pool');
    try {
      const out = lossAndGradients(architecture, config, state, batch);
      try {
        writeResult(layout, out, batch.x.shape[0], ownSlots, 'gradient pool');
      } finally {
        tf.dispose([out.loss, out.correct, ...out.grads.values(), ...out.batchStats.values()]);
      }
    } finally {
      tf.dispose([batch.x, batch.y]);
    }
  };

  /** The result in worker `p`'s slots, as tensors (one worker's whole task). */
  const resultOf = (p: number): LossAndGradients => combine([p], [1], false);

  /**
   * Σ_w weights[w]·(slot of participant w) as tensors, BN statistics combined (shards.ts). With
   * `summed`, the gradient sum is already in `reduced` (reduceAll: the same sums, same order).
   */
  const combine = (active: readonly number[], weights: readonly number[], summed: boolean): LossAndGradients => {
    const part = (array: Float32Array, w: number, size: number, offset: number, length: number): Float32Array =>
      array.subarray(w * size + offset, w * size + offset + length);
    const gradMap = new Map<string, tf.Tensor>();
    for (const e of layout.params) {
      const values = summed
        ? reduced.slice(e.offset, e.offset + e.size)
        : weightedSum(active.map((w) => part(grads, w, layout.paramSize, e.offset, e.size)), weights, new Float32Array(e.size));
      gradMap.set(e.name, tf.tensor(values, [...e.shape], 'float32'));
    }
    const batchStats = new Map<string, tf.Tensor>();
    const byName = new Map(layout.buffers.map((e) => [e.name, e]));
    for (const e of layout.buffers) {
      if (batchStats.has(e.name)) continue;
      const meanName = e.name.endsWith('.running_var') ? `${e.name.slice(0, -'.running_var'.length)}.running_mean` : undefined;
      const varName = e.name.endsWith('.running_mean') ? `${e.name.slice(0, -'.running_mean'.length)}.running_var` : undefined;
      const pair = meanName !== undefined ? byName.get(meanName) : varName !== undefined ? byName.get(varName) : undefined;
      if (pair === undefined) {
        const values = weightedSum(active.map((w) => part(stats, w, layout.bufferSize, e.offset, e.size)), weights, new Float32Array(e.size));
        batchStats.set(e.name, tf.tensor(values, [...e.shape], 'float32'));
        continue;
      }
      const [mean, variance] = meanName !== undefined ? [pair, e] : [e, pair];
      const combined = combineBatchNormStats(
        active.map((w) => part(stats, w, layout.bufferSize, mean.offset, mean.size)),
        active.map((w) => part(stats, w, layout.bufferSize, variance.offset, variance.size)),
        weights,
      );
      batchStats.set(mean.name, tf.tensor(combined.mean, [...mean.shape], 'float32'));
      batchStats.set(variance.name, tf.tensor(combined.variance, [...variance.shape], 'float32'));
    }
    // Keep the layout's order, as the in-thread batchStats has it.
    const orderedStats = new Map(layout.buffers.map((e) => [e.name, batchStats.get(e.name) as tf.Tensor]));
    let loss = 0;
    let correct = 0;
    active.forEach((w, j) => {
      loss += (weights[j] as number) * (scalars[w * SCALARS_PER_WORKER] as number);
      correct += scalars[w * SCALARS_PER_WORKER + 1] as number;
    });
    return { loss: tf.scalar(Math.fround(loss)), grads: gradMap, batchStats: orderedStats, correct: tf.scalar(correct) };
  };

  /** Runs `own` here while `posted` run on the workers; settles every posted task before returning or throwing. */
  const alongside = async (posted: readonly Promise<void>[], own: () => void): Promise<void> => {
    try {
      own();
    } catch (error) {
      await Promise.allSettled(posted);
      throw error;
    }
    await Promise.all(posted);
  };

  // One call at a time: the slots belong to the call in flight.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(() => {
      if (group.failure !== undefined) throw group.failure;
      if (group.closed) throw new Error('gradient pool: called after close()');
      return work();
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    workers: count,
    lossAndGradients: (state, batch) =>
      exclusive(async () => {
        const n = batch instanceof Int32Array ? batch.length : batch.x.shape[0];
        if (n === 0) throw new Error('gradient pool: the batch is empty');
        const sizes = shardSizes(n, count);
        const active = sizes.flatMap((size, w) => (size > 0 ? [w] : [])); // 0 first: shard 0 is never smaller
        if (active.length > 1) writeState(state, 0);
        else assertStateMatches(layout, state, 'gradient pool');
        const shards = shardsOf(batch, sizes);
        const posted = active.slice(1).map((p) => send(p, 0, shards[p] as ShardMessage));
        await alongside(posted, () => computeOwn(state, shards[0] as ShardMessage));
        const weights = active.map((w) => (sizes[w] as number) / n);
        await reduceAll(active, weights);
        return combine(active, weights, true);
      }),
    lossAndGradientsEach: (tasks) =>
      exclusive(async () => {
        checkTasks(tasks);
        // Checked before anything is posted: past this point only a worker or a computation fails.
        const results: (LossAndGradients | undefined)[] = new Array<LossAndGradients | undefined>(tasks.length);
        try {
          // Rounds of `count` tasks: task r·count + p on participant p, this thread's own in-thread
          // while the workers compute theirs (each worker's inputs are posted before this thread starts).
          for (let first = 0; first < tasks.length; first += count) {
            const round = tasks.slice(first, first + count);
            const posted = round.slice(1).map((task, k) => {
              const p = k + 1;
              writeState(task.state, p);
              // Each worker its own input buffer: the tasks of a round are in flight together.
              const shard = task.batch instanceof Int32Array ? shardsOf(task.batch, [task.batch.length])[0] : tensorShard(task.batch);
              return send(p, p, shard as ShardMessage);
            });
            await alongside(posted, () => {
              results[first] = inThread(round[0] as (typeof round)[number]);
            });
            round.slice(1).forEach((_, k) => (results[first + k + 1] = resultOf(k + 1)));
          }
        } catch (error) {
          for (const r of results) if (r !== undefined) tf.dispose([r.loss, r.correct, ...r.grads.values(), ...r.batchStats.values()]);
          throw error;
        }
        return results as LossAndGradients[];
      }),
    forEachLossAndGradients: (tasks, use) =>
      exclusive(async () => {
        checkTasks(tasks);
        if (tasks.length === 0) return 0;
        const memory = taskMemory(tasks.length);
        const control = new Int32Array(memory.control);
        const taskStates = new Float32Array(memory.states);
        tasks.forEach((task, j) => writeState(task.state, j, taskStates));
        const shards = tasks.map((task): ShardMessage => (task.batch instanceof Int32Array ? { kind: 'indices', indices: task.batch } : tensorShard(task.batch)));
        const posted = Array.from({ length: count - 1 }, (_, k) => post(k + 1, { kind: 'each', id: nextId++, memory, count: tasks.length, shards }));
        const delivered = new Uint8Array(tasks.length);
        const deliver = (j: number, result: LossAndGradients): void => {
          delivered[j] = 1;
          use(j, result);
        };
        /** Hands over every result a worker has written since the last look. */
        const deliverWritten = (): void => {
          for (let j = 0; j < tasks.length; j++) if (delivered[j] === 0 && Atomics.load(control, 1 + j) === 1) deliver(j, taskResult(memory, j));
        };
        let own = 0;
        try {
          for (;;) {
            deliverWritten();
            const j = Atomics.add(control, 0, 1);
            if (j >= tasks.length) break;
            own += 1;
            deliver(j, inThread(tasks[j] as PoolTask));
          }
        } catch (error) {
          Atomics.store(control, 0, tasks.length); // the workers stop after their current task
          await Promise.allSettled(posted);
          throw error;
        }
        await Promise.all(posted);
        deliverWritten();
        return own;
      }),
    close: () => group.close(),
  };

  /** Throws, before anything is posted, for a task that cannot be computed. */
  function checkTasks(tasks: readonly PoolTask[]): void {
    tasks.forEach((task, j) => {
      const n = task.batch instanceof Int32Array ? task.batch.length : task.batch.x.shape[0];
      if (n === 0) throw new Error(`gradient pool: task ${j} has an empty batch`);
      if (task.batch instanceof Int32Array && split === undefined) throw new Error(`gradient pool: task ${j} is an index batch but the pool has no training split (data.train)`);
      assertStateMatches(layout, task.state, 'gradient pool');
    });
  }

  /** The per-task buffers for `tasks` tasks: the last call's when large enough (counter and flags reset). */
  function taskMemory(tasks: number): TaskMemory {
    if (eachMemory === undefined || new Int32Array(eachMemory.control).length < 1 + tasks) {
      const room = Math.max(tasks, 2 * count);
      eachMemory = {
        states: new SharedArrayBuffer(room * slotSize * 4),
        grads: new SharedArrayBuffer(Math.max(1, room * layout.paramSize) * 4),
        stats: new SharedArrayBuffer(Math.max(1, room * layout.bufferSize) * 4),
        scalars: new SharedArrayBuffer(room * SCALARS_PER_WORKER * 8),
        control: new SharedArrayBuffer((1 + room) * 4),
      };
    } else {
      new Int32Array(eachMemory.control).fill(0);
    }
    return eachMemory;
  }

  /** Task `j`'s result as tensors, read from its slots of `memory` (exactly the values written). */
  function taskResult(memory: TaskMemory, j: number): LossAndGradients {
    const slots = resultSlots(memory, layout, j);
    return {
      loss: tf.scalar(slots.scalars[0] as number),
      grads: readEntries(layout.params, slots.grads),
      batchStats: readEntries(layout.buffers, slots.stats),
      correct: tf.scalar(slots.scalars[1] as number),
    };
  }

  /** One whole task in this thread: step.ts's `lossAndGradients`, as the in-thread pool computes it. */
  function inThread(task: PoolTask): LossAndGradients {
    const { batch, own } = batchTensors(task.batch, data, 'gradient pool');
    try {
      return lossAndGradients(architecture, config, task.state, batch);
    } finally {
      if (own) tf.dispose([batch.x, batch.y]);
    }
  }

  /** A tensor batch as one shard in a buffer of its own. */
  function tensorShard(batch: Batch): ShardMessage {
    const [n, h, wd, c] = batch.x.shape;
    if (batch.y.shape[0] !== n) throw new Error(`gradient pool: the batch has ${n} images but ${batch.y.shape[0]} labels`);
    const x = new Float32Array(new SharedArrayBuffer(batch.x.size * 4));
    const y = new Int32Array(new SharedArrayBuffer(n * 4));
    x.set(batch.x.dataSync());
    y.set(batch.y.dataSync());
    return { kind: 'inputs', x, y, shape: [n, h, wd, c], start: 0, count: n };
  }
}
