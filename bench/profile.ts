/**
 * Per-kernel time of one training step (forward in training mode, mean cross-entropy, gradients
 * of every parameter, as `src/train/step.ts` computes them) of one of the toolkit's models on the
 * wasm backend: `tf.profile` over a few steps, summed by kernel name.
 *
 * Run: `npx tsx bench/profile.ts --model lenet5|resnet18-k1/4|resnet18-k1|cct2 [--batch N]
 * [--steps 5] [--backend wasm] [--threads N] [--json FILE]`.
 *
 * wasm kernels run synchronously, so the wall time tf.profile records per kernel is its cost.
 * Per kernel it reports the median over steps of the step's total (robust on a shared machine,
 * where a preempted step inflates a mean); "kernel time" is the sum of those medians. Each row
 * also names the three input shapes that cost that kernel most (mean ms per step). Kernels
 * that call other kernels directly (ours do, see `src/backend/wasm-kernel-calls.ts`) are timed
 * as one: their inner calls do not appear separately.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import './tfjs-core-resolve.js';
const tf = await import('@tensorflow/tfjs-core');
const { initBackend } = await import('../src/backend/init-backend.js');
const { createModel, getArchitecture } = await import('../src/models/registry.js');
const { lossAndGradients } = await import('../src/train/step.js');
const { createRandom, normalArray } = await import('../src/util/random.js');

/** The profiled models: architecture, config and default batch. */
const MODELS: Record<string, { arch: string; config: Record<string, unknown>; batch: number }> = {
  lenet5: { arch: 'lenet5', config: {}, batch: 128 },
  'resnet18-k1/4': { arch: 'resnet18', config: { width: 0.25 }, batch: 32 },
  'resnet18-k1': { arch: 'resnet18', config: { width: 1 }, batch: 8 },
  cct2: { arch: 'cct', config: { preset: 'cct_2_3x2_32' }, batch: 32 },
};

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'lenet5' },
    batch: { type: 'string' },
    steps: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string' },
    json: { type: 'string' },
  },
});
const choice = MODELS[values.model];
if (choice === undefined) throw new Error(`--model: expected one of ${Object.keys(MODELS).join(', ')}, found "${values.model}"`);
const STEPS = Number(values.steps);
const BATCH = values.batch === undefined ? choice.batch : Number(values.batch);

await initBackend(values.backend, values.threads === undefined ? {} : { threads: Number(values.threads) });
const arch = getArchitecture(choice.arch);
const model = createModel(choice.arch, choice.config, 1);
const [h, w, c] = arch.spec(model.config).inputShape;
const random = createRandom(2);
const batch = {
  x: tf.tensor4d(normalArray(BATCH * h * w * c, 0, 1, random), [BATCH, h, w, c]),
  y: tf.tensor1d(Array.from({ length: BATCH }, () => random.int(10)), 'int32'),
};

function step(): void {
  tf.tidy(() => {
    const out = lossAndGradients(arch, model.config, model, batch);
    tf.stack([...out.grads.values()].map((g) => tf.sum(g))).dataSync();
    tf.dispose([out.loss, out.correct, ...out.batchStats.values(), ...out.grads.values()]);
  });
}

step();
step();
const perStep = new Map<string, { ms: number[]; calls: number; shapes: Map<string, number> }>();
let wall = 0;
for (let i = 0; i < STEPS; i++) {
  const start = performance.now();
  const info = await tf.profile(step);
  wall += performance.now() - start;
  for (const k of info.kernels) {
    const entry = perStep.get(k.name) ?? { ms: new Array<number>(STEPS).fill(0), calls: 0, shapes: new Map<string, number>() };
    const ms = Number(k.kernelTimeMs);
    entry.ms[i] = (entry.ms[i] ?? 0) + ms;
    entry.calls += 1;
    const shapes = k.inputShapes.map((shape) => `[${(shape ?? []).join(',')}]`).join(' ');
    entry.shapes.set(shapes, (entry.shapes.get(shapes) ?? 0) + ms);
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
    // The input shapes that cost most over all steps, with their ms per step.
    costliestInputs: [...e.shapes]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([shapes, ms]) => `${shapes} ${(ms / STEPS).toFixed(1)}`)
      .join(' | '),
  }));
console.table(rows);
const load = await import('node:os').then((os) => os.loadavg().map((v) => v.toFixed(2)).join(' '));
console.log(
  `${values.model} batch ${BATCH}: kernel time (sum of medians) ${kernelMs.toFixed(1)} ms/step; ` +
    `mean wall under tf.profile ${(wall / STEPS).toFixed(1)} ms/step; load average ${load}`,
);
if (values.json !== undefined) {
  writeFileSync(values.json, JSON.stringify({ model: values.model, batch: BATCH, steps: STEPS, load, kernelMs, rows }, null, 2));
}
