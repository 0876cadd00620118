/**
 * The demo (the README's main command), end to end on the embedded Fashion-MNIST subset:
 *
 *   1. train two LeNet5 modes (seeds 1 and 2)            → runs/demo/seed-S/epoch-E.safetensors
 *   2. linear barrier, layer-wise and cumulative barriers
 *   3. a Bezier curve between the modes (Garipov et al.)  → OUT/bezier.safetensors
 *   4. an LLPF path from mode A to mode B (Tian et al.)
 *   5. charts (SVG, PNG, Vega-Lite JSON) and an HTML report → OUT/
 *
 * OUT is a fresh folder, runs/demo-<date and time> unless `--out DIR` names one: a run never
 * overwrites the committed example in figures/demo/, which is regenerated on purpose with
 * `npm run demo -- --out figures/demo`. Checkpoints already in runs/demo/ are reused, so a second
 * run only redoes the analyses. The training recipe is the README's `modeconn train` example.
 *
 *   npx tsx scripts/demo.ts [--out DIR]      (or: npm run demo [-- --out DIR])
 *   node --loader ts-node/esm scripts/demo.ts
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import {
  backendFromEnv,
  barrierMetrics,
  cumulativeBarriers,
  cumulativeChart,
  disposeTensors,
  evaluatePath,
  getArchitecture,
  initBackend,
  layerHeatmap,
  layerwiseBarriers,
  llpfChart,
  loadTrainingData,
  pathChart,
  saveChart,
  splitBatchSource,
  trainMode,
  checkpointPath,
  writeHtmlReport,
  type BarrierMetrics,
  type Model,
  type PathRow,
} from '../src/index.js';
import { openAnalysis } from '../src/analysis/open-analysis.js';
import { findLinearPath } from '../src/paths/linear-path.js';
import { findLlpfPath } from '../src/paths/llpf.js';
import { savePath } from '../src/paths/saved-path.js';
import { findCurve } from '../src/paths/train-curve.js';
import { demoTraining, step } from './figures/common.js';

const RUNS = 'runs/demo';
const { values: flags } = parseArgs({ options: { out: { type: 'string' } }, strict: true });
/** The output folder: `--out`, else a fresh runs/demo-2026-12-01T23-20-05. */
const FIGURES = flags.out ?? `runs/demo-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}`;
// The LeNet5 recipe shared with the paper-figure scripts, with the epochs saved for the layer × epoch map.
const { seeds: SEEDS, options: training } = demoTraining(RUNS);

async function main(): Promise<void> {
  const started = performance.now();
  await mkdir(FIGURES, { recursive: true });
  console.error(`output: ${FIGURES}/`);
  const backend = await initBackend(backendFromEnv());
  console.error(`backend: ${backend.active} (${backend.package})`);
  const data = await loadTrainingData(training.dataset);

  // 1. Two independent modes.
  const files: string[] = [];
  for (const seed of SEEDS) {
    const final = checkpointPath(RUNS, seed, training.epochs);
    if (!existsSync(final)) {
      const run = await step(`train LeNet5 seed ${seed}`, (progress) => trainMode(data, seed, { ...training, progress }));
      disposeTensors(run.model);
    }
    files.push(final);
  }
  // The modes, their dataset and preprocessing (from the checkpoints' metadata) and the evaluation
  // data: 2,000 training and all 2,000 test images, converted once.
  const analysis = await openAnalysis(files, { data, splits: ['train', 'test'], trainExamples: 2000 });
  analysis.checkpoints.forEach(({ metadata }, i) => {
    console.log(`mode ${SEEDS[i]}: test accuracy ${(100 * (metadata.metrics?.['testAccuracy'] ?? NaN)).toFixed(2)}%, test loss ${(metadata.metrics?.['testLoss'] ?? NaN).toFixed(4)}`);
  });
  const [a, b] = analysis.models as [Model, Model];
  const arch = getArchitecture(a.architecture);
  const { data: evaluation, preprocessing } = analysis;
  const dense = { points: 21 };

  // 2. Barriers.
  const linear = (await findLinearPath(arch, [a, b])).path;
  const linearRows = await step('linear path', (progress) => evaluatePath(linear, evaluation, { ...dense, progress }));
  linear.dispose();
  const layerRows = await step('layer-wise barriers', (progress) => layerwiseBarriers(a, b, evaluation, { points: 11, splits: ['test'], progress }));
  const cumulativeRows = await step('cumulative barriers', (progress) => cumulativeBarriers(a, b, evaluation, { splits: ['test'], progress }));

  // 3. Bezier curve with one trainable bend, endpoints fixed.
  const curveFile = `${FIGURES}/bezier.safetensors`;
  const train = splitBatchSource(data.train, preprocessing, { batchSize: 128, seed: 0 });
  const trained = await step('train Bezier curve', (progress) => findCurve(arch, [a, b], train, { kind: 'bezier', bends: 3, epochs: 4, lr: 0.015, weightDecay: 5e-4, progress }));
  await savePath(curveFile, trained.path, { info: trained.info });
  const bezier = trained.path;
  const bezierRows = await step('evaluate Bezier curve', (progress) => evaluatePath(bezier, evaluation, { ...dense, progress }));
  bezier.dispose();

  // 4. LLPF from A to B: move toward B, project to A's per-tensor variance, retrain, record.
  const llpf = await step('LLPF path A → B', (progress) =>
    findLlpfPath(arch, { start: a, target: { kind: 'model', state: b } }, { train: splitBatchSource(data.train, preprocessing, { batchSize: 64, seed: 1 }), evaluation }, {
      ticks: 80,
      stepAdaptive: 0.05,
      recordEvery: 8,
      segmentPoints: 3,
      training: { lr: 0.01, minIterations: 5, maxIterations: 30, lossThreshold: 0.3 },
      progress,
    }),
  );
  const llpfRoute = llpf.path;
  const llpfRows = await step('evaluate LLPF path', (progress) => evaluatePath(llpfRoute, evaluation, { ...dense, progress }));
  const llpfTicks = llpf.info.rows;
  llpfRoute.dispose();

  // 5. Figures and report.
  const allPaths: PathRow[] = [...linearRows, ...bezierRows, ...llpfRows];
  await step('charts', async (progress) => {
    const charts = [
      ['paths', pathChart(allPaths, { splits: ['test'], metrics: ['loss', 'accuracy'] })],
      ['layerwise', layerHeatmap(layerRows, { split: 'test', value: 'loss' })],
      ['cumulative', cumulativeChart(cumulativeRows, { split: 'test' })],
      ['llpf', llpfChart(llpfTicks, { panels: ['loss', 'accuracy', 'distanceToTarget'] })],
    ] as const;
    for (const [i, [name, spec]] of charts.entries()) {
      await saveChart(spec, `${FIGURES}/${name}`);
      progress({ task: 'charts', step: i + 1, total: charts.length, message: name });
    }
  });
  const metrics = barrierMetrics(allPaths);
  const table = (rows: readonly BarrierMetrics[]) => ({
    caption: 'Barrier metrics (loss in nats of mean cross-entropy; error = 1 − accuracy)',
    columns: ['path', 'split', 'L(A)', 'L(B)', 'max L(t)', 'loss barrier', 'endpoint-mean barrier', 'error barrier', '∫ L dt'],
    rows: rows.map((m) => [m.path, m.split, m.lossA, m.lossB, m.lossBarrierEndpointMean + (m.lossA + m.lossB) / 2, m.lossBarrier, m.lossBarrierEndpointMean, m.errorBarrier, m.lossIntegral]),
  });
  await writeHtmlReport(`${FIGURES}/report.html`, {
    title: 'mode-connectivity demo: two LeNet5 modes on Fashion-MNIST (embedded 10k/2k subset)',
    sections: [
      { heading: 'Paths between the modes', text: 'Test loss and accuracy along the straight line, a trained Bezier curve (one bend, endpoints fixed) and an LLPF path (Tian et al.), 21 points each.', figures: [{ file: 'paths.svg', caption: 'Loss and accuracy along three paths between the same two modes.' }], tables: [table(metrics)] },
      { heading: 'Layer-wise barriers', text: 'One layer group interpolated at a time, the others from A (left) or B (right) (Adilova et al., ICLR 2024).', figures: [{ file: 'layerwise.svg', caption: 'Test loss with a single layer interpolated.' }] },
      { heading: 'Cumulative barriers', figures: [{ file: 'cumulative.svg', caption: 'Midpoint barrier as layer groups are added from the input side, the output side and in a random order.' }] },
      { heading: 'LLPF run', text: 'The LLPF path ends at its last recorded point (80 ticks of steps of 5% of the remaining distance), close to but not exactly at mode B; its rows at t = 1 are that point.', figures: [{ file: 'llpf.svg', caption: 'Loss, accuracy and distance to B at each recorded tick; points mark the highest loss measured between consecutive recorded points.' }] },
    ],
  });
  const seconds = (performance.now() - started) / 1000;
  const summary = { backend: backend.active, seconds, barriers: metrics, curveFile };
  await writeFileAtomic(`${FIGURES}/summary.json`, `${JSON.stringify(summary, null, 2)}\n`);
  analysis.dispose();

  for (const m of metrics.filter((r) => r.split === 'test')) {
    console.log(`${m.path.padEnd(8)} test: max loss ${(m.lossBarrierEndpointMean + (m.lossA + m.lossB) / 2).toFixed(3)}, loss barrier ${m.lossBarrier.toFixed(3)}, error barrier ${m.errorBarrier.toFixed(3)}`);
  }
  console.log(`demo finished in ${seconds.toFixed(0)} s: ${FIGURES}/report.html`);
  // webgpu: Dawn holds the event loop while its instance lives, so a finished run ends explicitly.
  if (backend.holdsEventLoop) process.exit(0);
}

await main();
