/**
 * Building and checking model specs: architectures declare their layer groups once, and the flat
 * parameter and buffer lists, the tensor-to-group links and the shape checks of `apply` follow.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ApplyOptions, ApplyResult, LayerGroup, ModelSpec, ModelState, TensorKind, TensorMap, TensorSpec } from './types.js';

/** One tensor of a layer group, as an architecture declares it. */
export interface TensorDecl {
  readonly name: string;
  readonly shape: readonly number[];
  readonly kind: TensorKind;
}

/** One layer group with its tensors, input side first. */
export interface LayerDecl {
  readonly name: string;
  readonly tensors: readonly TensorDecl[];
}

/** γ and β (parameters) and the running mean and variance (buffers) of the BatchNorm `bn`. */
export function batchNormTensors(bn: string, channels: number): TensorDecl[] {
  return [
    { name: `${bn}.weight`, shape: [channels], kind: 'norm-scale' },
    { name: `${bn}.bias`, shape: [channels], kind: 'norm-shift' },
    { name: `${bn}.running_mean`, shape: [channels], kind: 'running-mean' },
    { name: `${bn}.running_var`, shape: [channels], kind: 'running-var' },
  ];
}

/** `prefix`.weight of `shape` and `prefix`.bias over its last dimension (a dense layer, a conv with bias). */
export function weightAndBias(prefix: string, shape: readonly number[]): TensorDecl[] {
  return [
    { name: `${prefix}.weight`, shape, kind: 'weight' },
    { name: `${prefix}.bias`, shape: [shape[shape.length - 1] as number], kind: 'bias' },
  ];
}

/**
 * A bias-free conv and the BatchNorm after it as the layer group `group`; `kernel` is HWIO,
 * [k, k, C_in / groups, C_out] (a depthwise kernel has C_in / groups = 1).
 */
export function convBnLayer(group: string, conv: string, bn: string, kernel: readonly [number, number, number, number]): LayerDecl {
  return { name: group, tensors: [{ name: `${conv}.weight`, shape: kernel, kind: 'weight' }, ...batchNormTensors(bn, kernel[3])] };
}

/** A layer group of one weight of `shape` and its bias, both named after the group (a classifier). */
export function affineLayer(name: string, shape: readonly number[]): LayerDecl {
  return { name, tensors: weightAndBias(name, shape) };
}

const BUFFER_KINDS: ReadonlySet<TensorKind> = new Set(['running-mean', 'running-var']);

/** Flattens layer declarations into a ModelSpec; BatchNorm running statistics become buffers. */
export function buildModelSpec(layers: readonly LayerDecl[], inputShape: readonly [number, number, number], classes: number): ModelSpec {
  const params: TensorSpec[] = [];
  const buffers: TensorSpec[] = [];
  const groups: LayerGroup[] = [];
  const seen = new Set<string>();
  for (const layer of layers) {
    const groupParams: string[] = [];
    const groupBuffers: string[] = [];
    for (const t of layer.tensors) {
      if (seen.has(t.name)) throw new Error(`model spec: tensor "${t.name}" is declared twice`);
      seen.add(t.name);
      const spec: TensorSpec = { name: t.name, shape: [...t.shape], kind: t.kind, layer: layer.name };
      if (BUFFER_KINDS.has(t.kind)) {
        buffers.push(spec);
        groupBuffers.push(t.name);
      } else {
        params.push(spec);
        groupParams.push(t.name);
      }
    }
    groups.push({ name: layer.name, params: groupParams, buffers: groupBuffers });
  }
  return { params, buffers, layers: groups, inputShape, classes };
}

/** Number of scalars a list of tensor specs describes (no allocation). */
export function countSpecScalars(specs: readonly TensorSpec[]): number {
  let total = 0;
  for (const s of specs) total += s.shape.reduce((a, b) => a * b, 1);
  return total;
}

function checkMap(specs: readonly TensorSpec[], map: TensorMap, what: string, architecture: string): void {
  for (const s of specs) {
    const t = map.get(s.name);
    if (t === undefined) throw new Error(`${architecture}: ${what} tensor "${s.name}" is missing (expected shape [${s.shape.join(', ')}])`);
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw new Error(`${architecture}: ${what} tensor "${s.name}" has shape [${t.shape.join(', ')}], expected [${s.shape.join(', ')}]`);
    }
  }
}

/**
 * Checks a state and an input batch against the spec before a forward pass: every parameter and
 * buffer present with its shape, and x of shape [N, H, W, C] with N ≥ 1.
 */
export function checkApplyInputs(spec: ModelSpec, state: ModelState, x: tf.Tensor, architecture: string, needBuffers: boolean): void {
  checkMap(spec.params, state.params, 'parameter', architecture);
  if (needBuffers) checkMap(spec.buffers, state.buffers, 'buffer', architecture);
  const [h, w, c] = spec.inputShape;
  if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c || (x.shape[0] ?? 0) < 1) {
    throw new Error(`${architecture}: input x has shape [${x.shape.join(', ')}], expected [N, ${h}, ${w}, ${c}] (NHWC)`);
  }
}

/** The tensor called `name`; apply has checked its presence, so a miss is a programming error. */
export function tensorOf<R extends tf.Rank>(map: TensorMap, name: string): tf.Tensor<R> {
  const t = map.get(name);
  if (t === undefined) throw new Error(`tensor "${name}" is missing`);
  return t as tf.Tensor<R>;
}

/** What one forward pass needs besides its input: the tensors, and in training the record of the batch statistics. */
export interface ForwardPass {
  readonly params: TensorMap;
  readonly buffers: TensorMap;
  /** Training: every BatchNorm records its batch mean and variance here under its buffer names. Evaluation: undefined. */
  readonly stats: Record<string, tf.Tensor> | undefined;
  /**
   * h ← run(h, item, index) for each of `items` (the residual units, stages or trees of a
   * network), each in its own tidy that keeps its output and the batch statistics it records: a
   * unit's intermediates, and its input once it is done (never the pass's x), are freed as the
   * pass goes, not when it ends. Tensors a gradient needs survive, since tfjs keeps its own
   * reference to what a kernel saves for the backward pass. Without it a pass holds every
   * activation to its end: a ShuffleNet (scale 0.5) evaluation of 100 images peaked at 949 MB of
   * tensors, with it at 135 MB.
   */
  readonly sequence: <I>(h: tf.Tensor4D, items: Iterable<I>, run: (input: tf.Tensor4D, item: I, index: number) => tf.Tensor4D) => tf.Tensor4D;
}

/**
 * `apply` of a network: checks the state and x against `spec` (buffers only in evaluation), runs
 * `forward` in one tidy and returns its logits with the batch statistics it recorded.
 */
export function applyForward(
  spec: ModelSpec,
  architecture: string,
  state: ModelState,
  x: tf.Tensor4D,
  options: ApplyOptions,
  forward: (pass: ForwardPass) => tf.Tensor2D,
): ApplyResult {
  checkApplyInputs(spec, state, x, architecture, !options.training);
  const out = tf.tidy(() => {
    const stats: Record<string, tf.Tensor> | undefined = options.training ? {} : undefined;
    const sequence: ForwardPass['sequence'] = (h, items, run) => {
      let index = 0;
      for (const item of items) {
        const input = h;
        const i = index++;
        // Returning the record keeps the statistics the unit added (the others belong to this scope).
        const kept = tf.tidy(() => ({ output: run(input, item, i), recorded: { ...stats } }));
        if (stats !== undefined) Object.assign(stats, kept.recorded);
        h = kept.output;
        if (input !== x && input !== h) input.dispose();
      }
      return h;
    };
    const pass: ForwardPass = { params: state.params, buffers: state.buffers, stats, sequence };
    const logits = forward(pass);
    return { logits, stats: pass.stats ?? {} };
  });
  return { logits: out.logits, batchStats: new Map(Object.entries(out.stats)) };
}

/** features · W + b with the dense layer `name` (`name`.weight [F, classes], `name`.bias). */
export function denseForward(features: tf.Tensor2D, params: TensorMap, name: string): tf.Tensor2D {
  return tf.fused.matMul({ a: features, b: tensorOf(params, `${name}.weight`), bias: tensorOf(params, `${name}.bias`) }) as tf.Tensor2D;
}
