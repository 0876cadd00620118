/**
 * `npm run bench`: the issue 11 §4 targets table in one invocation, every figure measured in this
 * run, then the issue 14 family rows (same columns, no goal: targets.ts FAMILY_MODELS, the
 * comparison figure's configs). Each row: ours on every core (workers = auto: training through the gradient pool as
 * `modeconn train` runs it, evaluation through the evaluator pool), ours on one thread
 * (workers = 1), PyTorch (bench/torch_bench.py) at the better of 1 and 2 threads, the ratio, the
 * issue's goal and the load. Workloads and the table's assembly: targets.ts; our side: ours.ts.
 *
 *   npm run bench [-- --repeat 3 --long-repeat 1 --seconds 1 --only lenet5,curve-e2e --no-torch
 *                     --family-repeat 1 --e2e-scale 1 --backend wasm --details]
 *
 * - `--repeat N` (default 3): every measurement N times, the MEDIAN reported. Repeats alternate
 *   sides (ours, then PyTorch, then ours …); PyTorch never runs while ours does.
 * - `--long-repeat M` (default 1): runs of the two long end-to-end workloads (curve-e2e,
 *   resnet-epoch, ≈ 1–2 min per run and side), in the first M repeats. The default keeps a whole
 *   run near 11–12 min on 2 cores (estimated); `--long-repeat 3` gives their medians too (≈ 19 min).
 * - `--seconds S` (default 1): timed seconds of each step measurement (after one warm-up call,
 *   at least 2 calls; PyTorch: 2 warm-up calls, at least 3).
 * - `--family-repeat K` (default 1): runs of the family rows (train and eval of vgg16,
 *   mobilenetv2, shufflenetv2, regnetx200mf, efficientnet-b0, dla), in the first K repeats. Each
 *   row's seconds are printed and the table's last line sums them per section. Not yet timed
 *   on a quiet machine: at load average 12–17 (other processes ≈ 1.7 of the 2 cores) one
 *   repeat of our side took 684 s (mobilenetv2 train 144 s, regnetx200mf train 100 s, dla
 *   train 94 s, shufflenetv2 train 91 s, the rest ≤ 54 s each), PyTorch's longer still.
 * - `--only A,B`: workload ids or prefixes (`lenet5` = lenet5-train, lenet5-eval, lenet5-epoch),
 *   or a section: `--only families` runs only the family rows, `--only targets` only issue 11's.
 * - `--e2e-scale F` (smoke runs only): end-to-end workloads on F of their images; the table says so.
 * - `--details`: afterwards, the detailed tables of details.ts (per-model rows on this thread,
 *   analyses, worker scaling, scaling-model predictions).
 *
 * Load: beside each figure the cores other processes used while it was measured and the 1-minute
 * load average; LOADED when others used more than 0.25 core (targets.ts explains why not the load
 * average). PyTorch's BLAS library as loaded at run time is in the header; on the reference BLAS
 * its figures are flagged as no valid reference (install libopenblas0-pthread: bench/setup.sh).
 *
 * Writes bench/results/targets-<backend>.md and .json.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { backendFromEnv, initBackend } from '../src/backend/init-backend.js';
import { loadDataset } from '../src/data/datasets.js';
import { DEFAULT_PREPROCESSING } from '../src/data/preprocess.js';
import type { ImageSplit } from '../src/data/types.js';
import { autoWorkerCount } from '../src/evaluate/worker-pool.js';
import { createModel } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { runDetails } from './details.js';
import { curveEndToEndSeconds, evalRate, firstImages, simulatorRate, trainEpochSeconds, trainStepRate } from './ours.js';
import {
  allWorkloads,
  assembleRow,
  bestTorch,
  blasWarning,
  formatTargetsTable,
  selectWorkloads,
  summarize,
  type Figure,
  type Measured,
  type Sample,
  type StepModel,
  type TorchBlas,
  type Workload,
} from './targets.js';

/** End-to-end workloads measured in the first `--long-repeat` repeats only. */
const LONG_WORKLOADS = new Set(['curve-e2e', 'resnet-epoch']);

/** torch_bench.py's workload and mode for an end-to-end row. */
const TORCH_E2E: Readonly<Record<string, { readonly workload: string; readonly key: string }>> = {
  'lenet5-epoch': { workload: 'epoch', key: 'lenet5/epoch' },
  'curve-e2e': { workload: 'curve-e2e', key: 'lenet5/curve-e2e' },
  'resnet-epoch': { workload: 'resnet-epoch', key: 'resnet18-k0.25/resnet-epoch' },
};

/**
 * A note when PyTorch's module of step model `m` has another trainable parameter count than
 * ours (then the two sides did not build the same network); undefined when they agree or
 * PyTorch reported none.
 */
function parameterMismatch(m: StepModel, torchParameters: number | undefined): string | undefined {
  if (torchParameters === undefined) return undefined;
  const model = createModel(m.architecture, m.config, 1);
  const parameters = [...model.params.values()].reduce((sum, t) => sum + t.size, 0);
  disposeTensors(model);
  return parameters === torchParameters ? undefined : `PyTorch's module has ${torchParameters.toLocaleString('en-US')} trainable parameters, ours ${parameters.toLocaleString('en-US')}: not the same network, the ratio compares different models`;
}

/** `w` without its quiet PyTorch reference (no failed-measurement check). */
function withoutQuietReference(w: Workload): Workload {
  const copy: { -readonly [K in keyof Workload]?: Workload[K] } = { ...w };
  delete copy.quietTorch;
  return copy as Workload;
}

interface TorchRun {
  /** `model/mode` → threads → samples. */
  readonly samples: Map<string, Map<number, Sample[]>>;
  /** Model id → PyTorch's trainable parameter count (step rows). */
  readonly parameters: Map<string, number>;
  readonly env?: { readonly torch?: string; readonly blasKind?: string; readonly blasLoaded?: readonly string[]; readonly blas?: string };
  readonly errors: string[];
}

function torchAvailable(): boolean {
  if (!existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

/** One torch_bench.py run (one repeat) of the selected workloads; its lines folded into `into`. */
function runTorch(workloads: readonly Workload[], seconds: number, scale: number, into: TorchRun, skipLong: boolean, skipFamilies: boolean): void {
  const steps = workloads.flatMap((w) => ('step' in w.kind && !(skipFamilies && w.section === 'families') ? [w.kind.step] : []));
  const models = [...new Map(steps.map((m) => [m.id, m])).values()];
  // The family models are built from their architecture and config (torch_bench.py FAMILY_BUILDERS).
  const familyIds = new Set(workloads.filter((w) => w.section === 'families').map((w) => ('step' in w.kind ? w.kind.step.id : w.id)));
  const configs = Object.fromEntries(models.filter((m) => familyIds.has(m.id)).map((m) => [m.id, { architecture: m.architecture, config: m.config }]));
  const e2e = workloads.flatMap((w) => ('e2e' in w.kind && TORCH_E2E[w.id] !== undefined && !(skipLong && LONG_WORKLOADS.has(w.id)) ? [(TORCH_E2E[w.id] as { workload: string }).workload] : []));
  const kinds = [...(models.length > 0 ? ['steps'] : []), ...e2e];
  if (kinds.length === 0) return;
  const args = ['bench/torch_bench.py', String(seconds), models.map((m) => `${m.id}:${m.batch}`).join(','), '--threads', '1,2', '--workloads', kinds.join(','), '--repeat', '1', '--scale', String(scale), ...(Object.keys(configs).length > 0 ? ['--configs', JSON.stringify(configs)] : [])];
  const result = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (result.status !== 0) into.errors.push(`torch_bench.py exited with ${result.status ?? result.signal}: ${result.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  for (const line of result.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as { kind?: string; model?: string; mode?: string; threads?: number; imagesPerSecond?: number; seconds?: number; error?: string; otherCores?: number; loadAverage?: number; parameters?: number };
    if (row.kind === 'env') {
      (into as { env?: TorchRun['env'] }).env = row as TorchRun['env'];
      continue;
    }
    if (row.error !== undefined) {
      into.errors.push(`PyTorch ${row.model ?? '?'}: ${row.error}`);
      continue;
    }
    if (row.model === undefined || row.mode === undefined || row.threads === undefined) continue;
    if (row.parameters !== undefined) into.parameters.set(row.model, row.parameters);
    const value = row.mode === 'train' || row.mode === 'eval' ? row.imagesPerSecond : row.seconds;
    if (value === undefined) continue;
    const key = `${row.model}/${row.mode}`;
    const byThreads = into.samples.get(key) ?? new Map<number, Sample[]>();
    into.samples.set(key, byThreads);
    byThreads.set(row.threads, [...(byThreads.get(row.threads) ?? []), { value, otherCores: row.otherCores ?? Number.NaN, loadAverage: row.loadAverage ?? Number.NaN }]);
  }
}

interface Datasets {
  readonly train: ImageSplit;
  readonly test: ImageSplit;
}

/** One run of our side of workload `w`: [all cores, one thread] (one thread only for step rows and the simulator). */
async function runOurs(w: Workload, workers: number, seconds: number, data: () => Promise<Datasets>, scale: number): Promise<[Sample, Sample | undefined]> {
  if ('step' in w.kind) {
    const { step, mode } = w.kind;
    const measure = mode === 'train' ? trainStepRate : evalRate;
    const all = await measure(step, workers, seconds);
    const one = await measure(step, 1, seconds);
    return [all, one];
  }
  const { train, test } = await data();
  const images = Math.max(128, Math.floor(train.count * scale));
  switch (w.kind.e2e) {
    case 'lenet5-epoch':
      return [await trainEpochSeconds(firstImages(train, images), { architecture: 'lenet5', config: {}, batchSize: 64, lr: 0.03, preprocessing: DEFAULT_PREPROCESSING, workers }), undefined];
    case 'curve-e2e':
      return [await curveEndToEndSeconds(firstImages(train, images), firstImages(test, Math.max(100, Math.floor(test.count * scale))), workers), undefined];
    case 'resnet-epoch':
      return [
        await trainEpochSeconds(firstImages(train, Math.max(128, Math.round(5120 * Math.min(scale, 1)))), {
          architecture: 'resnet18',
          config: { width: 0.25 },
          batchSize: 128,
          lr: 0.05,
          preprocessing: { normalize: 'unit', padTo: 32, channels: 3 },
          workers,
        }),
        undefined,
      ];
    case 'simulator': {
      const ticks = Math.max(4, Math.round(seconds * 4));
      return [await simulatorRate(train, test, 2, ticks), await simulatorRate(train, test, 1, ticks)];
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string' },
      threads: { type: 'string' },
      seconds: { type: 'string' },
      repeat: { type: 'string', default: '3' },
      'long-repeat': { type: 'string', default: '1' },
      'family-repeat': { type: 'string', default: '1' },
      only: { type: 'string' },
      'e2e-scale': { type: 'string', default: '1' },
      'no-torch': { type: 'boolean', default: false },
      details: { type: 'boolean', default: false },
    },
  });
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: expected an integer ≥ 1, found ${values.repeat}`);
  const longRepeat = Math.min(repeat, Number(values['long-repeat']));
  if (!Number.isInteger(longRepeat) || longRepeat < 1) throw new Error(`--long-repeat: expected an integer ≥ 1, found ${values['long-repeat']}`);
  const familyRepeat = Math.min(repeat, Number(values['family-repeat']));
  if (!Number.isInteger(familyRepeat) || familyRepeat < 1) throw new Error(`--family-repeat: expected an integer ≥ 1, found ${values['family-repeat']}`);
  const seconds = Number(values.seconds ?? 1);
  if (!(seconds > 0)) throw new Error(`--seconds: expected a positive number, found ${values.seconds}`);
  const scale = Number(values['e2e-scale']);
  if (!(scale > 0 && scale <= 1)) throw new Error(`--e2e-scale: expected a number in (0, 1], found ${values['e2e-scale']}`);
  // A scaled end-to-end workload is not the one the issue's quiet PyTorch figures were taken on.
  const workloads = selectWorkloads(allWorkloads(), values.only).map((w) => (scale !== 1 && 'e2e' in w.kind ? withoutQuietReference(w) : w));
  const choice = await initBackend(values.backend ?? backendFromEnv(), values.threads === undefined ? {} : { threads: Number(values.threads) });
  const workers = autoWorkerCount(choice.active);
  const torch = !values['no-torch'] && torchAvailable();
  const started = performance.now();
  console.error(`backend ${choice.active}, ${availableParallelism()} cores, ours at ${workers} workers; ${workloads.length} workloads × ${repeat} runs, ${seconds} s per step measurement; PyTorch ${torch ? 'after ours in every repeat' : 'not run'}`);

  let datasets: Promise<Datasets> | undefined;
  const data = (): Promise<Datasets> =>
    (datasets ??= Promise.all([loadDataset('fashion-mnist', 'train'), loadDataset('fashion-mnist', 'test')]).then(([train, test]) => ({ train, test })));
  const ours = new Map<string, { all: Sample[]; one: Sample[]; errors: string[]; seconds: number[] }>(workloads.map((w) => [w.id, { all: [], one: [], errors: [], seconds: [] }]));
  const torchRun: TorchRun = { samples: new Map(), parameters: new Map(), errors: [] };
  const torchSeconds: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const skipLong = r >= longRepeat;
    const skipFamilies = r >= familyRepeat;
    for (const w of workloads) {
      if (skipLong && LONG_WORKLOADS.has(w.id)) continue;
      if (skipFamilies && w.section === 'families') continue;
      const entry = ours.get(w.id) as { all: Sample[]; one: Sample[]; errors: string[]; seconds: number[] };
      const rowStarted = performance.now();
      try {
        const [all, one] = await runOurs(w, workers, seconds, data, scale);
        entry.all.push(all);
        if (one !== undefined) entry.one.push(one);
        entry.seconds.push((performance.now() - rowStarted) / 1000);
        console.error(
          `  run ${r + 1}/${repeat} ours ${w.id}: ${all.value.toFixed(2)}${one === undefined ? '' : ` (1 thread ${one.value.toFixed(2)})`} ${w.unit}, other ${all.otherCores.toFixed(2)} cores, load ${all.loadAverage.toFixed(1)}; ${((performance.now() - rowStarted) / 1000).toFixed(1)} s`,
        );
      } catch (error) {
        entry.errors.push(error instanceof Error ? error.message : String(error));
        console.error(`  run ${r + 1}/${repeat} ours ${w.id} failed: ${String(error)}`);
      }
    }
    if (torch) {
      const torchStarted = performance.now();
      runTorch(workloads, seconds, scale, torchRun, skipLong, skipFamilies);
      torchSeconds.push((performance.now() - torchStarted) / 1000);
      console.error(`  run ${r + 1}/${repeat} PyTorch done in ${torchSeconds.at(-1)?.toFixed(0)} s (${((performance.now() - started) / 1000).toFixed(0)} s so far)`);
    }
  }

  const blas: TorchBlas | undefined = torchRun.env?.blasKind === undefined ? undefined : { kind: torchRun.env.blasKind, loaded: torchRun.env.blasLoaded ?? [] };
  const warning = blasWarning(blas);
  if (warning !== undefined) console.error(`\n${warning}\n`);
  const rows = workloads.map((w) => {
    const mine = ours.get(w.id);
    const key = 'step' in w.kind ? `${w.kind.step.id}/${w.kind.mode}` : TORCH_E2E[w.id]?.key;
    const byThreads = new Map<number, Figure>();
    for (const [threads, samples] of (key === undefined ? undefined : torchRun.samples.get(key)) ?? []) {
      const figure = summarize(samples);
      if (figure !== undefined) byThreads.set(threads, figure);
    }
    const best = bestTorch(byThreads, w.unit);
    const allFigure = summarize(mine?.all ?? []);
    const oneFigure = summarize(mine?.one ?? []);
    const notes = [...(mine?.errors ?? []).map((e) => `ours failed: ${e}`)];
    if (w.against === 'torch' && best === undefined) notes.push(torch ? 'no PyTorch figure (see the errors below the table)' : 'PyTorch not run');
    if (best !== undefined && byThreads.size > 1) notes.push(`PyTorch ${[...byThreads].map(([t, f]) => `${t} thread${t > 1 ? 's' : ''} ${f.value.toFixed(w.unit === 's' ? 1 : 0)}`).join(', ')}`);
    const mismatch = 'step' in w.kind ? parameterMismatch(w.kind.step, torchRun.parameters.get(w.kind.step.id)) : undefined;
    if (mismatch !== undefined) notes.push(mismatch);
    const measured: Measured = {
      workload: w,
      ...(allFigure === undefined ? {} : { ours: allFigure }),
      ...(oneFigure === undefined ? {} : { oneThread: oneFigure }),
      ...(best === undefined ? {} : { torch: best }),
      torchValid: blas === undefined || blas.kind !== 'reference',
      notes,
    };
    return assembleRow(measured);
  });
  const header = {
    date: new Date().toISOString(),
    backend: choice.active,
    cores: availableParallelism(),
    repeat,
    workers,
    torch: torch ? `PyTorch ${torchRun.env?.torch ?? '?'} (BLAS_INFO=${torchRun.env?.blas ?? '?'}), 1 and 2 threads, the better of the two` : 'not run',
    blas,
    ...(scale === 1 ? {} : { e2eScale: scale }),
    ...(familyRepeat < repeat && workloads.some((w) => w.section === 'families') ? { familyRepeat } : {}),
  };
  let table = formatTargetsTable(header, rows);
  if (torchRun.errors.length > 0) table += `\nPyTorch errors:\n${torchRun.errors.map((e) => `- ${e}`).join('\n')}\n`;
  const sectionSeconds = (section: string): number => workloads.filter((w) => w.section === section).reduce((sum, w) => sum + (ours.get(w.id)?.seconds ?? []).reduce((a, b) => a + b, 0), 0);
  table +=
    `\nWhole run: ${((performance.now() - started) / 1000).toFixed(0)} s (ours: targets ${sectionSeconds('targets').toFixed(0)} s, families ${sectionSeconds('families').toFixed(0)} s; PyTorch ${torchSeconds.reduce((a, b) => a + b, 0).toFixed(0)} s); ` +
    `${[...LONG_WORKLOADS].join(' and ')} measured ${longRepeat} time${longRepeat > 1 ? 's' : ''} per side (--long-repeat), family rows ${familyRepeat} (--family-repeat).\n`;
  console.log(`\n${table}`);
  await mkdir('bench/results', { recursive: true });
  const base = `bench/results/targets-${choice.active}`;
  await writeFileAtomic(`${base}.md`, table);
  await writeFileAtomic(`${base}.json`, `${JSON.stringify({ header, rows, ours: Object.fromEntries(ours), torch: Object.fromEntries([...torchRun.samples].map(([k, v]) => [k, Object.fromEntries(v)])), torchEnv: torchRun.env ?? null }, null, 2)}\n`);
  console.error(`${base}.md, ${base}.json`);
  if (values.details) await runDetails({ backend: choice.active, seconds, torch, analyses: true, workers: true });
  tf.disposeVariables();
  // webgpu: Dawn holds the event loop while its instance lives, so a finished run ends explicitly.
  if (choice.holdsEventLoop) process.exit(0);
}

await main();
