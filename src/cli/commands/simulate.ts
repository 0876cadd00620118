import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadDataset } from '../../data/datasets.js';
import { plateauDelay } from '../../simulate/metrics.js';
import { writeSimulationOutputs, type SimulationRun } from '../../simulate/outputs.js';
import { DEFAULT_SIMULATION_CONFIG as D, resolveSimulationConfig, runSimulation, type SimulationConfig } from '../../simulate/simulator.js';
import { assertRowCount, numberOption, parseArgs, required } from '../args.js';
import { createProgressBar } from '../progress.js';
import { dataDirOption } from '../data-options.js';
import { checkOutputPaths } from '../output-paths.js';
import { CHART_OPTIONS, CHART_OPTIONS_HELP, chartRequest, writeAnalysisCharts } from '../chart-output.js';
import { withResumeFlags } from '../resume-message.js';
import { checkWorkersOption, parseWorkers } from './barrier.js';
import type { Command } from './command.js';

const NUMBER_FLAGS = {
  nodes: 'nodes',
  'self-weight': 'selfWeight',
  lr: 'lr',
  momentum: 'momentum',
  'weight-decay': 'weightDecay',
  'batch-size': 'batchSize',
  ticks: 'ticks',
  'record-every': 'recordEvery',
  'test-examples': 'testSubset',
  'samples-per-node': 'samplesPerNode',
  'clients-per-round': 'clientsPerRound',
  seed: 'seed',
} as const;

const STRING_FLAGS = { mode: 'mode', topology: 'topology', partition: 'partition', averaging: 'averaging', init: 'init', 'init-scheme': 'initScheme', engine: 'engine', series: 'series' } as const;

/** The flag behind each config field, for resume errors (`nodes` → `--nodes`; a --config file sets the same fields). */
const RESUME_FLAGS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries({ ...NUMBER_FLAGS, ...STRING_FLAGS }).map(([flag, field]) => [field, `--${flag}`])),
  dataset: '--dataset',
};

/** The runs of a `--config` file: one config object, an array of them, or `{ runs: [...] }` (flags override every run). */
async function readConfigFile(path: string): Promise<Record<string, unknown>[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    throw new Error(`--config ${path}: ${(error as Error).message}`, { cause: error });
  }
  const list = Array.isArray(raw) ? (raw as unknown[]) : typeof raw === 'object' && raw !== null && 'runs' in raw ? (raw).runs : [raw];
  if (!Array.isArray(list) || list.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) {
    throw new Error(`--config ${path}: expected a config object, an array of them, or { "runs": [...] }`);
  }
  return list as Record<string, unknown>[];
}

export const simulateCommand: Command = {
  summary: 'simulate gossip learning / federated averaging of LeNet5 nodes (vanishing variance, Tian et al. 2024)',
  usage: '--out DIR [--nodes 50 --topology regular:8 --partition dirichlet:0.5 --averaging corrected --ticks 3000 --seed 1] [--config FILE] [--no-resume]',
  help: `options:
  --mode M             gossip | federated | single (default ${D.mode})
  --nodes N            nodes (default ${D.nodes})
  --topology T         ring | regular:K | er:P | ba:M | star | file:PATH (default ${D.topology})
  --partition P        iid | dirichlet:ALPHA | shards:CLASSES (default ${D.partition})
  --averaging A        plain | corrected (= follow-others) | conservative | self (default ${D.averaging})
  --self-weight C      weight of a node's own model when averaging (default ${D.selfWeight})
  --init I             independent | shared (default ${D.init})
  --init-scheme S      xavier | pytorch (default ${D.initScheme})
  --lr LR              SGD learning rate (default ${D.lr})
  --momentum M         SGD momentum (default ${D.momentum})
  --weight-decay WD    SGD weight decay (default ${D.weightDecay})
  --batch-size B       SGD batch size (default ${D.batchSize})
  --ticks N            ticks to simulate (default ${D.ticks})
  --record-every N     ticks between metric records (default ${D.recordEvery})
  --test-examples N    test images evaluated per node (default ${D.testSubset})
  --samples-per-node N training examples per node (default: all, split evenly)
  --clients-per-round N  federated: models the server waits for (default: all clients)
  --engine E           separate (fastest on wasm) | batched (default ${D.engine})
  --seed S             fixes init, graph, partition and batch order (default ${D.seed})
  --workers N|auto     worker threads sharing the nodes that train in a tick (default auto: one per
                       core on wasm/cpu; separate engine); the rows are the same for every N
  --series NAME        run label in rows and charts
  --config FILE        JSON config (fields as in SimulationConfig), an array of configs, or { "runs": [...] };
                       flags given on the command line override every run
  --dataset D          fashion-mnist-small (default, embedded) | fashion-mnist | mnist
  --data-dir DIR       folder holding the dataset files
  --no-resume          start over: delete DIR/<series>/state.safetensors first (by default a run
                       continues from it)
  --out DIR            output folder (required): rows.json, ticks/layers/nodes.csv, accuracy and
                       layer-variance charts; per run DIR/<series>/state.safetensors
  --json               print the plateau delays as JSON
${CHART_OPTIONS_HELP}
                       (the --out folder has the accuracy and layer-variance charts already)`,
  defaults: {
    '': Object.fromEntries(
      Object.entries({ ...NUMBER_FLAGS, ...STRING_FLAGS })
        .map(([flag, field]) => [flag, (D as unknown as Record<string, unknown>)[field]])
        .filter((e): e is [string, string | number] => typeof e[1] === 'string' || typeof e[1] === 'number'),
    ),
  },
  async run(args, context) {
    const { values: parsed } = parseArgs({
      args,
      strict: true,
      options: {
        ...Object.fromEntries(Object.keys(NUMBER_FLAGS).map((k) => [k, { type: 'string' as const }])),
        ...Object.fromEntries(Object.keys(STRING_FLAGS).map((k) => [k, { type: 'string' as const }])),
        config: { type: 'string' },
        dataset: { type: 'string', default: 'fashion-mnist-small' },
        'data-dir': { type: 'string' },
        'no-resume': { type: 'boolean', default: false },
        workers: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        ...CHART_OPTIONS,
      },
    });
    const values = parsed as Record<string, string | boolean | undefined>;
    const out = required(values.out as string | undefined, 'out');
    const flags: Record<string, unknown> = {};
    for (const [flag, field] of Object.entries(NUMBER_FLAGS)) {
      const v = numberOption(values[flag] as string | undefined, flag);
      if (v !== undefined) flags[field] = v;
    }
    for (const [flag, field] of Object.entries(STRING_FLAGS)) {
      const v = values[flag] as string | undefined;
      if (v !== undefined) flags[field] = v;
    }
    const configPath = values.config as string | undefined;
    const bases = configPath === undefined ? [{}] : await readConfigFile(configPath);
    const configs: SimulationConfig[] = bases.map((base, i) => resolveSimulationConfig({ ...base, ...flags }, configPath === undefined ? 'simulate options' : `--config ${configPath} run ${i}`));
    const seriesNames = configs.map((c) => c.series);
    const duplicate = seriesNames.find((s, i) => seriesNames.indexOf(s) !== i);
    if (duplicate !== undefined) throw new Error(`simulate: two runs are labelled "${duplicate}"; give each run its own "series"`);
    for (const config of configs) {
      // Node rows (one per node and recorded tick) stay in memory, and every node holds its own model.
      assertRowCount((Math.floor(config.ticks / config.recordEvery) + 2) * config.nodes, `${config.series}: --nodes ${config.nodes} over ${config.ticks} ticks recorded every ${config.recordEvery}`);
    }
    const dataset = values.dataset as string;
    const dataOptions = dataDirOption(dataset, values['data-dir'] as string | undefined);
    await checkOutputPaths([{ path: out, kind: 'folder', option: '--out' }]);
    checkWorkersOption(values.workers as string | undefined);
    const charts = await chartRequest({ chart: values.chart as string | undefined, format: values.format as string | undefined });
    await context.initBackend();
    const workers = parseWorkers((values.workers as string | undefined) ?? 'auto');
    if (values['no-resume'] as boolean) for (const config of configs) await rm(join(out, config.series, 'state.safetensors'), { force: true });
    const data = { train: await loadDataset(dataset, 'train', dataOptions), test: await loadDataset(dataset, 'test', dataOptions) };
    const runs: SimulationRun[] = [];
    for (const config of configs) {
      await mkdir(join(out, config.series), { recursive: true });
      const bar = context.quiet ? undefined : createProgressBar(config.series);
      const rows = await withResumeFlags(
        () =>
          runSimulation(config, data, {
            statePath: join(out, config.series, 'state.safetensors'),
            workers,
            ...(bar === undefined ? {} : { progress: bar.progress }),
          }),
        RESUME_FLAGS,
        'use --no-resume',
      );
      bar?.done();
      runs.push({ config, rows });
      const delay = plateauDelay(rows.ticks);
      const last = rows.ticks.at(-1);
      if (!(values.json as boolean)) {
        console.log(
          `${config.series}: tick ${last?.tick ?? 0} mean test accuracy ${((last?.accuracyMean ?? 0) * 100).toFixed(1)}% ` +
            `(min ${((last?.accuracyMin ?? 0) * 100).toFixed(1)}%, max ${((last?.accuracyMax ?? 0) * 100).toFixed(1)}%); ` +
            `50% at tick ${delay.tick50 ?? '—'}, 80% at tick ${delay.tick80 ?? '—'}, largest jump at tick ${delay.largestJumpTick ?? '—'}`,
        );
      }
    }
    const written = await writeSimulationOutputs(out, runs);
    if (charts !== undefined) {
      const summary = { runs: runs.map((r) => ({ config: r.config, delay: plateauDelay(r.rows.ticks) })), ticks: runs.flatMap((r) => r.rows.ticks), layers: runs.flatMap((r) => r.rows.layers) };
      written.push(...(await writeAnalysisCharts(summary, charts, { name: 'simulate', commandLine: ['simulate', ...args], checkpoints: [], kind: 'simulator' })).map((f) => join(charts.out, f)));
    }
    if (values.json as boolean) console.log(JSON.stringify({ runs: runs.map((r) => plateauDelay(r.rows.ticks)), files: written }));
    else console.log(`wrote ${written.length} files to ${out}`);
    return 0;
  },
};
