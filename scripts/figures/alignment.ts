/**
 * Figure: the linear path between two modes before and after weight matching (Ainsworth et al.,
 * Git Re-Basin): B's hidden units are permuted to match A's (coordinate descent over the
 * permutations, linear assignment per layer), which leaves B's function unchanged (checked: same
 * test loss) and lowers the barrier. LeNet5, and ResNet18 at width k = 1/4 on Fashion-MNIST padded
 * to 32×32×3 (short training; BatchNorm statistics re-estimated at every evaluated point).
 *
 *   npx tsx scripts/figures/alignment.ts                              (embedded subset)
 *   npx tsx scripts/figures/alignment.ts --dataset fashion-mnist      (LeNet5 on the full set)
 *   node --loader ts-node/esm scripts/figures/alignment.ts --skip-resnet
 *
 * Options: --dataset, --epochs, --seeds, --points 21, --train-examples 2000, --test-examples,
 * --skip-resnet, --resnet-dataset (fashion-mnist-small), --resnet-train-examples 2500 (class-balanced
 * subset), --resnet-epochs 2, --resnet-lr 0.05,
 * --resnet-points 11, --resnet-test-examples 1000, --bn-batches 20, --out, --runs.
 */
import { join } from 'node:path';
import {
  applyPermutation,
  barrierMetrics,
  createPreprocessing,
  disposeTensors,
  getArchitecture,
  loadTrainingData,
  pathChart,
  permutationSpecFor,
  saveChart,
  takeSubset,
  weightMatching,
  type BarrierMetrics,
  type EvaluationData,
  type Model,
  type PathRow,
  type TrainModeOptions,
} from '../../src/index.js';
import { defaultEpochs, evaluateLinear, evaluationOptions, int, lenet5Training, loadModes, num, outDir, parseOptions, seedList, startBackend, step, writeNumbers } from './common.js';

const values = parseOptions({
  points: { type: 'string', default: '21' },
  'skip-resnet': { type: 'boolean', default: false },
  'resnet-dataset': { type: 'string', default: 'fashion-mnist-small' },
  'resnet-epochs': { type: 'string', default: '2' },
  'resnet-train-examples': { type: 'string', default: '2500' },
  'resnet-lr': { type: 'string', default: '0.05' },
  'resnet-points': { type: 'string', default: '11' },
  'resnet-test-examples': { type: 'string', default: '1000' },
  'bn-batches': { type: 'string', default: '20' },
});

const started = performance.now();
const dataset = values.dataset;
const out = outDir('alignment', values);
const seeds = seedList(values.seeds);

interface AlignmentResult {
  readonly rows: PathRow[];
  readonly before: BarrierMetrics[];
  readonly after: BarrierMetrics[];
  readonly testLossB: number;
  readonly testLossBPermuted: number;
  readonly sweeps: number;
  readonly objective: number;
  readonly seconds: number;
}

/** Linear path A → B, weight matching, linear path A → π(B); the permuted B must compute the same function. */
async function align(name: string, a: Model, b: Model, evaluation: EvaluationData, points: number): Promise<AlignmentResult> {
  const t0 = performance.now();
  const before = await step(`${name}: linear path before alignment (${points} points)`, (progress) => evaluateLinear(a, b, evaluation, { points, progress }));
  const spec = permutationSpecFor(a.architecture, getArchitecture(a.architecture).spec(a.config));
  const matched = await step(`${name}: weight matching`, (progress) => Promise.resolve(weightMatching(a, b, spec, { seed: 0, progress })));
  const permuted = applyPermutation(b, spec, matched.perms);
  const bPermuted: Model = { ...b, params: permuted.params, buffers: permuted.buffers };
  const after = await step(`${name}: linear path after alignment (${points} points)`, (progress) => evaluateLinear(a, bPermuted, evaluation, { points, progress }));
  disposeTensors(permuted);
  const relabelled = after.map((r) => ({ ...r, path: 'linear, B weight-matched' }));
  const rows = [...before.map((r) => ({ ...r, path: 'linear' })), ...relabelled];
  const testAt1 = (rs: readonly PathRow[]) => rs.find((r) => r.split === 'test' && r.t === 1)?.loss ?? NaN;
  return {
    rows,
    before: barrierMetrics(before),
    after: barrierMetrics(after),
    testLossB: testAt1(before),
    testLossBPermuted: testAt1(after),
    sweeps: matched.iterations,
    objective: matched.objective,
    seconds: (performance.now() - t0) / 1000,
  };
}

const summarize = (r: AlignmentResult) =>
  Object.fromEntries(
    (['before', 'after'] as const).map((k) => {
      const m = r[k].find((x) => x.split === 'test');
      return [k, m === undefined ? null : { lossBarrier: m.lossBarrier, maxTestLoss: m.lossBarrierEndpointMean + (m.lossA + m.lossB) / 2, errorBarrier: m.errorBarrier, midpointT: m.lossBarrierT }];
    }),
  );

await startBackend();

// 1. LeNet5.
const epochs = int('epochs', values.epochs, defaultEpochs(dataset));
const training = lenet5Training(dataset, epochs, values.runs, values['data-dir']);
const modes = await loadModes(training, seeds, undefined, evaluationOptions(values));
const [a, b] = modes.models as [Model, Model];
const lenet = await align('LeNet5', a, b, modes.analysis.data, int('points', values.points));
modes.analysis.dispose();
await saveChart(pathChart(lenet.rows, { splits: ['test'], metrics: ['loss', 'error'] }), join(out, 'lenet5'));

// 2. ResNet18, k = 1/4, Fashion-MNIST padded to 32×32×3.
let resnet: (AlignmentResult & { modes: unknown; training: unknown }) | null = null;
if (!values['skip-resnet']) {
  const rDataset = values['resnet-dataset'];
  const rFull = await loadTrainingData(rDataset, values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] });
  // ResNet18 trains at ~20 images/s on the wasm backend: a class-balanced subset keeps the run short.
  const rExamples = Math.min(rFull.train.count, int('resnet-train-examples', values['resnet-train-examples']));
  const rData = { ...rFull, train: rExamples < rFull.train.count ? takeSubset(rFull.train, rExamples, 0) : rFull.train };
  const preprocessing = createPreprocessing(rData.train, { padTo: 32, channels: 3 });
  const rEpochs = int('resnet-epochs', values['resnet-epochs']);
  const rTraining: TrainModeOptions = {
    architecture: 'resnet18',
    config: { width: 0.25 },
    dataset: rDataset,
    preprocessing,
    epochs: rEpochs,
    batchSize: 128,
    lr: num('resnet-lr', values['resnet-lr']),
    optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
    schedule: { kind: 'cosine' },
    outDir: join(values.runs, `resnet18-k0.25-${rDataset}-n${rExamples}-e${rEpochs}`),
  };
  // The analysis reads the preprocessing back from the checkpoints' metadata.
  const rModes = await loadModes(rTraining, seeds, rData, {
    splits: ['train', 'test'],
    trainExamples: 500,
    testExamples: int('resnet-test-examples', values['resnet-test-examples']),
    bnBatches: int('bn-batches', values['bn-batches']),
  });
  const [ra, rb] = rModes.models as [Model, Model];
  const r = await align('ResNet18 k=1/4', ra, rb, rModes.analysis.data, int('resnet-points', values['resnet-points']));
  resnet = { ...r, modes: rModes.metrics, training: { dataset: rDataset, trainExamples: rExamples, epochs: rEpochs, lr: rTraining.lr, batchSize: 128, preprocessing } };
  rModes.analysis.dispose();
  await saveChart(pathChart(r.rows, { splits: ['test'], metrics: ['loss', 'error'] }), join(out, 'resnet18-k0.25'));
}

await writeNumbers(out, {
  figure: 'alignment',
  lenet5: { dataset, modes: modes.metrics, epochs, summary: summarize(lenet), ...lenet },
  resnet18: resnet === null ? null : { summary: summarize(resnet), ...resnet },
  seconds: (performance.now() - started) / 1000,
});
for (const [name, r] of [['LeNet5', lenet], ['ResNet18 k=1/4', resnet]] as const) {
  if (r === null) continue;
  const s = summarize(r);
  console.log(
    `${name}: test loss barrier ${s['before']?.lossBarrier.toFixed(3)} → ${s['after']?.lossBarrier.toFixed(3)} nats, error barrier ${(s['before']?.errorBarrier ?? NaN).toFixed(3)} → ${(s['after']?.errorBarrier ?? NaN).toFixed(3)}; L(B) ${r.testLossB.toFixed(4)} = L(π(B)) ${r.testLossBPermuted.toFixed(4)}`,
  );
}
