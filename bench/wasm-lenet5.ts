/**
 * Micro-benchmark: LeNet-5 training and inference throughput on the wasm backend (with our
 * gradient kernels) and on the cpu backend, in images per second.
 *
 * Model (NHWC, batch 128, 28×28×1 inputs): conv 6@5×5 pad 2 → relu → maxpool 2 → conv 16@5×5 →
 * relu → maxpool 2 → dense 400-120-84-10; loss softmax cross-entropy; SGD through `tf.grads`.
 * Variants: `plain` (conv2d + add + relu, matMul + add + relu) and `fused` (tf.fused.conv2d /
 * tf.fused.matMul with bias and relu folded in).
 *
 * Run: `npx tsx bench/wasm-lenet5.ts [--steps 10] [--backends wasm,cpu] [--threads N]`.
 * The PyTorch reference is `python3 bench/torch-lenet5.py` (2 threads).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import './tfjs-core-resolve.js';
import { SHAPES } from './lenet5-shapes.js';
const tf = await import('@tensorflow/tfjs-core');
const { initBackend } = await import('../src/backend/init-backend.js');
const { createRandom, normalArray } = await import('../src/util/random.js');

type Tensor = import('@tensorflow/tfjs-core').Tensor;
type Variant = 'plain' | 'fused';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '10' },
    backends: { type: 'string', default: 'wasm,cpu' },
    variants: { type: 'string', default: 'plain,fused' },
    threads: { type: 'string' },
  },
});
const STEPS = Number(values.steps);
const BATCH = 128;

function makeParams(): Record<string, Tensor> {
  const random = createRandom(5);
  const params: Record<string, Tensor> = {};
  for (const [name, shape] of Object.entries(SHAPES)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 1 ? 1 : shape.slice(0, -1).reduce((a, b) => a * b, 1);
    params[name] = tf.tensor(normalArray(size, 0, shape.length === 1 ? 0 : Math.sqrt(2 / fanIn), random), shape);
  }
  return params;
}

function logits(p: Record<string, Tensor>, x: Tensor, variant: Variant): Tensor {
  const g = (name: string): Tensor => p[name] as Tensor;
  const x4 = x as import('@tensorflow/tfjs-core').Tensor4D;
  let h: import('@tensorflow/tfjs-core').Tensor4D;
  if (variant === 'fused') {
    h = tf.fused.conv2d({ x: x4, filter: g('conv1W') as never, strides: 1, pad: 2, bias: g('conv1B'), activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.fused.conv2d({ x: h, filter: g('conv2W') as never, strides: 1, pad: 'valid', bias: g('conv2B'), activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    let f: Tensor = tf.reshape(h, [-1, 400]);
    f = tf.fused.matMul({ a: f, b: g('fc1W'), bias: g('fc1B'), activation: 'relu' });
    f = tf.fused.matMul({ a: f, b: g('fc2W'), bias: g('fc2B'), activation: 'relu' });
    return tf.fused.matMul({ a: f, b: g('fc3W'), bias: g('fc3B') });
  }
  h = tf.relu(tf.add(tf.conv2d(x4, g('conv1W') as never, 1, 2), g('conv1B')));
  h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.relu(tf.add(tf.conv2d(h, g('conv2W') as never, 1, 'valid'), g('conv2B')));
  h = tf.maxPool(h, 2, 2, 'valid');
  let f: Tensor = tf.reshape(h, [-1, 400]);
  f = tf.relu(tf.add(tf.matMul(f as never, g('fc1W') as never), g('fc1B')));
  f = tf.relu(tf.add(tf.matMul(f as never, g('fc2W') as never), g('fc2B')));
  return tf.add(tf.matMul(f as never, g('fc3W') as never), g('fc3B'));
}

interface Row {
  backend: string;
  variant: Variant;
  forwardImagesPerSecond: number;
  trainImagesPerSecond: number;
  lossFirst: number;
  lossLast: number;
}

async function run(backendName: 'wasm' | 'cpu', variant: Variant): Promise<Row> {
  const options = values.threads === undefined ? {} : { threads: Number(values.threads) };
  await initBackend(backendName, options);
  const random = createRandom(1);
  const x = tf.tensor4d(normalArray(BATCH * 28 * 28, 0, 1, random), [BATCH, 28, 28, 1]);
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, () => random.int(10)), 'int32'), 10);
  let params = makeParams();
  const names = Object.keys(SHAPES);

  const forward = (): void => {
    tf.tidy(() => logits(params, x, variant).dataSync());
  };
  const train = (): number =>
    tf.tidy(() => {
      const lossOf = (...ws: Tensor[]): import('@tensorflow/tfjs-core').Scalar => {
        const p = Object.fromEntries(names.map((n, i) => [n, ws[i] as Tensor]));
        return tf.losses.softmaxCrossEntropy<import('@tensorflow/tfjs-core').Tensor, import('@tensorflow/tfjs-core').Scalar>(labels, logits(p, x, variant));
      };
      const { value, grads } = tf.valueAndGrads(lossOf)(names.map((n) => params[n] as Tensor));
      const next = Object.fromEntries(names.map((n, i) => [n, tf.keep(tf.sub(params[n] as Tensor, tf.mul(0.05, grads[i] as Tensor)))]));
      tf.dispose(Object.values(params));
      params = next;
      return value.dataSync()[0] as number;
    });

  for (let i = 0; i < 2; i++) forward();
  let start = performance.now();
  for (let i = 0; i < STEPS; i++) forward();
  const forwardSeconds = (performance.now() - start) / 1000;

  const lossFirst = train();
  train();
  start = performance.now();
  let lossLast = lossFirst;
  for (let i = 0; i < STEPS; i++) lossLast = train();
  const trainSeconds = (performance.now() - start) / 1000;
  tf.dispose([x, labels, ...Object.values(params)]);
  return {
    backend: backendName,
    variant,
    forwardImagesPerSecond: Math.round((STEPS * BATCH) / forwardSeconds),
    trainImagesPerSecond: Math.round((STEPS * BATCH) / trainSeconds),
    lossFirst: Number(lossFirst.toFixed(4)),
    lossLast: Number(lossLast.toFixed(4)),
  };
}

const rows: Row[] = [];
for (const backend of values.backends.split(',') as ('wasm' | 'cpu')[]) {
  for (const variant of values.variants.split(',') as Variant[]) {
    rows.push(await run(backend, variant));
    console.error(JSON.stringify(rows.at(-1)));
  }
}
console.table(rows);
