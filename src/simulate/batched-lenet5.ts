/**
 * LeNet5 for K networks at once: the parameters of K nodes stacked along a new leading axis
 * ([K, …] tensors) and run as one batched computation, so a simulator tick costs a handful of
 * large kernels instead of K sets of small ones. Same function as `lenet5.apply` (src/models/lenet5.ts)
 * for every k:
 *
 *   logits[k] = lenet5(θ_k, x_k)
 *
 * Convolutions are written as im2col + batched matMul: for a 5×5 kernel the 25 shifted windows of
 * the input are concatenated on the channel axis (tap-major, index (kh·5 + kw)·C + c, which is the
 * row order of the HWIO kernel reshaped to [25·C, O]), and node k's patches [B·H·W, 25·C] are
 * multiplied by its kernel [25·C, O] in one BatchMatMul over k. Dense layers are BatchMatMuls.
 * When all nodes see the same images (evaluation on one test subset), conv1 is a single conv2d
 * whose output channels are the K nodes' filters side by side.
 *
 * The loss for training is Σ_k CE_k, each node's mean cross-entropy over its own batch; as the
 * nodes' parameters are disjoint, ∂/∂θ_k of the sum is node k's own gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LeNet5Config } from '../models/lenet5/index.js';
import type { ModelState, TensorMap } from '../models/types.js';

/** Stacks the parameters of `states` by name: name → [K, …shape]. Caller disposes. */
export function stackParams(states: readonly ModelState[], names: readonly string[]): Map<string, tf.Tensor> {
  if (states.length === 0) throw new Error('stackParams: no states given');
  return new Map(
    names.map((name) => {
      const tensors = states.map((s, k) => {
        const t = s.params.get(name);
        if (t === undefined) throw new Error(`stackParams: state ${k} has no parameter "${name}"`);
        return t;
      });
      return [name, tf.stack(tensors)];
    }),
  );
}

/**
 * The inverse of `stackParams`: K maps of name → tensor, each with its own buffer. Caller disposes.
 * (tf.unstack's slices can share the stacked buffer, and wasm's FusedConv2D then reads the bias
 * rank from the shared buffer's [K, O] shape and rejects it.)
 */
export function unstackParams(stacked: TensorMap): Map<string, tf.Tensor>[] {
  const names = [...stacked.keys()];
  const parts = names.map((n) =>
    tf.unstack(stacked.get(n) as tf.Tensor).map((view) => {
      const own = tf.tensor(view.dataSync(), view.shape, view.dtype);
      view.dispose();
      return own;
    }),
  );
  const k = parts[0]?.length ?? 0;
  return Array.from({ length: k }, (_, i) => new Map(names.map((n, j) => [n, (parts[j] as tf.Tensor[])[i] as tf.Tensor])));
}

function param(stacked: TensorMap, name: string): tf.Tensor {
  const t = stacked.get(name);
  if (t === undefined) throw new Error(`batched lenet5: stacked parameters lack "${name}"`);
  return t;
}

/** The 25 (k×k) shifted windows of x [M, H, W, C], concatenated: [M, H−k+1, W−k+1, k²·C]. */
function im2col(x: tf.Tensor4D, k: number): tf.Tensor4D {
  const [m, h, w, c] = x.shape;
  const oh = h - k + 1;
  const ow = w - k + 1;
  const windows: tf.Tensor4D[] = [];
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) windows.push(tf.slice(x, [0, i, j, 0], [m, oh, ow, c]));
  return tf.concat(windows, 3);
}

/** act(y + b) for y [K, M, O] and per-node biases b [K, O] (wasm's fused BatchMatMul takes rank-1 biases only). */
function biasAct(y: tf.Tensor3D, bias: tf.Tensor, relu: boolean): tf.Tensor3D {
  const [k, , o] = y.shape;
  const z = tf.add<tf.Tensor3D>(y, tf.reshape(bias, [k, 1, o]));
  return relu ? tf.relu(z) : z;
}

/** Valid 5×5 convolution of K stacks: x [K·B, H, W, C], kernel [K, 5, 5, C, O] → ReLU(x∗W + b) [K·B, H−4, W−4, O]. */
function batchedConvRelu(x: tf.Tensor4D, kernel: tf.Tensor, bias: tf.Tensor, k: number): tf.Tensor4D {
  const [kb, , , c] = x.shape;
  const out = kernel.shape[4] as number;
  const patches = im2col(x, 5);
  const [, oh, ow] = patches.shape;
  const y = biasAct(
    tf.matMul(tf.reshape<tf.Rank.R3>(patches, [k, (kb / k) * oh * ow, 25 * c]), tf.reshape<tf.Rank.R3>(kernel, [k, 25 * c, out])),
    bias,
    true,
  );
  return tf.reshape<tf.Rank.R4>(y, [kb, oh, ow, out]);
}

/**
 * Logits [K, B, classes] of K stacked LeNet5s.
 *
 * `x` is either [K·B, H, W, C] (node k's batch in rows k·B‥k·B+B−1) or, with `shared: true`,
 * [B, H, W, C] seen by every node.
 */
export function batchedLenet5Logits(config: LeNet5Config, stacked: TensorMap, x: tf.Tensor4D, options: { shared?: boolean } = {}): tf.Tensor3D {
  const w1 = param(stacked, 'conv1.weight');
  const k = w1.shape[0];
  const c = config.inputChannels;
  if (x.shape[3] !== c || x.shape[1] !== config.inputSize || x.shape[2] !== config.inputSize) {
    throw new Error(`batched lenet5: expected inputs [·, ${config.inputSize}, ${config.inputSize}, ${c}], found [${x.shape.join(', ')}]`);
  }
  if (options.shared !== true && x.shape[0] % k !== 0) throw new Error(`batched lenet5: ${x.shape[0]} input rows are not a multiple of ${k} nodes`);
  const b = options.shared === true ? x.shape[0] : x.shape[0] / k;
  return tf.tidy(() => {
    let h: tf.Tensor4D;
    if (options.shared === true) {
      // One conv2d with the K nodes' 6 filters side by side: output channel k·6 + o.
      const filter = tf.reshape<tf.Rank.R4>(tf.transpose(w1, [1, 2, 3, 0, 4]), [5, 5, c, k * 6]);
      const y = tf.relu(tf.add<tf.Tensor4D>(tf.conv2d(x, filter, 1, 'same'), tf.reshape(param(stacked, 'conv1.bias'), [k * 6])));
      const pooled = tf.maxPool(y, 2, 2, 'valid');
      const [, ph, pw] = pooled.shape;
      h = tf.reshape<tf.Rank.R4>(tf.transpose(tf.reshape(pooled, [b, ph, pw, k, 6]), [3, 0, 1, 2, 4]), [k * b, ph, pw, 6]);
    } else {
      // 5×5 with pad 2 is 'same'.
      const padded = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]]);
      h = tf.maxPool(batchedConvRelu(padded, w1, param(stacked, 'conv1.bias'), k), 2, 2, 'valid');
    }
    h = tf.maxPool(batchedConvRelu(h, param(stacked, 'conv2.weight'), param(stacked, 'conv2.bias'), k), 2, 2, 'valid');
    const side = h.shape[1];
    let f = tf.reshape<tf.Rank.R3>(h, [k, b, side * side * 16]);
    const dense = (input: tf.Tensor3D, name: string, relu: boolean): tf.Tensor3D => {
      const weight = param(stacked, `${name}.weight`);
      return biasAct(tf.matMul(input, weight), param(stacked, `${name}.bias`), relu);
    };
    f = dense(f, 'fc1', true);
    f = dense(f, 'fc2', true);
    return dense(f, 'fc3', false);
  });
}

/** Per-node mean cross-entropy [K] and correct counts [K] of logits [K, B, C] against labels [K, B] (int32). */
export function perNodeLossAndCorrect(logits: tf.Tensor3D, labels: tf.Tensor2D): { loss: tf.Tensor1D; correct: tf.Tensor1D } {
  return tf.tidy(() => {
    const classes = logits.shape[2];
    const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.cast(labels, 'int32'), classes)), 2);
    const loss = tf.neg<tf.Tensor1D>(tf.mean(picked, 1));
    const correct = tf.sum<tf.Tensor1D>(tf.cast(tf.equal(tf.argMax(logits, 2), tf.cast(labels, 'int32')), 'float32'), 1);
    return { loss, correct };
  });
}

export interface BatchedGradients {
  /** Each node's mean cross-entropy on its batch, [K] (caller disposes). */
  readonly loss: tf.Tensor1D;
  /** ∂(Σ_k CE_k)/∂θ by name, [K, …] (caller disposes). */
  readonly grads: Map<string, tf.Tensor>;
}

/** Loss and gradients of K stacked LeNet5s, node k on rows k·B‥k·B+B−1 of x [K·B, …] with labels [K, B]. */
export function batchedLossAndGradients(config: LeNet5Config, stacked: TensorMap, x: tf.Tensor4D, labels: tf.Tensor2D): BatchedGradients {
  const names = [...stacked.keys()];
  let loss: tf.Tensor1D | undefined;
  const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => {
    const params = new Map(names.map((n, i) => [n, ps[i] as tf.Tensor]));
    const perNode = perNodeLossAndCorrect(batchedLenet5Logits(config, params, x), labels);
    perNode.correct.dispose();
    loss = tf.keep(perNode.loss);
    return tf.sum(perNode.loss);
  })(names.map((n) => stacked.get(n) as tf.Tensor));
  value.dispose();
  return { loss: loss as tf.Tensor1D, grads: new Map(names.map((n, i) => [n, grads[i] as tf.Tensor])) };
}
