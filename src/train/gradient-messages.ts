/**
 * The shared memory and the messages of the gradient pool (gradient-pool.ts, gradient-worker.ts).
 *
 * Everything large lives in SharedArrayBuffers allocated once by the parent: the training split's
 * raw bytes, one state slot per participant (parameters then buffers, float32, in the layout's
 * order), one gradient slot and one BatchNorm-statistics slot per participant, and per-participant
 * scalars (loss, correct, examples; float64). Participant 0 is the parent's own thread, 1‥W−1 the
 * worker threads. Per step only small messages cross threads: which state slot to read and which
 * examples (indices into the shared split, or rows of a shared input buffer).
 *
 * `shardBatch` and `writeResult` are what both sides do with a shard, so that the parent's own
 * shard is computed exactly as a worker computes one.
 */
import * as tf from '@tensorflow/tfjs-core';
import { toTensors, type Batch } from '../data/batches.js';
import { DEFAULT_PREPROCESSING, type Preprocessing } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
import type { ModelSpec, ModelState } from '../models/types.js';
import type { WorkerArchitecture } from '../util/worker-group.js';
import { weightedSum } from './shards.js';
import type { LossAndGradients } from './step.js';

/** One tensor's place in a slot. */
export interface LayoutEntry {
  readonly name: string;
  readonly shape: readonly number[];
  /** Offset in float32 elements from the start of its part (parameters or buffers). */
  readonly offset: number;
  readonly size: number;
}

/** Where every parameter and buffer of a state sits in a slot. */
export interface StateLayout {
  readonly params: readonly LayoutEntry[];
  readonly buffers: readonly LayoutEntry[];
  /** Float32 elements of all parameters. */
  readonly paramSize: number;
  /** Float32 elements of all buffers. */
  readonly bufferSize: number;
}

/** Values per worker in the scalars buffer: loss, correct, examples. */
export const SCALARS_PER_WORKER = 3;

/** The shared buffers of a pool of `workers` workers. */
export interface SharedMemory {
  /** float32, workers × (paramSize + bufferSize). */
  readonly states: SharedArrayBuffer;
  /** float32, workers × paramSize. */
  readonly grads: SharedArrayBuffer;
  /** float32, workers × bufferSize. */
  readonly stats: SharedArrayBuffer;
  /** float64, workers × SCALARS_PER_WORKER. */
  readonly scalars: SharedArrayBuffer;
  /** float32, paramSize: the summed gradient, each worker writing its own range. */
  readonly reduced: SharedArrayBuffer;
}

/** `workerData` of a gradient worker (the architecture as util/worker-group.ts's WorkerArchitecture). */
export interface GradientWorkerInit extends WorkerArchitecture {
  readonly backend: 'wasm' | 'cpu';
  readonly config: unknown;
  /** This worker's participant index (≥ 1; 0 is the parent): its gradient, statistics and scalars slot. */
  readonly index: number;
  readonly layout: StateLayout;
  readonly memory: SharedMemory;
  /** The training split with images and labels in shared memory, for index batches. */
  readonly split?: ImageSplit;
  readonly preprocessing?: Preprocessing;
}

/** The examples of one worker's task. */
export type ShardMessage =
  /** Indices into the shared split. */
  | { readonly kind: 'indices'; readonly indices: Int32Array }
  /** Rows [start, start + count) of a preprocessed batch in shared memory. */
  | {
      readonly kind: 'inputs';
      readonly x: Float32Array;
      readonly y: Int32Array;
      /** [N, H, W, C] of the whole batch. */
      readonly shape: readonly [number, number, number, number];
      readonly start: number;
      readonly count: number;
    };

/** Parent → worker: compute loss and gradients at the state in `stateSlot` on `shard`. */
export interface GradientTask {
  readonly kind: 'step';
  readonly id: number;
  readonly stateSlot: number;
  readonly shard: ShardMessage;
}

/**
 * Parent → worker, once every gradient slot is written: reduced[i] = Σ_k weights[k]·slot_{slots[k]}[i]
 * for i in [start, start + length), in the order of `slots` (weightedSum, shards.ts).
 */
export interface ReduceTask {
  readonly kind: 'reduce';
  readonly id: number;
  readonly slots: readonly number[];
  readonly weights: readonly number[];
  readonly start: number;
  readonly length: number;
}

/**
 * The shared buffers of one `forEachLossAndGradients` call (gradient-pool.ts): a state slot and a
 * result slot per task, and the claim counter the participants share.
 */
export interface TaskMemory {
  /** float32, tasks × (paramSize + bufferSize). */
  readonly states: SharedArrayBuffer;
  /** float32, tasks × paramSize. */
  readonly grads: SharedArrayBuffer;
  /** float32, tasks × bufferSize. */
  readonly stats: SharedArrayBuffer;
  /** float64, tasks × SCALARS_PER_WORKER. */
  readonly scalars: SharedArrayBuffer;
  /** int32, 1 + tasks: [0] the next task to claim, [1 + j] = 1 once task j's result is written. */
  readonly control: SharedArrayBuffer;
}

/**
 * Parent → worker: claim tasks 0‥count−1 one at a time (Atomics.add on control[0]) until none is
 * left, computing each from its state slot and shard into its result slot of `memory`.
 */
export interface EachTask {
  readonly kind: 'each';
  readonly id: number;
  readonly memory: TaskMemory;
  readonly count: number;
  readonly shards: readonly ShardMessage[];
}

/** Worker → parent. */
export type GradientReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'done'; readonly id: number }
  | { readonly kind: 'error'; readonly id: number | undefined; readonly message: string; readonly stack: string | undefined };

function entries(list: readonly { name: string; shape: readonly number[] }[]): { entries: LayoutEntry[]; size: number } {
  let offset = 0;
  const out = list.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const entry = { name, shape: [...shape], offset, size };
    offset += size;
    return entry;
  });
  return { entries: out, size: offset };
}

/** The layout of a model's tensors, in the spec's order (the order `init` gives a state). */
export function specLayout(spec: ModelSpec): StateLayout {
  const params = entries(spec.params);
  const buffers = entries(spec.buffers);
  return { params: params.entries, buffers: buffers.entries, paramSize: params.size, bufferSize: buffers.size };
}

/**
 * The tensors of `entries`, read from `from` with the layout's offsets counted from `base`. The
 * values are copied: the cpu backend would otherwise keep a view of shared memory that the next
 * task overwrites.
 */
export function readEntries(entries: readonly LayoutEntry[], from: Float32Array, base = 0): Map<string, tf.Tensor> {
  return new Map(entries.map((e) => [e.name, tf.tensor(from.slice(base + e.offset, base + e.offset + e.size), [...e.shape], 'float32')]));
}

/** Throws unless `state` has exactly the tensors of `layout` (names and shapes; any order). */
export function assertStateMatches(layout: StateLayout, state: ModelState, where: string): void {
  const check = (expected: readonly LayoutEntry[], found: ReadonlyMap<string, { shape: readonly number[] }>, what: string): void => {
    const missing = expected.filter((e) => !found.has(e.name)).map((e) => e.name);
    const known = new Set(expected.map((e) => e.name));
    const extra = [...found.keys()].filter((name) => !known.has(name));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(`${where}: the state's ${what} do not match the architecture: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`);
    }
    for (const e of expected) {
      const shape = (found.get(e.name) as { shape: readonly number[] }).shape;
      if (shape.join('x') !== e.shape.join('x')) throw new Error(`${where}: ${what} "${e.name}" expected [${e.shape.join(', ')}], found [${shape.join(', ')}]`);
    }
  };
  check(layout.params, state.params, 'parameters');
  check(layout.buffers, state.buffers, 'buffers');
}

/** A copy of `split` whose images and labels live in SharedArrayBuffers. */
export function shareSplit(split: ImageSplit): ImageSplit {
  const images = new Uint8Array(new SharedArrayBuffer(split.images.byteLength));
  images.set(split.images);
  const labels = new Uint8Array(new SharedArrayBuffer(split.labels.byteLength));
  labels.set(split.labels);
  return { ...split, images, labels };
}

/** The tensors of one shard (the caller disposes them): `split` is the pool's training split. */
export function shardBatch(shard: ShardMessage, split: ImageSplit | undefined, preprocessing: Preprocessing | undefined, where: string): Batch {
  if (shard.kind === 'indices') {
    if (split === undefined) throw new Error(`${where}: an index batch was sent but the pool has no training split`);
    return toTensors(split, shard.indices, preprocessing ?? DEFAULT_PREPROCESSING);
  }
  const [, h, w, c] = shard.shape;
  const pixels = h * w * c;
  const x = tf.tensor4d(shard.x.slice(shard.start * pixels, (shard.start + shard.count) * pixels), [shard.count, h, w, c], 'float32');
  const y = tf.tensor1d(shard.y.slice(shard.start, shard.start + shard.count), 'int32');
  return { x, y };
}

/** Typed views of one participant's result slots. */
export interface ResultSlots {
  readonly grads: Float32Array;
  readonly stats: Float32Array;
  readonly scalars: Float64Array;
}

/** The views of participant (or task) `index`'s result slots in `memory`. */
export function resultSlots(memory: Pick<SharedMemory, 'grads' | 'stats' | 'scalars'>, layout: StateLayout, index: number): ResultSlots {
  return {
    grads: new Float32Array(memory.grads, index * layout.paramSize * 4, layout.paramSize),
    stats: new Float32Array(memory.stats, index * layout.bufferSize * 4, layout.bufferSize),
    scalars: new Float64Array(memory.scalars, index * SCALARS_PER_WORKER * 8, SCALARS_PER_WORKER),
  };
}

/** Writes `out` (gradients, batch statistics, loss, correct) and the example count into `slots`; `out` is left to the caller. */
export function writeResult(layout: StateLayout, out: LossAndGradients, examples: number, slots: ResultSlots, where: string): void {
  for (const e of layout.params) {
    const g = out.grads.get(e.name);
    if (g === undefined) throw new Error(`${where}: no gradient for parameter "${e.name}"`);
    slots.grads.set(g.dataSync(), e.offset);
  }
  for (const e of layout.buffers) {
    const s = out.batchStats.get(e.name);
    if (s === undefined) throw new Error(`${where}: the forward pass gave no batch statistic for buffer "${e.name}"`);
    slots.stats.set(s.dataSync(), e.offset);
  }
  slots.scalars[0] = out.loss.dataSync()[0] as number;
  slots.scalars[1] = out.correct.dataSync()[0] as number;
  slots.scalars[2] = examples;
}

/** The `reduce` task's sum (ReduceTask): reduced[start‥start+length) = Σ_k weights[k]·grads slot slots[k], in slot order. */
export function reduceRange(memory: SharedMemory, layout: StateLayout, task: Pick<ReduceTask, 'slots' | 'weights' | 'start' | 'length'>): void {
  const grads = new Float32Array(memory.grads);
  const parts = task.slots.map((w) => grads.subarray(w * layout.paramSize + task.start, w * layout.paramSize + task.start + task.length));
  weightedSum(parts, task.weights, new Float32Array(memory.reduced, task.start * 4, task.length));
}
