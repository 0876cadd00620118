/**
 * What the parent and the evaluation workers (worker-pool.ts, evaluation-worker.ts) send each
 * other, and the conversions between tensors and those plain messages.
 *
 * Tensors cross threads as `{ shape, dtype, values }`. The evaluation data is copied once into
 * SharedArrayBuffers that every worker reads (no per-worker copy in transit); a model state is
 * copied out of the parent's backend into fresh arrays whose buffers are transferred, not cloned.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelState } from '../models/types.js';
import type { Batch, EvaluationData, SplitMetrics } from './evaluate.js';
import type { Split } from '../rows/rows.js';
import type { WorkerArchitecture } from '../util/worker-group.js';

/** A tensor as plain data. `values` may be backed by a SharedArrayBuffer. */
export interface TensorMessage {
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
  readonly values: Float32Array | Int32Array;
}

export interface BatchMessage {
  readonly x: TensorMessage;
  readonly y: TensorMessage;
}

/** `EvaluationData` as plain data. */
export interface DataMessage {
  readonly train?: readonly BatchMessage[];
  readonly test?: readonly BatchMessage[];
  readonly bnBatches: readonly BatchMessage[];
}

/** A `ModelState` as name → tensor lists, in the state's order. */
export interface StateMessage {
  readonly params: readonly (readonly [string, TensorMessage])[];
  readonly buffers: readonly (readonly [string, TensorMessage])[];
}

/** `workerData` of an evaluation worker (the architecture as util/worker-group.ts's WorkerArchitecture). */
export interface WorkerInit extends WorkerArchitecture {
  /** The parent's backend as `initBackend` names it (`wasm` or `cpu`). */
  readonly backend: 'wasm' | 'cpu';
  readonly config: unknown;
  readonly data: DataMessage;
  readonly splits: readonly Split[];
  readonly bnReset: boolean;
  readonly bnBatchCount?: number;
}

/** Parent → worker: evaluate one state. */
export interface TaskMessage {
  readonly id: number;
  readonly state: StateMessage;
  readonly splits: readonly Split[];
}

/** Worker → parent. */
export type ReplyMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'result'; readonly id: number; readonly metrics: SplitMetrics }
  | { readonly kind: 'error'; readonly id: number | undefined; readonly message: string; readonly stack: string | undefined };

function dtypeOf(tensor: tf.Tensor, where: string): 'float32' | 'int32' {
  if (tensor.dtype === 'float32' || tensor.dtype === 'int32') return tensor.dtype;
  throw new Error(`${where}: worker threads take float32 or int32 tensors, found ${tensor.dtype}[${tensor.shape.join(', ')}]`);
}

/** A copy of `tensor` in a SharedArrayBuffer, readable by every worker. */
async function sharedTensor(tensor: tf.Tensor, where: string): Promise<TensorMessage> {
  const dtype = dtypeOf(tensor, where);
  const source = (await tensor.data()) as Float32Array | Int32Array;
  const buffer = new SharedArrayBuffer(source.byteLength);
  const values = dtype === 'float32' ? new Float32Array(buffer) : new Int32Array(buffer);
  values.set(source);
  return { shape: [...tensor.shape], dtype, values };
}

/**
 * The evaluation data in shared memory. A tensor that appears in several places (the same batch
 * for evaluation and BN re-estimation) is copied once. Only the BN batches that will be used are sent.
 */
export async function shareEvaluationData(data: EvaluationData, bnBatchCount?: number): Promise<DataMessage> {
  const copies = new Map<tf.Tensor, Promise<TensorMessage>>();
  const share = (tensor: tf.Tensor, where: string): Promise<TensorMessage> => {
    let copy = copies.get(tensor);
    if (copy === undefined) {
      copy = sharedTensor(tensor, where);
      copies.set(tensor, copy);
    }
    return copy;
  };
  const batches = (list: readonly Batch[], what: string): Promise<BatchMessage[]> =>
    Promise.all(list.map(async (b, i) => ({ x: await share(b.x, `${what} batch ${i} images`), y: await share(b.y, `${what} batch ${i} labels`) })));
  const bn = data.bnBatches.slice(0, bnBatchCount ?? data.bnBatches.length);
  return {
    ...(data.train !== undefined ? { train: await batches(data.train, 'train') } : {}),
    ...(data.test !== undefined ? { test: await batches(data.test, 'test') } : {}),
    bnBatches: await batches(bn, 'BN'),
  };
}

/**
 * `state` copied out of the backend into fresh arrays, and the buffers to transfer with it (the
 * copy matters: the cpu backend's `data()` returns its own storage, which a transfer would detach).
 */
export async function serializeState(state: ModelState): Promise<{ message: StateMessage; transfer: ArrayBuffer[] }> {
  const transfer: ArrayBuffer[] = [];
  const entries = async (map: ReadonlyMap<string, tf.Tensor>, what: string) =>
    Promise.all(
      [...map].map(async ([name, tensor]) => {
        const dtype = dtypeOf(tensor, `${what} "${name}"`);
        const values = ((await tensor.data()) as Float32Array | Int32Array).slice();
        transfer.push(values.buffer);
        return [name, { shape: [...tensor.shape], dtype, values }] as const;
      }),
    );
  const message = { params: await entries(state.params, 'parameter'), buffers: await entries(state.buffers, 'buffer') };
  return { message, transfer };
}

/** A tensor from its message (the values are copied into the backend; shared memory stays untouched). */
export function tensorFromMessage(message: TensorMessage): tf.Tensor {
  return tf.tensor(message.values.slice(), [...message.shape], message.dtype);
}

/** Tensors of a state message; the caller disposes them. */
export function stateFromMessage(message: StateMessage): ModelState {
  return {
    params: new Map(message.params.map(([name, t]) => [name, tensorFromMessage(t)])),
    buffers: new Map(message.buffers.map(([name, t]) => [name, tensorFromMessage(t)])),
  };
}

/**
 * Tensors of a data message; free with `disposeEvaluationData`. A tensor shared by several batches
 * in the parent (structured cloning keeps the identity of repeated objects) is created once here too.
 */
export function dataFromMessage(message: DataMessage): EvaluationData {
  const made = new Map<TensorMessage, tf.Tensor>();
  const make = (t: TensorMessage): tf.Tensor => {
    let tensor = made.get(t);
    if (tensor === undefined) {
      tensor = tensorFromMessage(t);
      made.set(t, tensor);
    }
    return tensor;
  };
  const batches = (list: readonly BatchMessage[]): Batch[] =>
    list.map((b) => ({ x: make(b.x) as tf.Tensor4D, y: make(b.y) as tf.Tensor1D | tf.Tensor2D }));
  return {
    ...(message.train !== undefined ? { train: batches(message.train) } : {}),
    ...(message.test !== undefined ? { test: batches(message.test) } : {}),
    bnBatches: batches(message.bnBatches),
  };
}
