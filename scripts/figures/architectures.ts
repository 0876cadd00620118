/**
 * Figure and table of the layer-wise connectivity paper (Tian et al. 2025, "Connecting
 * Independently Trained Modes via Layer-Wise Connectivity"): per architecture, two modes on
 * Fashion-MNIST padded to 32×32×3, then the straight line, a Bezier curve with one trainable bend
 * (Garipov et al. 2018), an AutoNEB chain (Kolsbjerg et al. 2016; Draxler et al. 2018) and an LLPF
 * path A → B with the architecture's layer-wise stage order, each evaluated on the same t grid with
 * BatchNorm statistics re-estimated at every point. The summary (summary.{png,svg,vl.json}, the
 * table summary.md, summary.json) is the paper's layout: per architecture, the max test loss above
 * the worse endpoint for linear, Bezier, AutoNEB and LLPF, and LLPF's continuity check (the highest
 * loss between consecutive recorded LLPF points, above the higher of the two).
 *
 * The architectures are the entries of ARCHITECTURES (architecture-entries.ts: name, architecture,
 * config, recipe): adding one is one entry, and each family's width is chosen there and only
 * there (the bench's family rows measure the same configs). Widths are reduced where 2 CPU cores
 * could not train the full model; the entry's config says by how much.
 *
 *   npx tsx scripts/figures/architectures.ts
 *   npx tsx scripts/figures/architectures.ts --only vgg11 --width 0.125 --train-examples-per-mode 300 --epochs 1 ...
 *   npx tsx scripts/figures/architectures.ts --dataset fashion-mnist --train-examples-per-mode all --test-examples all --width-scale 4
 *
 * Options: --only NAME[,NAME] (entries of ARCHITECTURES), --width K (replaces every entry's width
 * multiplier, for tiny trial runs), --width-scale F (multiplies every entry's width, e.g. 4 for
 * k = 1/4 entries at full width; default 1), --workers N|auto (threads for mode training, the
 * Bezier curve, AutoNEB, LLPF and every path evaluation; default auto = one per core),
 * --dataset (fashion-mnist-small), --train-examples-per-mode 2500 (a class-balanced subset; all
 * or 0: the whole training split), --curve-examples N (a class-balanced subset of those for the
 * Bezier curve; default: the same images), --epochs 2, --curve-epochs 2, --neb-cycles 1x40@0.01,
 * --llpf-ticks 36, --llpf-stage-ticks 4, --llpf-step 0.15, --points 11, --test-examples 500 (all
 * or 0: the whole test split), --bn-batches 10, --seeds 1,2, --out, --runs.
 * Output: <out>/<name>/paths.{png,svg,vl.json} and numbers.json, <out>/summary.*. The summary
 * is rebuilt after every run from every <out>/<name>/numbers.json present, so architectures run
 * one at a time (`--only`, one process each) add up to one table; each row states its own
 * settings (config, training images, epochs) and mode accuracies. Checkpoints
 * (modes, curves, chains, LLPF runs) under runs/figures/ are reused; a worker count above 1 is
 * part of their folder name (BatchNorm models train on per-worker batch statistics, so another
 * count trains other modes).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  barrierMetrics,
  createPreprocessing,
  evaluatePath,
  getArchitecture,
  loadTrainingData,
  pathChart,
  saveChart,
  splitBatchSource,
  takeSubset,
  type Model,
  type PathRow,
  type TrainModeOptions,
} from '../../src/index.js';
import type { TopLevelSpec } from 'vega-lite';
import { batchIndices, disposeBatches, loadBatches } from '../../src/entry/data.js';
import { parseNebCycles } from '../../src/entry/paths.js';
import { findAutoNebPath } from '../../src/paths/autoneb.js';
import { findLlpfPath } from '../../src/paths/llpf.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';
import { loadPath, savePath } from '../../src/paths/saved-path.js';
import { findCurve } from '../../src/paths/train-curve.js';
import { resolveWorkers } from '../../src/train/gradient-pool.js';
import { ARCHITECTURES, architectureEntry, entryConfig } from './architecture-entries.js';
import { evaluateLinear, int, loadModes, maxOf, num, outDir, parseOptions, seedList, startBackend, step, writeNumbers } from './common.js';

const values = parseOptions({
  only: { type: 'string' },
  workers: { type: 'string', default: 'auto' },
  'width-scale': { type: 'string', default: '1' },
  'train-examples-per-mode': { type: 'string', default: '2500' },
  'curve-examples': { type: 'string' },
  'curve-epochs': { type: 'string', default: '2' },
  'llpf-ticks': { type: 'string', default: '36' },
  'llpf-stage-ticks': { type: 'string', default: '4' },
  'llpf-step': { type: 'string', default: '0.15' },
  points: { type: 'string', default: '11' },
  width: { type: 'string' },
  'neb-cycles': { type: 'string', default: '1x40@0.01' },
  'bn-batches': { type: 'string', default: '10' },
});

/** "all" or 0: every example of the split (undefined); otherwise a positive integer. */
function examplesOption(name: string, value: string | undefined, fallback: number): number | undefined {
  if (value?.trim() === 'all') return undefined;
  const n = int(name, value, fallback);
  return n === 0 ? undefined : n;
}

/** --workers N|auto as a thread count (auto: one per core on wasm and cpu, 1 elsewhere). */
function workersOption(value: string | undefined): number {
  const text = (value ?? 'auto').trim();
  return resolveWorkers(text === 'auto' ? 'auto' : int('workers', text), '--workers');
}

const METHODS = ['linear', 'bezier', 'autoneb', 'llpf'] as const;

const started = performance.now();
const dataset = values.dataset;
const out = outDir('architectures', values);
const seeds = seedList(values.seeds);
const epochs = int('epochs', values.epochs, 2);
const curveEpochs = int('curve-epochs', values['curve-epochs']);
const points = int('points', values.points);
const testExamplesOption = examplesOption('test-examples', values['test-examples'], 500);
const bnBatches = int('bn-batches', values['bn-batches']);
const llpf = { ticks: int('llpf-ticks', values['llpf-ticks']), stageTicks: int('llpf-stage-ticks', values['llpf-stage-ticks']), stepAdaptive: num('llpf-step', values['llpf-step']) };
const entries = values.only === undefined ? ARCHITECTURES : values.only.split(',').map((name) => {
  if (!ARCHITECTURES.some((e) => e.name === name)) throw new Error(`--only: expected some of ${ARCHITECTURES.map((e) => e.name).join(', ')}, found "${name}"`);
  return architectureEntry(name);
});
const widthOverride = values.width === undefined ? undefined : num('width', values.width);
const widthScale = num('width-scale', values['width-scale']);
if (!(widthScale > 0)) throw new Error(`--width-scale: expected a positive number, found "${values['width-scale']}"`);
const widths = { ...(widthOverride === undefined ? {} : { width: widthOverride }), widthScale };
const nebCycles = parseNebCycles(values['neb-cycles']);

await startBackend();
const workers = workersOption(values.workers);
const full = await loadTrainingData(dataset, values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] });
const examplesOptionValue = examplesOption('train-examples-per-mode', values['train-examples-per-mode'], 2500);
const examples = Math.min(full.train.count, examplesOptionValue ?? full.train.count);
if (full.test === undefined) throw new Error(`--dataset ${dataset}: the figure evaluates on the test split, and this dataset has none`);
const testCount = full.test.count;
const testExamples = Math.min(testCount, testExamplesOption ?? testCount);
// A class-balanced subset keeps the CPU runs short; the same subset for both modes and every method.
const data = { ...full, train: examples < full.train.count ? takeSubset(full.train, examples, 0) : full.train };
const curveExamples = Math.min(examples, examplesOption('curve-examples', values['curve-examples'], examples) ?? examples);
const curveTrain = curveExamples < data.train.count ? takeSubset(data.train, curveExamples, 0) : data.train;
console.error(`${workers} worker${workers > 1 ? 's' : ''}; ${examples} training images per mode, ${testExamples} test images`);
// The training input pipeline; the analysis reads it back from the checkpoints' metadata.
const trainingPreprocessing = createPreprocessing(data.train, { padTo: 32, channels: 3 });

interface MethodSummary {
  readonly maxTestLoss: number;
  readonly aboveWorseEndpoint: number;
  readonly minTestAccuracy: number;
}
/** What the summary reads back from <out>/<name>/numbers.json (written below). */
interface ArchitectureNumbers {
  readonly config: Readonly<Record<string, unknown>>;
  readonly trainExamples: number;
  readonly epochs: number;
  readonly testExamples: number;
  readonly modes: readonly { seed: number; testAccuracy: number; testLoss: number }[];
  /** Test accuracy of the two modes with re-estimated BN statistics (the linear path's ends). */
  readonly endpointTestAccuracy: readonly number[];
  readonly summary: Readonly<Record<string, MethodSummary>>;
  readonly continuity: { maxSegmentLossAbovePoints: number; segments: number };
  readonly seconds: number;
  readonly stageSeconds: Readonly<Record<string, number>>;
}
for (const setup of entries) {
  const name = setup.name;
  const archStarted = performance.now();
  const stageSeconds: Record<string, number> = {};
  /** step() that also records the stage's wall time under `stage`. */
  const timed = async <T>(stage: string, title: string, work: Parameters<typeof step<T>>[1]): Promise<T> => {
    const t0 = performance.now();
    try {
      return await step(title, work);
    } finally {
      stageSeconds[stage] = (stageSeconds[stage] ?? 0) + (performance.now() - t0) / 1000;
    }
  };
  const config = entryConfig(setup, widths);
  const tag = `${setup.architecture}-${Object.entries(config).map(([k, v]) => `${k}${String(v)}`).join('-')}`;
  const recipe = setup.recipe;
  const training: TrainModeOptions = {
    architecture: setup.architecture,
    config,
    dataset,
    preprocessing: trainingPreprocessing,
    epochs,
    batchSize: recipe.batchSize,
    lr: recipe.lr,
    optimizer: recipe.optimizer === 'adam' ? { kind: 'adam', weightDecay: recipe.weightDecay } : { kind: 'sgd', momentum: 0.9, weightDecay: recipe.weightDecay },
    schedule: { kind: 'cosine' },
    workers,
    outDir: join(values.runs, `${tag}-${dataset}-n${examples}-e${epochs}${workers > 1 ? `-w${workers}` : ''}`),
  };
  const modesStarted = performance.now();
  const modes = await loadModes(training, seeds, data, { splits: ['test'], ...(testExamples < testCount ? { testExamples } : {}), bnBatches });
  stageSeconds['modes'] = (performance.now() - modesStarted) / 1000;
  const [a, b] = modes.models as [Model, Model];
  const arch = getArchitecture(a.architecture);
  const { data: evaluation, preprocessing } = modes.analysis;
  const grid = { points, workers };

  const linearRows = await timed('linear', `${name}: linear path (${points} points)`, (progress) => evaluateLinear(a, b, evaluation, { ...grid, progress }));

  const curveFile = join(training.outDir, `bezier-s${seeds.join('-')}-e${curveEpochs}${curveExamples < examples ? `-n${curveExamples}` : ''}.safetensors`);
  let bezier;
  if (existsSync(curveFile)) bezier = (await loadPath(curveFile)).path;
  else {
    const found = await timed('bezier training', `${name}: train Bezier curve (${curveEpochs} epochs, ${curveExamples} images)`, (progress) =>
      findCurve(arch, [a, b], splitBatchSource(curveTrain, preprocessing, { batchSize: 64, seed: 0 }), {
        kind: 'bezier',
        bends: 3,
        epochs: curveEpochs,
        lr: recipe.curveLr,
        weightDecay: recipe.weightDecay,
        workers,
        progress,
      }),
    );
    await savePath(curveFile, found.path, { info: found.info });
    bezier = found.path;
  }
  const bezierRows = await timed('bezier evaluation', `${name}: Bezier curve (${points} points)`, (progress) => evaluatePath(bezier, evaluation, { ...grid, progress }));
  bezier.dispose();

  const nebFile = join(training.outDir, `autoneb-s${seeds.join('-')}-${values['neb-cycles'].replaceAll(/[^0-9a-z.@x]+/gi, '_')}.safetensors`);
  let neb;
  if (existsSync(nebFile)) neb = (await loadPath(nebFile)).path;
  else {
    const found = await timed('autoneb', `${name}: AutoNEB (${values['neb-cycles']})`, async (progress) => {
      const nebEvaluation = loadBatches(data.train, batchIndices(Math.min(512, data.train.count), { batchSize: 128, shuffle: false }), preprocessing);
      try {
        return await findAutoNebPath(arch, [a, b], { train: splitBatchSource(data.train, preprocessing, { batchSize: 64, seed: 2 }), evaluation: nebEvaluation }, { cycles: nebCycles, workers, progress });
      } finally {
        disposeBatches(nebEvaluation);
      }
    });
    await savePath(nebFile, found.path, { info: { cycles: found.info.cycles } });
    neb = found.path;
  }
  const nebRows = await timed('autoneb evaluation', `${name}: AutoNEB chain (${points} points)`, (progress) => evaluatePath(neb, evaluation, { ...grid, progress }));
  neb.dispose();

  const llpfDir = join(training.outDir, `llpf-s${seeds.join('-')}-${llpf.ticks}x${llpf.stepAdaptive}-stage${llpf.stageTicks}`);
  const run = await timed('llpf', `${name}: LLPF A → B (${llpf.ticks} ticks, a stage every ${llpf.stageTicks})`, (progress) =>
    findLlpfPath(arch, { start: a, target: { kind: 'model', state: b } }, { train: splitBatchSource(data.train, preprocessing, { batchSize: 64, seed: 1 }), evaluation }, {
      ticks: llpf.ticks,
      stageTicks: llpf.stageTicks,
      stepAdaptive: llpf.stepAdaptive,
      recordEvery: llpf.stageTicks,
      segmentPoints: 1,
      training: { lr: recipe.llpfLr, minIterations: 2, maxIterations: 6, lossThreshold: 0.5 },
      checkpoint: { directory: llpfDir, every: llpf.stageTicks },
      resume: true,
      workers,
      progress,
    }),
  );
  const ticks = run.info.rows;
  const llpfRows = await timed('llpf evaluation', `${name}: LLPF path (${points} points)`, (progress) => evaluatePath(run.path, evaluation, { ...grid, progress }));
  run.path.dispose();

  const rows: PathRow[] = [...linearRows, ...bezierRows, ...nebRows, ...llpfRows];
  const test = (path: string) => rows.filter((r) => r.path === path && r.split === 'test');
  const worse = Math.max(test('linear')[0]?.loss ?? NaN, test('linear').at(-1)?.loss ?? NaN);
  const summary = Object.fromEntries(
    [...new Set(rows.map((r) => r.path))].map((path) => {
      const maxLoss = maxOf(test(path).map((r) => r.loss));
      return [path, { maxTestLoss: maxLoss, aboveWorseEndpoint: maxLoss - worse, minTestAccuracy: Math.min(...test(path).map((r) => r.accuracy)) }];
    }),
  );
  // Continuity (Tian et al.): the highest loss between consecutive recorded LLPF points, above the higher of the two.
  const testTicks = ticks.filter((r) => r.split === 'test');
  let gap = -Infinity;
  let segments = 0;
  testTicks.forEach((r, i) => {
    const previous = testTicks[i - 1];
    if (previous === undefined || r.segmentMaxLoss === undefined) return;
    segments += 1;
    gap = Math.max(gap, r.segmentMaxLoss - Math.max(r.loss, previous.loss));
  });
  const seconds = (performance.now() - archStarted) / 1000;
  await saveChart(pathChart(rows, { splits: ['test'], metrics: ['loss', 'accuracy'], title: `${tag}, ${examples} training images, ${testExamples} test images` }), join(out, name, 'paths'));
  await writeNumbers(join(out, name), {
    figure: `architectures/${name}`,
    dataset,
    seeds,
    config,
    epochs,
    trainExamples: examples,
    curveEpochs,
    curveExamples,
    points,
    testExamples,
    modes: modes.metrics,
    endpointTestAccuracy: [test('linear')[0]?.accuracy ?? NaN, test('linear').at(-1)?.accuracy ?? NaN],
    training: { ...training, preprocessing: undefined },
    workers,
    worseEndpointTestLoss: worse,
    summary,
    continuity: { maxSegmentLossAbovePoints: gap, segments },
    seconds,
    stageSeconds,
    barriers: barrierMetrics(rows),
    llpf: { ...llpf, ticks },
    rows,
  });
  for (const [path, s] of Object.entries(summary)) {
    console.log(`${name} ${path.padEnd(7)} max test loss ${s.maxTestLoss.toFixed(3)} (worse endpoint ${worse.toFixed(3)}, +${s.aboveWorseEndpoint.toFixed(3)}), min test accuracy ${(100 * s.minTestAccuracy).toFixed(1)}%`);
  }
  modes.analysis.dispose();
}

// The paper's summary from every architecture's numbers.json present (this run's and earlier ones').
const done = ARCHITECTURES.flatMap((e) => {
  const file = join(out, e.name, 'numbers.json');
  if (!existsSync(file)) return [];
  const numbers = JSON.parse(readFileSync(file, 'utf8')) as ArchitectureNumbers;
  return numbers.summary === undefined || numbers.stageSeconds === undefined ? [] : [{ name: e.name, numbers }];
});
const summaryRows = done.flatMap(({ name, numbers }) =>
  METHODS.flatMap((method) => {
    const s = numbers.summary[method];
    return s === undefined ? [] : [{ architecture: name, method, ...s }];
  }),
);
const summarySpec: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title: 'Max test loss above the worse endpoint (test split, BN re-estimated at every point)',
  data: { values: summaryRows.map((r) => ({ ...r })) },
  mark: 'bar',
  encoding: {
    x: { field: 'architecture', type: 'nominal', sort: done.map((d) => d.name), title: null },
    xOffset: { field: 'method', type: 'nominal', sort: [...METHODS] },
    y: { field: 'aboveWorseEndpoint', type: 'quantitative', title: 'max test loss − worse endpoint' },
    color: { field: 'method', type: 'nominal', sort: [...METHODS], title: 'method' },
  },
  width: 60 * Math.max(1, done.length) + 40,
  height: 220,
};
await saveChart(summarySpec, join(out, 'summary'));
const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
const table = [
  '| architecture | config | training images × epochs | modes A / B (test accuracy) | linear | Bezier | AutoNEB | LLPF | LLPF continuity (max segment loss above its points) | wall time (min) |',
  '|---|---|---:|---|---:|---:|---:|---:|---:|---:|',
  ...done.map(({ name, numbers: n }) => {
    const cell = (method: string) => {
      const s = n.summary[method];
      return s === undefined ? '–' : `+${s.aboveWorseEndpoint.toFixed(3)}`;
    };
    const c = n.continuity;
    return `| ${name} | \`${JSON.stringify(n.config)}\` | ${n.trainExamples} × ${n.epochs} | ${n.endpointTestAccuracy.map(percent).join(' / ')} | ${METHODS.map(cell).join(' | ')} | ${c.segments === 0 ? '–' : c.maxSegmentLossAbovePoints.toFixed(3)} | ${(n.seconds / 60).toFixed(1)} |`;
  }),
].join('\n');
const missing = ARCHITECTURES.filter((e) => !done.some((d) => d.name === e.name)).map((e) => e.name);
await writeFileAtomic(
  join(out, 'summary.md'),
  `Max test loss above the worse endpoint (test split, BN re-estimated at every point; the modes' accuracies too).\n\n${table}\n${missing.length === 0 ? '' : `\nNot run yet: ${missing.join(', ')}.\n`}`,
);
await writeNumbers(out, { figure: 'architectures/summary', dataset, summary: summaryRows, architectures: Object.fromEntries(done.map(({ name, numbers: n }) => [name, { config: n.config, trainExamples: n.trainExamples, epochs: n.epochs, modes: n.modes, continuity: n.continuity, seconds: n.seconds, stageSeconds: n.stageSeconds }])), missing });
console.log(table);
console.log(`${((performance.now() - started) / 1000).toFixed(0)} s → ${out}`);
