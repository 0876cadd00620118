/**
 * Figure: the path pipelines on ResNet18 (width k = 1/4, BatchNorm) and a small CCT
 * (cct_2_3x2_32), on Fashion-MNIST padded to 32×32×3: two modes per architecture, the straight
 * line between them, a Bezier curve with one trainable bend (Garipov et al. 2018) and an LLPF path
 * A → B with the authors' layer-wise schedule (ResNet18: stem, layer1 … layer4, fc; CCT: the
 * non-block tensors, then one transformer block at a time), each evaluated on the same t grid with
 * BatchNorm statistics re-estimated at every point.
 *
 * These are short CPU runs (the wasm backend trains ResNet18 k = 1/4 at ~20 images/s): modes
 * trained for 2 epochs on a class-balanced subset, the curve for 2 epochs, LLPF for 36 ticks. They
 * show that the pipelines run end to end on BatchNorm and transformer models and what such short
 * runs reach, not the paper's numbers.
 *
 *   npx tsx scripts/figures/architectures.ts
 *   node --loader ts-node/esm scripts/figures/architectures.ts --only cct
 *
 * Options: --only resnet18|cct, --dataset (fashion-mnist-small), --train-examples-per-mode 2500,
 * --epochs 2, --curve-epochs 2, --llpf-ticks 36, --llpf-stage-ticks 4, --llpf-step 0.15,
 * --points 11, --test-examples 500, --bn-batches 10, --seeds 1,2, --out, --runs.
 * Output: <out>/<architecture>/paths.{png,svg,vl.json} and numbers.json. Checkpoints (modes, curves,
 * LLPF runs) under runs/figures/ are reused.
 */
import { existsSync } from 'node:fs';
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
import { findLlpfPath } from '../../src/paths/llpf.js';
import { loadPath, savePath } from '../../src/paths/saved-path.js';
import { findCurve } from '../../src/paths/train-curve.js';
import { evaluateLinear, int, loadModes, maxOf, num, outDir, parseOptions, seedList, startBackend, step, writeNumbers } from './common.js';

const values = parseOptions({
  only: { type: 'string' },
  'train-examples-per-mode': { type: 'string', default: '2500' },
  'curve-epochs': { type: 'string', default: '2' },
  'llpf-ticks': { type: 'string', default: '36' },
  'llpf-stage-ticks': { type: 'string', default: '4' },
  'llpf-step': { type: 'string', default: '0.15' },
  points: { type: 'string', default: '11' },
  'bn-batches': { type: 'string', default: '10' },
});

const ARCHITECTURES = {
  resnet18: { architecture: 'resnet18', config: { width: 0.25 }, tag: 'resnet18-k0.25', lr: 0.05, batchSize: 128, curveLr: 0.02, llpfLr: 0.01 },
  cct: { architecture: 'cct', config: { preset: 'cct_2_3x2_32' }, tag: 'cct_2_3x2_32', lr: 5e-4, batchSize: 64, curveLr: 5e-4, llpfLr: 1e-4 },
} as const;
type Name = keyof typeof ARCHITECTURES;

const started = performance.now();
const dataset = values.dataset;
const out = outDir('architectures', values);
const seeds = seedList(values.seeds);
const epochs = int('epochs', values.epochs, 2);
const curveEpochs = int('curve-epochs', values['curve-epochs']);
const points = int('points', values.points);
const testExamples = int('test-examples', values['test-examples'], 500);
const bnBatches = int('bn-batches', values['bn-batches']);
const llpf = { ticks: int('llpf-ticks', values['llpf-ticks']), stageTicks: int('llpf-stage-ticks', values['llpf-stage-ticks']), stepAdaptive: num('llpf-step', values['llpf-step']) };
const names: Name[] = values.only === undefined ? ['resnet18', 'cct'] : [values.only as Name];
for (const name of names) if (!Object.hasOwn(ARCHITECTURES, name)) throw new Error(`--only: expected resnet18 or cct, found "${name}"`);

await startBackend();
const full = await loadTrainingData(dataset, values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] });
const examples = Math.min(full.train.count, int('train-examples-per-mode', values['train-examples-per-mode']));
// A class-balanced subset keeps the CPU runs short; the same subset for both modes and every method.
const data = { ...full, train: examples < full.train.count ? takeSubset(full.train, examples, 0) : full.train };
// The training input pipeline; the analysis reads it back from the checkpoints' metadata.
const trainingPreprocessing = createPreprocessing(data.train, { padTo: 32, channels: 3 });

const results: Record<string, object> = {};
for (const name of names) {
  const setup = ARCHITECTURES[name];
  const training: TrainModeOptions = {
    architecture: setup.architecture,
    config: setup.config,
    dataset,
    preprocessing: trainingPreprocessing,
    epochs,
    batchSize: setup.batchSize,
    lr: setup.lr,
    optimizer: name === 'cct' ? { kind: 'adam', weightDecay: 0 } : { kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
    schedule: { kind: 'cosine' },
    outDir: join(values.runs, `${setup.tag}-${dataset}-n${examples}-e${epochs}`),
  };
  const modes = await loadModes(training, seeds, data, { splits: ['test'], testExamples, bnBatches });
  const [a, b] = modes.models as [Model, Model];
  const arch = getArchitecture(a.architecture);
  const { data: evaluation, preprocessing } = modes.analysis;
  const grid = { points };

  const linearRows = await step(`${name}: linear path (${points} points)`, (progress) => evaluateLinear(a, b, evaluation, { ...grid, progress }));

  const curveFile = join(training.outDir, `bezier-s${seeds.join('-')}-e${curveEpochs}.safetensors`);
  let bezier;
  if (existsSync(curveFile)) bezier = (await loadPath(curveFile)).path;
  else {
    const found = await step(`${name}: train Bezier curve (${curveEpochs} epochs)`, (progress) =>
      findCurve(arch, [a, b], splitBatchSource(data.train, preprocessing, { batchSize: 64, seed: 0 }), {
        kind: 'bezier',
        bends: 3,
        epochs: curveEpochs,
        lr: setup.curveLr,
        weightDecay: name === 'cct' ? 0 : 5e-4,
        progress,
      }),
    );
    await savePath(curveFile, found.path, { info: found.info });
    bezier = found.path;
  }
  const bezierRows = await step(`${name}: Bezier curve (${points} points)`, (progress) => evaluatePath(bezier, evaluation, { ...grid, progress }));
  bezier.dispose();

  const llpfDir = join(training.outDir, `llpf-s${seeds.join('-')}-${llpf.ticks}x${llpf.stepAdaptive}-stage${llpf.stageTicks}`);
  const run = await step(`${name}: LLPF A → B (${llpf.ticks} ticks, a stage every ${llpf.stageTicks})`, (progress) =>
    findLlpfPath(arch, { start: a, target: { kind: 'model', state: b } }, { train: splitBatchSource(data.train, preprocessing, { batchSize: 64, seed: 1 }), evaluation }, {
      ticks: llpf.ticks,
      stageTicks: llpf.stageTicks,
      stepAdaptive: llpf.stepAdaptive,
      recordEvery: llpf.stageTicks,
      segmentPoints: 1,
      training: { lr: setup.llpfLr, minIterations: 2, maxIterations: 6, lossThreshold: 0.5 },
      checkpoint: { directory: llpfDir, every: llpf.stageTicks },
      resume: true,
      progress,
    }),
  );
  const ticks = run.info.rows;
  const llpfRows = await step(`${name}: LLPF path (${points} points)`, (progress) => evaluatePath(run.path, evaluation, { ...grid, progress }));
  run.path.dispose();

  const rows: PathRow[] = [...linearRows, ...bezierRows, ...llpfRows];
  const test = (path: string) => rows.filter((r) => r.path === path && r.split === 'test');
  const worse = Math.max(test('linear')[0]?.loss ?? NaN, test('linear').at(-1)?.loss ?? NaN);
  const summary = Object.fromEntries(
    [...new Set(rows.map((r) => r.path))].map((path) => {
      const maxLoss = maxOf(test(path).map((r) => r.loss));
      return [path, { maxTestLoss: maxLoss, aboveWorseEndpoint: maxLoss - worse, minTestAccuracy: Math.min(...test(path).map((r) => r.accuracy)) }];
    }),
  );
  results[name] = { modes: modes.metrics, training: { ...training, preprocessing: undefined, trainExamples: examples }, worseEndpointTestLoss: worse, summary, barriers: barrierMetrics(rows), llpf: { ...llpf, ticks }, rows };
  await saveChart(pathChart(rows, { splits: ['test'], metrics: ['loss', 'accuracy'], title: `${setup.tag}, ${examples} training images, ${testExamples} test images` }), join(out, name, 'paths'));
  await writeNumbers(join(out, name), { figure: `architectures/${name}`, dataset, seeds, epochs, curveEpochs, points, testExamples, ...results[name], seconds: (performance.now() - started) / 1000 });
  for (const [path, s] of Object.entries(summary)) {
    console.log(`${name} ${path.padEnd(7)} max test loss ${s.maxTestLoss.toFixed(3)} (worse endpoint ${worse.toFixed(3)}, +${s.aboveWorseEndpoint.toFixed(3)}), min test accuracy ${(100 * s.minTestAccuracy).toFixed(1)}%`);
  }
  modes.analysis.dispose();
}
console.log(`${((performance.now() - started) / 1000).toFixed(0)} s → ${out}`);
