/**
 * Per-kernel time of one LeNet-5 training step (batch 128, fused variant, as `src/models/lenet5.ts`
 * runs it) on the wasm backend: `tf.profile` over a few steps, summed by kernel name.
 *
 * Run: `npx tsx bench/profile-lenet5.ts [--steps 5] [--backend wasm] [--threads N]`.
 * wasm kernels run synchronously, so the wall time tf.profile records per kernel is its cost.
 * Per kernel it reports the median over steps of the step's total (robust on a shared machine,
 * where a preempted step inflates a mean); "kernel time" is the sum of those medians.
 */
import { parseArgs } from 'node:util';

import './tfjs-core-resolve.js';
import { SHAPES } from './lenet5-shapes.js';
const tf = await import('@tensorflow/tfjs-core');
const { initBackend } = await import('../src/backend/init-backend.js');
const { createRandom, normalArray } = await import('../src/util/random.js');

type Tensor = import('@tensorflow/tfjs-core').Tensor;
type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string' },
  },
});
const STEPS = Number(values.steps);
const BATCH = 128;

await initBackend(values.backend, values.threads === undefined ? {} : { threads: Number(values.threads) });
const random = createRandom(1);
const params = Object.fromEntries(
  Object.entries(SHAPES).map(([name, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return [name, tf.tensor(normalArray(size, 0, shape.length === 1 ? 0 : 0.2, random), shape)];
  }),
) as Record<string, Tensor>;
const names = Object.keys(SHAPES);
const x = tf.tensor4d(normalArray(BATCH * 28 * 28, 0, 1, random), [BATCH, 28, 28, 1]);
const labels = tf.oneHot(tf.tensor1d(Array.from({ length: BATCH }, () => random.int(10)), 'int32'), 10);

function logits(p: Record<string, Tensor>): Tensor {
  const g = (name: string): Tensor => p[name] as Tensor;
  let h: Tensor4D = tf.fused.conv2d({ x, filter: g('conv1W') as never, strides: 1, pad: 2, bias: g('conv1B'), activation: 'relu' });
  h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.fused.conv2d({ x: h, filter: g('conv2W') as never, strides: 1, pad: 'valid', bias: g('conv2B'), activation: 'relu' });
  h = tf.maxPool(h, 2, 2, 'valid');
  let f: Tensor = tf.reshape(h, [-1, 400]);
  f = tf.fused.matMul({ a: f, b: g('fc1W'), bias: g('fc1B'), activation: 'relu' });
  f = tf.fused.matMul({ a: f, b: g('fc2W'), bias: g('fc2B'), activation: 'relu' });
  return tf.fused.matMul({ a: f, b: g('fc3W'), bias: g('fc3B') });
}

function step(): void {
  tf.tidy(() => {
    const lossOf = (...ws: Tensor[]): import('@tensorflow/tfjs-core').Scalar => {
      const p = Object.fromEntries(names.map((n, i) => [n, ws[i] as Tensor]));
      return tf.losses.softmaxCrossEntropy(labels, logits(p));
    };
    const { grads } = tf.valueAndGrads(lossOf)(names.map((n) => params[n] as Tensor));
    tf.stack(grads.map((g) => tf.sum(g))).dataSync();
  });
}

step();
step();
const perStep = new Map<string, { ms: number[]; calls: number; shapes: Set<string> }>();
let wall = 0;
for (let i = 0; i < STEPS; i++) {
  const start = performance.now();
  const info = await tf.profile(step);
  wall += performance.now() - start;
  for (const k of info.kernels) {
    const entry = perStep.get(k.name) ?? { ms: new Array<number>(STEPS).fill(0), calls: 0, shapes: new Set<string>() };
    entry.ms[i] = (entry.ms[i] ?? 0) + Number(k.kernelTimeMs);
    entry.calls += 1;
    entry.shapes.add(k.inputShapes.map((shape) => `[${(shape ?? []).join(',')}]`).join(' '));
    perStep.set(k.name, entry);
  }
}
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const medians = new Map([...perStep.entries()].map(([name, e]) => [name, median(e.ms)]));
const kernelMs = [...medians.values()].reduce((a, b) => a + b, 0);
const rows = [...perStep.entries()]
  .sort((a, b) => (medians.get(b[0]) ?? 0) - (medians.get(a[0]) ?? 0))
  .map(([name, e]) => ({
    kernel: name,
    msPerStep: Number((medians.get(name) ?? 0).toFixed(2)),
    share: `${((100 * (medians.get(name) ?? 0)) / kernelMs).toFixed(1)}%`,
    callsPerStep: e.calls / STEPS,
    inputShapes: [...e.shapes].slice(0, 3).join(' | '),
  }));
console.table(rows);
console.log(`kernel time (sum of medians) ${kernelMs.toFixed(1)} ms/step; mean wall under tf.profile ${(wall / STEPS).toFixed(1)} ms/step`);
