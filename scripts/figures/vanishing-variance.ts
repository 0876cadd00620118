/**
 * The vanishing-variance figure (Tian et al. 2024; shared/ALGORITHMS.md §7, issue 6):
 *
 *  1. accuracy vs tick (mean over nodes, min–max band) of a single node, federated averaging,
 *     plain gossip, variance-corrected gossip, and plain gossip from a shared initialization;
 *  2. per-layer weight variance vs tick (log axis) of the same runs;
 *  3. a degree sweep: ticks until the mean accuracy reaches 50 % vs the degree of a random regular
 *     graph, plain vs corrected gossip.
 *
 *   npx tsx scripts/figures/vanishing-variance.ts [--nodes 50 --ticks 3000 --dataset fashion-mnist]
 *   node --loader ts-node/esm scripts/figures/vanishing-variance.ts --nodes 10 --ticks 600 --dataset fashion-mnist-small
 *
 * Options: --nodes N (50), --degree K (8), --ticks T (3000), --dataset D (fashion-mnist),
 * --data-dir DIR, --record-every R (50), --test-examples M (1000), --partition P (dirichlet:0.5),
 * --degrees LIST (2,4,8,16; every K < N with N·K even), --sweep-ticks T (= --ticks), --no-sweep, --sweep-only,
 * --level A (0.5: the sweep's delay is the first tick with mean accuracy ≥ A),
 * --sizes LIST (none: a sweep over the number of nodes N at degree min(K, N − 1), plain vs corrected;
 * it runs with the degree sweep and shares its --sweep-ticks; runs with the same N and K are shared),
 * --corrected-sweep-ticks T (= --sweep-ticks: corrected gossip leaves the plateau early, so its sweep
 * runs can be shorter; a delay not reached is shown as an open point at the run length),
 * --sweep-seeds LIST (= --seed: every setting of both sweeps once per seed; the lines join the mean
 * delays),
 * --seed S (1), --out DIR (figures/vanishing-variance). Every run keeps a state file under
 * DIR/<series>/, so an interrupted script resumes where it stopped.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { backendFromEnv, initBackend } from '../../src/backend/init-backend.js';
import { saveChart } from '../../src/charts/render.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';
import { createProgressBar } from '../../src/cli/progress.js';
import { loadDataset } from '../../src/data/datasets.js';
import { plateauDelay, toCsv } from '../../src/simulate/metrics.js';
import { delayChart, delayRow, writeSimulationOutputs, type DelayRow, type SimulationRun } from '../../src/simulate/outputs.js';
import { resolveSimulationConfig, runSimulation, type SimulationConfig, type SimulationData } from '../../src/simulate/simulator.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '50' },
    degree: { type: 'string', default: '8' },
    ticks: { type: 'string', default: '3000' },
    dataset: { type: 'string', default: 'fashion-mnist' },
    'data-dir': { type: 'string' },
    'record-every': { type: 'string', default: '50' },
    'test-examples': { type: 'string', default: '1000' },
    partition: { type: 'string', default: 'dirichlet:0.5' },
    degrees: { type: 'string', default: '2,4,8,16' },
    'sweep-ticks': { type: 'string' },
    'no-sweep': { type: 'boolean', default: false },
    'sweep-only': { type: 'boolean', default: false },
    level: { type: 'string', default: '0.5' },
    sizes: { type: 'string' },
    'corrected-sweep-ticks': { type: 'string' },
    'sweep-seeds': { type: 'string' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'figures/vanishing-variance' },
  },
});

function int(name: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a non-negative integer, found "${value}"`);
  return n;
}

const nodes = int('nodes', values.nodes);
const degree = int('degree', values.degree);
const ticks = int('ticks', values.ticks);
const out = values.out;
const common: Partial<SimulationConfig> = {
  nodes,
  ticks,
  partition: values.partition,
  recordEvery: int('record-every', values['record-every']),
  testSubset: int('test-examples', values['test-examples']),
  seed: int('seed', values.seed),
  topology: `regular:${degree}`,
};

await initBackend(backendFromEnv() === 'auto' ? 'wasm' : backendFromEnv());
const dataOptions = values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] };
const data: SimulationData = { train: await loadDataset(values.dataset, 'train', dataOptions), test: await loadDataset(values.dataset, 'test', dataOptions) };

async function run(raw: Partial<SimulationConfig>, folder = out): Promise<SimulationRun> {
  const config = resolveSimulationConfig(raw);
  const dir = join(folder, config.series);
  await mkdir(dir, { recursive: true });
  const bar = createProgressBar(config.series.padEnd(28));
  const started = performance.now();
  let stepsAtFirstRecord: number | undefined;
  let ticksAtFirstRecord = 0;
  const rows = await runSimulation(config, data, {
    statePath: join(dir, 'state.safetensors'),
    progress: (p) => {
      const trainSteps = p.metrics?.['trainSteps'];
      if (trainSteps !== undefined && stepsAtFirstRecord === undefined) [stepsAtFirstRecord, ticksAtFirstRecord] = [trainSteps, p.step];
      bar.progress(p);
    },
  });
  bar.done();
  const last = rows.ticks.at(-1);
  const delay = plateauDelay(rows.ticks);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${config.series}: accuracy at tick ${last?.tick} ${((last?.accuracyMean ?? 0) * 100).toFixed(1)}% ` +
      `[${((last?.accuracyMin ?? 0) * 100).toFixed(1)}, ${((last?.accuracyMax ?? 0) * 100).toFixed(1)}]; 50% at ${delay.tick50 ?? '—'}, 80% at ${delay.tick80 ?? '—'}; ` +
      (stepsAtFirstRecord === undefined
        ? 'complete (resumed from its state file)'
        : `${(last?.trainSteps ?? 0) - stepsAtFirstRecord} node-steps after tick ${ticksAtFirstRecord}, ${seconds.toFixed(0)} s in all (${(((last?.trainSteps ?? 0) - stepsAtFirstRecord) / seconds).toFixed(1)} node-steps/s incl. evaluation)`),
  );
  return { config, rows };
}

// 1–2. The five configurations on one chart.
const written: string[] = [];
if (!values['sweep-only']) {
  const runs: SimulationRun[] = [];
  runs.push(await run({ ...common, mode: 'single', series: 'single node' }));
  runs.push(await run({ ...common, mode: 'federated', series: 'federated averaging' }));
  runs.push(await run({ ...common, mode: 'gossip', averaging: 'plain', series: 'gossip, plain' }));
  runs.push(await run({ ...common, mode: 'gossip', averaging: 'corrected', series: 'gossip, corrected' }));
  runs.push(await run({ ...common, mode: 'gossip', averaging: 'plain', init: 'shared', series: 'gossip, plain, shared init' }));
  written.push(...(await writeSimulationOutputs(out, runs, { title: `${nodes} LeNet5 nodes, regular:${degree}, ${values.partition}, ${values.dataset}` })));

  // The measured variance drop of plain gossip. One averaging of K uncorrelated models multiplies the
  // variance by c² + (1−c)²/K (tested in src/simulate); repeated averaging correlates the models, and
  // the variance falls towards that of the network mean of N independent initializations, σ²/N.
  const plain = runs[2] as SimulationRun;
  const firstRecord = plain.rows.ticks[1];
  if (firstRecord !== undefined) {
    const at = (tick: number, layer: string) => plain.rows.layers.find((r) => r.tick === tick && r.layer === layer)?.variance ?? NaN;
    const lastTick = plain.rows.ticks.at(-1)?.tick ?? 0;
    for (const layer of ['conv1', 'conv2', 'fc1', 'fc2', 'fc3']) {
      console.log(
        `plain gossip ${layer}: variance / initial = ${(at(firstRecord.tick, layer) / at(0, layer)).toFixed(3)} at tick ${firstRecord.tick} ` +
          `(${(firstRecord.averagings / nodes).toFixed(1)} averagings per node), ${(at(lastTick, layer) / at(0, layer)).toFixed(3)} at tick ${lastTick}; ` +
          `one averaging of uncorrelated models: c² + (1−c)²/K = ${(0.25 + 0.25 / degree).toFixed(3)}, consensus floor 1/N = ${(1 / nodes).toFixed(3)}`,
      );
    }
  }
}

// 3. Degree sweep, and (with --sizes) a sweep over the number of nodes.
if (!values['no-sweep']) {
  const degrees = values.degrees.split(',').map((d) => int('degrees', d)).filter((k) => k >= 1 && k < nodes && (nodes * k) % 2 === 0);
  const sizes = values.sizes === undefined ? [] : values.sizes.split(',').map((n) => int('sizes', n));
  const sweepTicks = values['sweep-ticks'] === undefined ? ticks : int('sweep-ticks', values['sweep-ticks']);
  const correctedTicks = values['corrected-sweep-ticks'] === undefined ? sweepTicks : int('corrected-sweep-ticks', values['corrected-sweep-ticks']);
  const level = Number(values.level);
  if (!(level > 0 && level < 1)) throw new Error(`--level: expected an accuracy in (0, 1), found "${values.level}"`);
  const seed = int('seed', values.seed);
  const sweepSeeds = values['sweep-seeds'] === undefined ? [seed] : values['sweep-seeds'].split(',').map((v) => int('sweep-seeds', v));
  for (const n of sizes) {
    const k = Math.min(degree, n - 1);
    if (n < 2 || (n * k) % 2 !== 0) throw new Error(`--sizes: ${n} nodes cannot form a ${k}-regular graph (N ≥ 2 and N·K even)`);
  }

  /** Every sweep run once (the two sweeps share runs with the same N and K), for the curves behind the delays. */
  const sweepRuns = new Map<string, SimulationRun>();
  /** Runs plain and corrected gossip for every value of a swept quantity; returns the delay rows. */
  async function sweep(xs: readonly number[], seeds: readonly number[], size: (x: number) => { readonly nodes: number; readonly degree: number }): Promise<DelayRow[]> {
    const points: DelayRow[] = [];
    for (const runSeed of seeds) {
      for (const x of xs) {
        const { nodes: n, degree: k } = size(x);
        for (const averaging of ['plain', 'corrected'] as const) {
          const config = { nodes: n, topology: `regular:${k}`, ticks: averaging === 'plain' ? sweepTicks : correctedTicks, seed: runSeed };
          // The --seed runs keep their names (and state files) from before seeds could be swept.
          const series = `sweep ${averaging} N=${n} regular:${k}${runSeed === seed ? '' : ` seed ${runSeed}`}`;
          const r = await run({ ...common, ...config, averaging, series }, join(out, 'sweep'));
          sweepRuns.set(r.config.series, r);
          points.push(delayRow(averaging, x, r.rows.ticks, level, runSeed));
        }
      }
    }
    return points;
  }
  const openPoint = `open point: not reached within the run, ${sweepTicks} ticks plain, ${correctedTicks} corrected`;
  const seedsText = sweepSeeds.length > 1 ? `; ${sweepSeeds.length} seeds, line through the mean` : '';
  const report = (name: string, points: readonly DelayRow[]) => {
    for (const p of points) console.log(`${name} ${p.x} ${p.series} seed ${p.seed}: ${Math.round(level * 100)}% ${p.reached ? `at tick ${p.delay}` : `not reached in ${p.delay} ticks`}`);
  };

  if (degrees.length > 0) {
    const points = await sweep(degrees, sweepSeeds, (k) => ({ nodes, degree: k }));
    await writeFileAtomic(join(out, 'delay-vs-degree.json'), `${JSON.stringify({ nodes, ticks: sweepTicks, correctedTicks, level, seeds: sweepSeeds, points }, null, 1)}\n`);
    written.push(...(await saveChart(delayChart(points, { xTitle: 'degree K of the random regular graph', title: `plateau delay, ${nodes} nodes`, subtitle: `${openPoint}${seedsText}` }), join(out, 'delay-vs-degree'))));
    report('degree', points);
  }
  if (sizes.length > 0) {
    const points = await sweep(sizes, sweepSeeds, (n) => ({ nodes: n, degree: Math.min(degree, n - 1) }));
    await writeFileAtomic(join(out, 'delay-vs-nodes.json'), `${JSON.stringify({ degree, ticks: sweepTicks, correctedTicks, level, seeds: sweepSeeds, points }, null, 1)}\n`);
    written.push(...(await saveChart(delayChart(points, { xTitle: 'number of nodes N', title: `plateau delay, random K-regular graphs, K = min(${degree}, N − 1)`, subtitle: `${openPoint}${seedsText}` }), join(out, 'delay-vs-nodes'))));
    report('nodes', points);
  }
  // The accuracy curves behind the delays, as tidy rows (a chart of every run at once would not read).
  if (sweepRuns.size > 0) {
    const path = join(out, 'sweep', 'ticks.csv');
    await writeFileAtomic(path, toCsv([...sweepRuns.values()].flatMap((r) => r.rows.ticks)));
    written.push(path);
  }
}
console.log(`wrote ${written.length} files under ${out}`);
