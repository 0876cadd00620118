/**
 * Per-kernel time of one training step (forward in training mode, mean cross-entropy, gradients
 * of every parameter, as `src/train/step.ts` computes them) of one of the toolkit's models on the
 * wasm backend: `tf.profile` over a few steps, summed by kernel name.
 *
 * Run: `npx tsx bench/profile.ts --model lenet5|resnet18-k1/4|resnet18-k1|cct2|mobilenetv2-k1/2|shufflenetv2-k1/2|
 * regnet-x200mf-k1/2|efficientnet-b0-k1/2|dla-simple-k1/4 [--batch N]
 * [--steps 5] [--backend wasm] [--threads N] [--json FILE] [--baseline DIR]`.
 *
 * `--baseline DIR` (a checkout of this repository, e.g. `git worktree add /tmp/base <commit>` or
 * `git archive <commit> | tar -x -C DIR`, with node_modules linked to this one's) is an
 * interleaved A/B in one process: steps alternate between DIR's wasm kernel set
 * (`src/backend/wasm-gradient-kernels.ts` there) and ours, re-registered between steps, and the
 * table gives both medians and their ratio (and the ratio of the per-kernel minima over steps,
 * the least-preempted step). On a loaded machine those ratios are the numbers to read.
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
  // The depthwise / grouped families (issue 14): depthwise and grouped convolutions dominate.
  'mobilenetv2-k1/2': { arch: 'mobilenetv2', config: { width: 0.5 }, batch: 32 },
  'shufflenetv2-k1/2': { arch: 'shufflenetv2', config: { width: 0.5 }, batch: 32 },
  'regnet-x200mf-k1/2': { arch: 'regnet', config: { variant: 'x200mf', width: 0.5 }, batch: 32 },
  'efficientnet-b0-k1/2': { arch: 'efficientnet-b0', config: { width: 0.5 }, batch: 32 },
  'dla-simple-k1/4': { arch: 'dla', config: { variant: 'simple', width: 0.25 }, batch: 32 },
};

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'lenet5' },
    batch: { type: 'string' },
    steps: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'wasm' },
    threads: { type: 'string' },
    json: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const choice = MODELS[values.model];
if (choice === undefined) throw new Error(`--model: expected one of ${Object.keys(MODELS).join(', ')}, found "${values.model}"`);
const STEPS = Number(values.steps);
const BATCH = values.batch === undefined ? choice.batch : Number(values.batch);

type KernelConfig = import('@tensorflow/tfjs-core').KernelConfig;
type KernelModule = typeof import('../src/backend/wasm-gradient-kernels.js');
/** name → config of one wasm kernel set. */
type KernelSet = Map<string, KernelConfig | undefined>;

// tfjs-backend-wasm's own kernels, before our registration replaces some (a baseline set is built from them).
const originals: KernelSet = new Map();
if (values.baseline !== undefined) {
  await import('@tensorflow/tfjs-backend-wasm');
  for (const k of tf.getKernelsForBackend('wasm')) originals.set(k.kernelName, k);
}
await initBackend(values.backend, values.threads === undefined ? {} : { threads: Number(values.threads) });

/** The kernel set a wasm-gradient-kernels module registers, for the names in `names`. */
function kernelSet(module: KernelModule, names: readonly string[]): KernelSet {
  const set: KernelSet = new Map();
  for (const name of names) {
    const added = module.WASM_GRADIENT_KERNELS.find((k) => k.kernelName === name);
    const replace = module.WASM_REPLACED_KERNELS[name];
    const original = originals.get(name);
    set.set(name, added ?? (replace !== undefined && original !== undefined ? replace(original) : original));
  }
  return set;
}

function activate(set: KernelSet): void {
  for (const [name, config] of set) {
    if (tf.getKernel(name, 'wasm') !== undefined) tf.unregisterKernel(name, 'wasm');
    if (config !== undefined) tf.registerKernel(config);
  }
}

const sets: { label: string; set: KernelSet | undefined }[] = [{ label: 'ours', set: undefined }];
if (values.baseline !== undefined) {
  const ours = (await import('../src/backend/wasm-gradient-kernels.js'));
  const { pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  const theirs = (await import(pathToFileURL(resolve(values.baseline, 'src/backend/wasm-gradient-kernels.ts')).href)) as KernelModule;
  const names = [...new Set([...[ours, theirs].flatMap((m) => [...m.WASM_GRADIENT_KERNELS.map((k) => k.kernelName), ...Object.keys(m.WASM_REPLACED_KERNELS)])])];
  sets[0] = { label: 'ours', set: kernelSet(ours, names) };
  sets.push({ label: 'baseline', set: kernelSet(theirs, names) });
}
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

for (const { set } of sets) {
  if (set !== undefined) activate(set);
  step();
  step();
}

interface KernelStats {
  ms: number[];
  calls: number;
  shapes: Map<string, number>;
}
const stats = sets.map(() => new Map<string, KernelStats>());
let wall = 0;
for (let i = 0; i < STEPS; i++) {
  for (let v = 0; v < sets.length; v++) {
    const chosen = sets[v]?.set;
    if (chosen !== undefined) activate(chosen);
    const perKernel = stats[v] as Map<string, KernelStats>;
    const start = performance.now();
    const info = await tf.profile(step);
    if (v === 0) wall += performance.now() - start;
    for (const k of info.kernels) {
      const entry = perKernel.get(k.name) ?? { ms: new Array<number>(STEPS).fill(0), calls: 0, shapes: new Map<string, number>() };
      const ms = Number(k.kernelTimeMs);
      entry.ms[i] = (entry.ms[i] ?? 0) + ms;
      entry.calls += 1;
      const shapes = k.inputShapes.map((shape) => `[${(shape ?? []).join(',')}]`).join(' ');
      entry.shapes.set(shapes, (entry.shapes.get(shapes) ?? 0) + ms);
      perKernel.set(k.name, entry);
    }
  }
}
const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const medians = stats.map((perKernel) => new Map([...perKernel.entries()].map(([name, e]) => [name, median(e.ms)])));
// The least-disturbed step per kernel: on an oversubscribed machine a step is preempted at random.
const minima = stats.map((perKernel) => new Map([...perKernel.entries()].map(([name, e]) => [name, Math.min(...e.ms)])));
const totals = medians.map((m) => [...m.values()].reduce((a, b) => a + b, 0));
const ours = stats[0] as Map<string, KernelStats>;
const oursMedians = medians[0] as Map<string, number>;
const kernelMs = totals[0] as number;
const baselineMedians = medians[1];
const names = [...new Set([...ours.keys(), ...(stats[1]?.keys() ?? [])])];
const rows = names
  .sort((a, b) => Math.max(oursMedians.get(b) ?? 0, baselineMedians?.get(b) ?? 0) - Math.max(oursMedians.get(a) ?? 0, baselineMedians?.get(a) ?? 0))
  .map((name) => {
    const e = ours.get(name);
    const ms = oursMedians.get(name) ?? 0;
    const before = baselineMedians?.get(name) ?? 0;
    return {
      kernel: name,
      msPerStep: Number(ms.toFixed(2)),
      share: `${((100 * ms) / kernelMs).toFixed(1)}%`,
      ...(baselineMedians === undefined
        ? {}
        : {
            baselineMsPerStep: Number(before.toFixed(2)),
            baselineOverOurs: ms > 0 ? Number((before / ms).toFixed(2)) : null,
            minOverMin: (minima[0]?.get(name) ?? 0) > 0 ? Number(((minima[1]?.get(name) ?? 0) / (minima[0]?.get(name) ?? 1)).toFixed(2)) : null,
          }),
      callsPerStep: (e?.calls ?? 0) / STEPS,
      // The input shapes that cost most over all steps, with their ms per step.
      costliestInputs: [...(e?.shapes ?? [])]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([shapes, t]) => `${shapes} ${(t / STEPS).toFixed(1)}`)
        .join(' | '),
    };
  });
console.table(rows);
const load = await import('node:os').then((os) => os.loadavg().map((v) => v.toFixed(2)).join(' '));
const baselineMs = totals[1];
console.log(
  `${values.model} batch ${BATCH}: kernel time (sum of medians) ${kernelMs.toFixed(1)} ms/step` +
    (baselineMs === undefined ? '' : ` (baseline ${baselineMs.toFixed(1)}, baseline/ours ${(baselineMs / kernelMs).toFixed(2)}×)`) +
    `; mean wall under tf.profile ${(wall / STEPS).toFixed(1)} ms/step; load average ${load}`,
);
if (values.json !== undefined) {
  writeFileSync(values.json, JSON.stringify({ model: values.model, batch: BATCH, steps: STEPS, load, kernelMs, baselineMs, rows }, null, 2));
}
