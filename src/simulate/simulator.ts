/**
 * A discrete-time simulator of decentralized learning with LeNet5 nodes: gossip learning, federated
 * averaging and a single-node baseline, reproducing the vanishing-variance plateau and its
 * correction (Tian, Al-Ars, Kitsak, Hofstee 2024, "Vanishing Variance Problem in Fully
 * Decentralized Neural-Network Systems"; shared/ALGORITHMS.md §7).
 *
 * Pipeline of one tick t (nodes always in ascending order, so a run is a pure function of its seed):
 *  1. train   every node whose next training tick is t takes one SGD step on its next batch
 *             (own data partition, own momentum), then draws its next training tick t + U{8..12};
 *  2. send    gossip: the node pushes its new model to its neighbours, whose inbox keeps the latest
 *             model of each sender; federated: it pushes to the server;
 *  3. average gossip: a node holding models from all its `degree` neighbours merges them with its
 *             own by the averaging rule (plain with self weight c, or variance-corrected) and
 *             clears its inbox; federated: once `clientsPerRound` clients have reported, the server
 *             takes their plain mean and every client restarts from it;
 *  4. record  every `recordEvery` ticks (and at tick 0 and the last tick): test loss and accuracy of
 *             every node on a fixed test subset, per-layer weight variance (mean over nodes), the
 *             mean correction factor applied since the previous record, bytes sent.
 *
 * Plain averaging of K uncorrelated models with self weight c multiplies the weight variance by
 * c² + (1−c)²/K (0.28 for c = 0.5, K = 8): independently initialized gossip nodes lose the variance
 * their Xavier initialization chose and sit near chance accuracy until training restores it.
 *
 * Randomness: every draw is derived from the seed and labels (`init`/node, `interval`/node/step,
 * `batches`/node/epoch, partition, graph), never from a shared stream, so the state to save for a
 * resume is just tensors and counters, and a resumed run equals an uninterrupted one.
 *
 * Speed: nodes train one at a time with `trainStep` (XNNPACK convolutions on wasm). The batched
 * formulation in batched-lenet5.ts is exact but slower on wasm (its BatchMatMul and im2col slices
 * are not XNNPACK kernels; numbers in bench.ts); it is selectable with `engine: 'batched'` for
 * backends where batched matMul is fast.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { LayerStatRow } from '../rows/rows.js';
import { createEvaluator, type Batch as EvaluationBatch, type PointMetrics } from '../evaluate/evaluate.js';
import { readSafetensors, writeSafetensors, type SafetensorsTensorToWrite } from '../checkpoint/safetensors.js';
import { toFloatArray, toTensors } from '../data/batches.js';
import { removeStaleTempFiles } from '../util/atomic-write.js';
import { recipeDifferences, resumeError } from '../util/resume-check.js';
import type { Preprocessing } from '../data/preprocess.js';
import type { ImageSplit } from '../data/types.js';
import { meanAndVariance } from '../averaging/variance-correction.js';
import { lenet5, type LeNet5Config } from '../models/lenet5/index.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelSpec, ModelState } from '../models/types.js';
import { createOptimizer, type Optimizer, type OptimizerConfig } from '../train/optimizer.js';
import { createGradientPool, resolveWorkers, type GradientPool, type WorkerCount } from '../train/gradient-pool.js';
import { applyGradients, trainStep } from '../train/step.js';
import { createRandom, permutation, type Random } from '../util/random.js';
import { createAveragingRule, federatedMean, type AveragingRule } from './averaging-rules.js';
import { batchedLossAndGradients, stackParams, unstackParams } from './batched-lenet5.js';
import type { NodeRow, SimulationRows, TickRow } from './metrics.js';
import { createPartition } from './partition.js';
import { createTopology, type Topology } from './topology.js';
import { subsetIndices } from '../data/subset.js';
import type { Progress } from '../progress.js';

export const SIMULATION_MODES = ['gossip', 'federated', 'single'] as const;
export type SimulationMode = (typeof SIMULATION_MODES)[number];

/** A run's settings: JSON-serializable, stored in the state file. Defaults are the paper's. */
export interface SimulationConfig {
  /** Run label in the rows (default: mode and averaging, e.g. `gossip-corrected`). */
  readonly series: string;
  readonly mode: SimulationMode;
  /** Number of nodes (clients in federated mode; 1 in single mode). Default 50. */
  readonly nodes: number;
  /** Gossip graph (default `regular:8`); see topology.ts. Ignored by federated and single. */
  readonly topology: string;
  /** Data partition (default `dirichlet:0.5`); see partition.ts. Single mode trains on the whole split. */
  readonly partition: string;
  /** Examples per node (default: ⌊train count / nodes⌋). */
  readonly samplesPerNode?: number;
  /** Gossip averaging rule (default `corrected`); see averaging-rules.ts. */
  readonly averaging: string;
  /** Self weight c of gossip averaging (default 0.5). */
  readonly selfWeight: number;
  /** `independent` (default): node i initialized from its own seed; `shared`: every node starts from one model. */
  readonly init: 'independent' | 'shared';
  /** Initialization scheme (default `xavier`: Glorot-uniform weights, zero biases). */
  readonly initScheme: 'xavier' | 'pytorch';
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly batchSize: number;
  /** A node trains once every U{min..max} ticks (default [8, 12]). */
  readonly trainInterval: readonly [number, number];
  /** Federated: models the server waits for before averaging (default: all clients). */
  readonly clientsPerRound?: number;
  /** Ticks to simulate (default 3000). */
  readonly ticks: number;
  /** Record metrics every this many ticks (default 50). */
  readonly recordEvery: number;
  /** Test images in the fixed evaluation subset (class-balanced, default 1000). */
  readonly testSubset: number;
  /** `separate` (default, fastest on wasm) or `batched` training of the nodes acting in a tick. */
  readonly engine: 'separate' | 'batched';
  readonly seed: number;
}

export const DEFAULT_SIMULATION_CONFIG: Omit<SimulationConfig, 'series'> = {
  mode: 'gossip',
  nodes: 50,
  topology: 'regular:8',
  partition: 'dirichlet:0.5',
  averaging: 'corrected',
  selfWeight: 0.5,
  init: 'independent',
  initScheme: 'xavier',
  lr: 0.01,
  momentum: 0.9,
  weightDecay: 1e-4,
  batchSize: 64,
  trainInterval: [8, 12],
  ticks: 3000,
  recordEvery: 50,
  testSubset: 1000,
  engine: 'separate',
  seed: 1,
};

const CONFIG_KEYS = new Set<string>([...Object.keys(DEFAULT_SIMULATION_CONFIG), 'series', 'samplesPerNode', 'clientsPerRound']);

/** Fills defaults and validates; errors name the field. */
export function resolveSimulationConfig(raw: Partial<SimulationConfig> | Record<string, unknown>, where = 'simulation config'): SimulationConfig {
  for (const key of Object.keys(raw)) if (!CONFIG_KEYS.has(key)) throw new Error(`${where}: unknown field "${key}"; known fields: ${[...CONFIG_KEYS].join(', ')}`);
  const merged = { ...DEFAULT_SIMULATION_CONFIG, ...(raw as Partial<SimulationConfig>) };
  const mode = merged.mode;
  if (!(SIMULATION_MODES as readonly string[]).includes(mode)) throw new Error(`${where}: mode must be one of ${SIMULATION_MODES.join(', ')}, found "${String(mode)}"`);
  const nodes = mode === 'single' ? 1 : merged.nodes;
  const int = (name: string, value: unknown, min: number): void => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new Error(`${where}: ${name} must be an integer ≥ ${min}, found ${JSON.stringify(value)}`);
  };
  int('nodes', nodes, 1);
  int('batchSize', merged.batchSize, 1);
  int('ticks', merged.ticks, 0);
  int('recordEvery', merged.recordEvery, 1);
  int('testSubset', merged.testSubset, 1);
  int('seed', merged.seed, 0);
  if (merged.samplesPerNode !== undefined) int('samplesPerNode', merged.samplesPerNode, 1);
  if (merged.clientsPerRound !== undefined) int('clientsPerRound', merged.clientsPerRound, 1);
  if (merged.clientsPerRound !== undefined && merged.clientsPerRound > nodes) throw new Error(`${where}: clientsPerRound (${merged.clientsPerRound}) exceeds nodes (${nodes})`);
  const [lo, hi] = merged.trainInterval;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi < lo) throw new Error(`${where}: trainInterval must be [min, max] integers with 1 ≤ min ≤ max, found ${JSON.stringify(merged.trainInterval)}`);
  for (const name of ['lr', 'momentum', 'weightDecay'] as const) {
    if (!(merged[name] >= 0) || !Number.isFinite(merged[name])) throw new Error(`${where}: ${name} must be a finite number ≥ 0, found ${merged[name]}`);
  }
  if (!(merged.selfWeight >= 0 && merged.selfWeight <= 1)) throw new Error(`${where}: selfWeight must be in [0, 1], found ${merged.selfWeight}`);
  if (merged.init !== 'independent' && merged.init !== 'shared') throw new Error(`${where}: init must be independent or shared, found "${String(merged.init)}"`);
  if (merged.initScheme !== 'xavier' && merged.initScheme !== 'pytorch') throw new Error(`${where}: initScheme must be xavier or pytorch, found "${String(merged.initScheme)}"`);
  if (merged.engine !== 'separate' && merged.engine !== 'batched') throw new Error(`${where}: engine must be separate or batched, found "${String(merged.engine)}"`);
  const series =
    merged.series ?? (mode === 'gossip' ? `gossip-${merged.averaging}${merged.init === 'shared' ? '-shared-init' : ''}` : mode === 'federated' ? 'federated' : 'single');
  return { ...merged, series, nodes, trainInterval: [lo, hi] };
}

/** Train and test splits the run draws from (same image shape as LeNet5's input). */
export interface SimulationData {
  readonly train: ImageSplit;
  readonly test: ImageSplit;
}

export interface SimulationOptions {
  /** A custom gossip rule; overrides `config.averaging` (which then only names the series). */
  readonly rule?: AveragingRule;
  /**
   * Called at every recorded tick and every 10th tick: task `simulate`, step = tick, total = the
   * ticks to run; at a recorded tick, metrics are the numeric fields of its tick row
   * (`accuracyMean`, `trainSteps`, …).
   */
  readonly progress?: Progress;
  /**
   * Checked before every tick: once aborted, `run` returns at the tick reached (`runSimulation`
   * then saves its state file, so a later call resumes from there).
   */
  readonly signal?: AbortSignal;
  /**
   * Worker threads sharing the nodes that train in a tick (default 1: this thread). `auto`: one
   * per core on wasm and cpu. Each node's step is computed whole by one worker, so the rows are
   * bit-identical for every count. Used by the `separate` engine; `batched` stays in this thread.
   */
  readonly workers?: WorkerCount;
}

/** A model snapshot shared by a node and the inboxes it was sent to; freed when no one holds it. */
interface SharedModel {
  readonly id: number;
  readonly state: ModelState;
  refs: number;
}

interface NodeState {
  model: SharedModel;
  readonly optimizer: Optimizer;
  /** sender → latest model received from it (gossip) */
  readonly inbox: Map<number, SharedModel>;
  nextTrain: number;
  trainSteps: number;
  epoch: number;
  position: number;
}

interface Counters {
  tick: number;
  trainSteps: number;
  bytesSent: number;
  averagings: number;
  factorSum: number;
  factorCount: number;
  nextModelId: number;
}

/** The derived generator for `labels` under `seed` (independent of any other draw). */
function derive(seed: number, ...labels: (string | number)[]): Random {
  let r = createRandom(seed);
  for (const label of labels) r = r.fork(label);
  return r;
}

function seedFrom(random: Random): number {
  return Math.floor(random.next() * 2 ** 31);
}

const STATE_FORMAT = 'mode-connectivity/simulation-state@1';
const PREPROCESSING: Preprocessing = { normalize: 'unit' };

/** A running simulation. Create with `createSimulation` or `loadSimulation`; call `dispose()` when done. */
export interface Simulation {
  readonly config: SimulationConfig;
  readonly topology: Topology | undefined;
  /** Ticks simulated so far. */
  readonly tick: number;
  /** Rows recorded so far (copies). */
  rows(): SimulationRows;
  /** Advances to `untilTick` (default config.ticks), recording on the way. */
  run(untilTick?: number, options?: { readonly progress?: Progress; readonly onRecord?: () => Promise<void> }): Promise<void>;
  /** Writes the complete state atomically (safetensors + JSON metadata). */
  save(path: string): Promise<void>;
  /** Node i's current parameters (not a copy; valid until the next tick). */
  nodeState(node: number): ModelState;
  dispose(): void;
}

interface Internals {
  nodes: NodeState[];
  server: SharedModel | undefined;
  serverInbox: Map<number, SharedModel>;
  counters: Counters;
  rows: SimulationRows;
}

/**
 * Creates a simulation at tick 0 (models initialized, nothing recorded yet).
 * @example
 * const sim = createSimulation({ mode: 'gossip', nodes: 50, averaging: 'corrected', ticks: 3000 }, { train, test });
 * await sim.run();
 * const { ticks } = sim.rows();
 * sim.dispose();
 */
export function createSimulation(raw: Partial<SimulationConfig>, data: SimulationData, options: SimulationOptions = {}): Simulation {
  return buildSimulation(resolveSimulationConfig(raw), data, options, undefined);
}

/** Restores a simulation saved by `save`; `data` must be the same splits. `ticks` may be raised. */
export async function loadSimulation(path: string, data: SimulationData, options: SimulationOptions & { readonly ticks?: number } = {}): Promise<Simulation> {
  const contents = await readSafetensors(path);
  if (contents.metadata['format'] !== STATE_FORMAT) throw new Error(`${path}: not a simulation state file (metadata format is "${contents.metadata['format'] ?? 'missing'}")`);
  const config = resolveSimulationConfig({ ...(JSON.parse(contents.metadata['config'] ?? '{}') as Record<string, unknown>), ...(options.ticks === undefined ? {} : { ticks: options.ticks }) }, `${path} config`);
  const dynamic = JSON.parse(contents.metadata['dynamic'] ?? 'null') as SavedDynamic | null;
  if (dynamic === null) throw new Error(`${path}: the simulation state has no "dynamic" metadata`);
  const tensors = new Map<string, tf.Tensor>();
  for (const [key, t] of contents.tensors) tensors.set(key, tf.tensor(t.data, [...t.shape], 'float32'));
  return buildSimulation(config, data, options, { dynamic, tensors, path });
}

interface SavedNode {
  readonly model: number;
  readonly inbox: [number, number][];
  readonly nextTrain: number;
  readonly trainSteps: number;
  readonly epoch: number;
  readonly position: number;
  readonly optimizerSteps: number;
}

interface SavedDynamic {
  readonly counters: Counters;
  readonly nodes: SavedNode[];
  readonly server: number | null;
  readonly serverInbox: [number, number][];
  readonly rows: SimulationRows;
  readonly dataset: { readonly train: string; readonly trainCount: number; readonly test: string; readonly testCount: number };
}

function buildSimulation(
  config: SimulationConfig,
  data: SimulationData,
  options: SimulationOptions,
  restored: { dynamic: SavedDynamic; tensors: Map<string, tf.Tensor>; path: string } | undefined,
): Simulation {
  const lenetConfig: LeNet5Config = lenet5.parseConfig({ inputChannels: data.train.channels, inputSize: data.train.height, classes: data.train.classes });
  if (data.train.height !== data.train.width) throw new Error(`simulation: LeNet5 needs square images, ${data.train.dataset} has ${data.train.height}×${data.train.width}`);
  const spec: ModelSpec = lenet5.spec(lenetConfig);
  const paramNames = spec.params.map((p) => p.name);
  const paramBytes = spec.params.reduce((s, p) => s + 4 * p.shape.reduce((a, b) => a * b, 1), 0);
  const weightLayers = spec.params.filter((p) => p.kind === 'weight').map((p) => ({ name: p.name, layer: p.layer }));
  const n = config.nodes;
  const rule = options.rule ?? createAveragingRule(config.averaging, { selfWeight: config.selfWeight });
  const topology = config.mode === 'gossip' ? createTopology(config.topology, n, derive(config.seed, 'topology').int(2 ** 31)) : undefined;
  if (topology !== undefined && topology.neighbors.some((list) => list.length === 0)) {
    throw new Error(`simulation: topology ${config.topology} leaves a node without neighbours; gossip needs every node to have one`);
  }
  const partitions =
    config.mode === 'single'
      ? [Int32Array.from({ length: config.samplesPerNode ?? data.train.count }, (_, i) => i)]
      : createPartition(data.train.labels, data.train.classes, n, config.partition, config.seed, config.samplesPerNode === undefined ? {} : { perNode: config.samplesPerNode });
  const optimizerConfig: OptimizerConfig = { kind: 'sgd', momentum: config.momentum, weightDecay: config.weightDecay };
  if (restored !== undefined) {
    const d = restored.dynamic.dataset;
    if (d.train !== data.train.dataset || d.trainCount !== data.train.count || d.test !== data.test.dataset || d.testCount !== data.test.count) {
      const differences = [{ field: 'dataset', recorded: `${d.train} (${d.trainCount}/${d.testCount} images)`, given: `${data.train.dataset} (${data.train.count}/${data.test.count})` }];
      throw resumeError({ file: restored.path, folder: restored.path, reason: 'was saved by a run on other data', differences }, RESTART);
    }
  }

  // Fixed test subset, converted once.
  const testIndices = subsetIndices(data.test, Math.min(config.testSubset, data.test.count), derive(config.seed, 'test-subset').int(2 ** 31));
  const testChunks: EvaluationBatch[] = [];
  for (let start = 0; start < testIndices.length; start += 500) {
    testChunks.push(toTensors(data.test, testIndices.subarray(start, start + 500), PREPROCESSING));
  }
  // LeNet5 has no BatchNorm: the shared evaluator runs plain forward passes on the fixed subset.
  const evaluator = createEvaluator(lenet5, lenetConfig, { test: testChunks, bnBatches: [] }, { splits: ['test'], bnReset: false });

  const counters: Counters = restored?.dynamic.counters ?? { tick: 0, trainSteps: 0, bytesSent: 0, averagings: 0, factorSum: 0, factorCount: 0, nextModelId: 0 };
  const share = (state: ModelState, id?: number): SharedModel => {
    const model = { id: id ?? counters.nextModelId, state, refs: 0 };
    if (id === undefined) counters.nextModelId += 1;
    return model;
  };
  const retain = (m: SharedModel): SharedModel => {
    m.refs += 1;
    return m;
  };
  const release = (m: SharedModel | undefined): void => {
    if (m === undefined) return;
    m.refs -= 1;
    if (m.refs === 0) {
      disposeTensors(m.state);
      evalCache.delete(m.id);
    }
  };
  const evalCache = new Map<number, { accuracy: number; loss: number; variances: number[] }>();

  const internals: Internals = { nodes: [], server: undefined, serverInbox: new Map(), counters, rows: restored?.dynamic.rows ?? { ticks: [], layers: [], nodes: [] } };
  const intervalAt = (node: number, step: number): number => {
    const [lo, hi] = config.trainInterval;
    return lo + derive(config.seed, 'interval', node, step).int(hi - lo + 1);
  };

  if (restored === undefined) {
    const init = (node: number): ModelState => lenet5.init(lenetConfig, seedFrom(derive(config.seed, 'init', node)), { scheme: config.initScheme });
    const sharedStart = config.mode === 'federated' || config.init === 'shared' ? share(init(0)) : undefined;
    if (config.mode === 'federated' && sharedStart !== undefined) internals.server = retain(sharedStart);
    for (let i = 0; i < n; i++) {
      internals.nodes.push({
        model: retain(sharedStart ?? share(init(i))),
        optimizer: createOptimizer(optimizerConfig),
        inbox: new Map(),
        // First step at a seeded offset in 1‥max so that nodes are not synchronized.
        nextTrain: 1 + derive(config.seed, 'offset', i).int(config.trainInterval[1]),
        trainSteps: 0,
        epoch: 0,
        position: 0,
      });
    }
  } else {
    const { dynamic, tensors } = restored;
    const models = new Map<number, SharedModel>();
    const modelById = (id: number): SharedModel => {
      let m = models.get(id);
      if (m === undefined) {
        const params = new Map<string, tf.Tensor>();
        for (const name of paramNames) {
          const t = tensors.get(`model/${id}/${name}`);
          if (t === undefined) throw new Error(`${restored.path}: tensor model/${id}/${name} is missing`);
          params.set(name, t);
          tensors.delete(`model/${id}/${name}`);
        }
        m = share({ params, buffers: new Map() }, id);
        models.set(id, m);
      }
      return m;
    };
    if (dynamic.nodes.length !== n) throw new Error(`${restored.path}: ${dynamic.nodes.length} saved nodes, config says ${n}`);
    dynamic.nodes.forEach((saved, i) => {
      const optimizer = createOptimizer(optimizerConfig);
      const slots = new Map<string, tf.Tensor>();
      for (const [key, t] of tensors) if (key.startsWith(`slot/${i}/`)) slots.set(key.slice(`slot/${i}/`.length), t);
      optimizer.loadSlots(slots, saved.optimizerSteps);
      internals.nodes.push({
        model: retain(modelById(saved.model)),
        optimizer,
        inbox: new Map(saved.inbox.map(([sender, id]) => [sender, retain(modelById(id))])),
        nextTrain: saved.nextTrain,
        trainSteps: saved.trainSteps,
        epoch: saved.epoch,
        position: saved.position,
      });
    });
    if (dynamic.server !== null) internals.server = retain(modelById(dynamic.server));
    for (const [sender, id] of dynamic.serverInbox) internals.serverInbox.set(sender, retain(modelById(id)));
    for (const [key, t] of tensors) if (!key.startsWith('slot/')) throw new Error(`${restored.path}: unexpected tensor "${key}"`);
    else t.dispose();
  }

  /** The next `batchSize` indices of node i's cyclic stream of per-epoch permutations of its partition. */
  const nextBatch = (i: number): Int32Array => {
    const node = internals.nodes[i] as NodeState;
    const part = partitions[i] as Int32Array;
    if (part.length === 0) throw new Error(`simulation: node ${i} has no training examples (partition ${config.partition})`);
    const out = new Int32Array(config.batchSize);
    let order = permutation(part.length, derive(config.seed, 'batches', i, node.epoch));
    for (let j = 0; j < out.length; j++) {
      if (node.position >= part.length) {
        node.epoch += 1;
        node.position = 0;
        order = permutation(part.length, derive(config.seed, 'batches', i, node.epoch));
      }
      out[j] = part[order[node.position] as number] as number;
      node.position += 1;
    }
    return out;
  };

  const setModel = (node: NodeState, model: SharedModel): void => {
    retain(model);
    release(node.model);
    node.model = model;
  };

  const workers = resolveWorkers(options.workers, 'simulation workers');
  let pool: Promise<GradientPool> | undefined;
  const trainNodes = async (acting: readonly number[]): Promise<void> => {
    if (acting.length === 0) return;
    const batches = acting.map((i) => nextBatch(i));
    if (workers > 1 && config.engine === 'separate' && acting.length > 1) {
      // The acting nodes' gradients over the workers and this thread, each node's update here as
      // soon as its gradient is ready (while the workers compute others'). A node's update reads
      // only its own state and optimizer, so the order of the updates changes nothing.
      pool ??= createGradientPool(lenet5, lenetConfig, { train: data.train, preprocessing: PREPROCESSING }, { workers });
      const nodes = acting.map((i) => internals.nodes[i] as NodeState);
      await (await pool).forEachLossAndGradients(
        nodes.map((node, j) => ({ state: node.model.state, batch: batches[j] as Int32Array })),
        (j, computed) => {
          const node = nodes[j] as NodeState;
          const out = applyGradients(node.model.state, computed, node.optimizer, config.lr);
          tf.dispose([out.loss, out.correct]);
          setModel(node, share(out.state));
        },
      );
    } else if (config.engine === 'separate' || acting.length === 1) {
      acting.forEach((i, j) => {
        const node = internals.nodes[i] as NodeState;
        const batch = toTensors(data.train, batches[j] as Int32Array, PREPROCESSING);
        const out = trainStep(lenet5, lenetConfig, node.model.state, batch, node.optimizer, config.lr);
        tf.dispose([batch.x, batch.y, out.loss, out.correct]);
        setModel(node, share(out.state));
      });
    } else {
      // One batched step: stack params and momentum, one optimizer step on the stack, unstack.
      const k = acting.length;
      const b = config.batchSize;
      const pixels = data.train.height * data.train.width * data.train.channels;
      const xs = new Float32Array(k * b * pixels);
      const ys = new Int32Array(k * b);
      batches.forEach((indices, j) => {
        xs.set(toFloatArray(data.train, indices, PREPROCESSING), j * b * pixels);
        indices.forEach((index, m) => (ys[j * b + m] = data.train.labels[index] as number));
      });
      const x = tf.tensor4d(xs, [k * b, data.train.height, data.train.width, data.train.channels]);
      const y = tf.tensor2d(ys, [k, b], 'int32');
      const nodes = acting.map((i) => internals.nodes[i] as NodeState);
      const stacked = stackParams(nodes.map((node) => node.model.state), paramNames);
      const { loss, grads } = batchedLossAndGradients(lenetConfig, stacked, x, y);
      const slotMaps = nodes.map((node) => node.optimizer.slots());
      const optimizer = createOptimizer(optimizerConfig);
      // A missing momentum buffer equals a zero one: v = μ·0 + g = g, PyTorch's first step.
      const stackedSlots = new Map(
        paramNames.map((name) => {
          const key = `${name}.momentum`;
          return [key, tf.stack(slotMaps.map((s, j) => s.get(key) ?? tf.zerosLike((nodes[j] as NodeState).model.state.params.get(name) as tf.Tensor)))];
        }),
      );
      optimizer.loadSlots(stackedSlots, 1);
      const updated = optimizer.step(stacked, grads, config.lr);
      const newSlots = unstackParams(optimizer.slots());
      unstackParams(updated).forEach((params, j) => {
        const node = nodes[j] as NodeState;
        node.optimizer.loadSlots(newSlots[j] as Map<string, tf.Tensor>, node.optimizer.stepCount + 1);
        setModel(node, share({ params, buffers: new Map() }));
      });
      newSlots.forEach((m) => disposeTensors(m));
      slotMaps.forEach((m) => disposeTensors(m));
      optimizer.dispose();
      tf.dispose([x, y, loss, ...grads.values(), ...stacked.values(), ...updated.values(), ...stackedSlots.values()]);
    }
    for (const i of acting) {
      const node = internals.nodes[i] as NodeState;
      node.trainSteps += 1;
      node.nextTrain += intervalAt(i, node.trainSteps);
      counters.trainSteps += 1;
    }
  };

  const noteFactors = (factors: ReadonlyMap<string, number>): void => {
    counters.averagings += 1;
    for (const f of factors.values()) {
      counters.factorSum += f;
      counters.factorCount += 1;
    }
  };

  const communicate = (acting: readonly number[]): void => {
    if (config.mode === 'single') return;
    if (config.mode === 'gossip' && topology !== undefined) {
      for (const i of acting) {
        const node = internals.nodes[i] as NodeState;
        for (const j of topology.neighbors[i] ?? []) {
          const inbox = (internals.nodes[j] as NodeState).inbox;
          release(inbox.get(i));
          inbox.set(i, retain(node.model));
          counters.bytesSent += paramBytes;
        }
      }
      internals.nodes.forEach((node, j) => {
        const degree = topology.neighbors[j]?.length ?? 0;
        if (node.inbox.size < degree) return;
        const received = [...node.inbox.keys()].sort((a, b) => a - b).map((s) => (node.inbox.get(s) as SharedModel).state);
        const { state, factors } = rule(node.model.state, received, { spec });
        noteFactors(factors);
        for (const m of node.inbox.values()) release(m);
        node.inbox.clear();
        setModel(node, share(state));
      });
      return;
    }
    // federated
    for (const i of acting) {
      release(internals.serverInbox.get(i));
      internals.serverInbox.set(i, retain((internals.nodes[i] as NodeState).model));
      counters.bytesSent += paramBytes;
    }
    if (internals.serverInbox.size >= (config.clientsPerRound ?? n)) {
      const received = [...internals.serverInbox.keys()].sort((a, b) => a - b).map((s) => (internals.serverInbox.get(s) as SharedModel).state);
      const { state, factors } = federatedMean(received, { spec });
      noteFactors(factors);
      for (const m of internals.serverInbox.values()) release(m);
      internals.serverInbox.clear();
      const server = retain(share(state));
      release(internals.server);
      internals.server = server;
      for (const node of internals.nodes) setModel(node, server);
      counters.bytesSent += paramBytes * n;
    }
  };

  const evaluateModel = async (model: SharedModel): Promise<{ accuracy: number; loss: number; variances: number[] }> => {
    const cached = evalCache.get(model.id);
    if (cached !== undefined) return cached;
    const { test } = await evaluator.evaluate(model.state);
    const { accuracy, loss } = test as PointMetrics;
    const variances = weightLayers.map(({ name }) => meanAndVariance((model.state.params.get(name) as tf.Tensor).dataSync()).variance);
    const result = { accuracy, loss, variances };
    evalCache.set(model.id, result);
    return result;
  };

  const record = async (): Promise<TickRow> => {
    const tick = counters.tick;
    const perNode: { accuracy: number; loss: number; variances: number[] }[] = [];
    for (const node of internals.nodes) perNode.push(await evaluateModel(node.model));
    const acc = perNode.map((m) => m.accuracy);
    const loss = perNode.map((m) => m.loss);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const row: TickRow = {
      series: config.series,
      tick,
      accuracyMean: mean(acc),
      accuracyMin: Math.min(...acc),
      accuracyMax: Math.max(...acc),
      lossMean: mean(loss),
      lossMin: Math.min(...loss),
      lossMax: Math.max(...loss),
      correctionFactor: counters.factorCount > 0 ? counters.factorSum / counters.factorCount : null,
      averagings: counters.averagings,
      trainSteps: counters.trainSteps,
      bytesSent: counters.bytesSent,
    };
    counters.factorSum = 0;
    counters.factorCount = 0;
    counters.averagings = 0;
    internals.rows.ticks.push(row);
    weightLayers.forEach(({ layer }, l) => {
      const layerRow: LayerStatRow = { tick, layer, variance: mean(perNode.map((m) => m.variances[l] as number)), series: config.series };
      internals.rows.layers.push(layerRow);
    });
    perNode.forEach((m, node) => {
      const nodeRow: NodeRow = { series: config.series, tick, node, accuracy: m.accuracy, loss: m.loss };
      internals.rows.nodes.push(nodeRow);
    });
    return row;
  };

  const recordedAt = (tick: number) => internals.rows.ticks.some((r) => r.tick === tick);
  let disposed = false;

  const simulation: Simulation = {
    config,
    topology,
    get tick() {
      return counters.tick;
    },
    rows: () => ({ ticks: [...internals.rows.ticks], layers: [...internals.rows.layers], nodes: [...internals.rows.nodes] }),
    async run(untilTick = config.ticks, runOptions = {}) {
      if (disposed) throw new Error('simulation: run() after dispose()');
      const progress = runOptions.progress ?? options.progress;
      if (counters.tick === 0 && !recordedAt(0)) await record();
      while (counters.tick < untilTick) {
        if (options.signal?.aborted === true) break;
        counters.tick += 1;
        const tick = counters.tick;
        const acting: number[] = [];
        internals.nodes.forEach((node, i) => {
          if (node.nextTrain === tick) acting.push(i);
        });
        await trainNodes(acting);
        communicate(acting);
        if (tick % config.recordEvery === 0 || tick === config.ticks) {
          const last = await record();
          const metrics = Object.fromEntries(Object.entries(last).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
          progress?.({ task: 'simulate', step: tick, total: untilTick, message: `acc ${(last.accuracyMean * 100).toFixed(1)}%`, metrics });
          await runOptions.onRecord?.();
        } else if (tick % 10 === 0) {
          progress?.({ task: 'simulate', step: tick, total: untilTick });
        }
      }
    },
    async save(path) {
      const tensors = new Map<string, SafetensorsTensorToWrite>();
      const addModel = (m: SharedModel): number => {
        if (!tensors.has(`model/${m.id}/${paramNames[0] as string}`)) {
          for (const [name, t] of m.state.params) tensors.set(`model/${m.id}/${name}`, { shape: t.shape, data: t.dataSync() });
        }
        return m.id;
      };
      const nodes: SavedNode[] = internals.nodes.map((node, i) => {
        const slots = node.optimizer.slots();
        for (const [name, t] of slots) tensors.set(`slot/${i}/${name}`, { shape: t.shape, data: t.dataSync() });
        disposeTensors(slots);
        return {
          model: addModel(node.model),
          inbox: [...node.inbox].map(([sender, m]) => [sender, addModel(m)] as [number, number]),
          nextTrain: node.nextTrain,
          trainSteps: node.trainSteps,
          epoch: node.epoch,
          position: node.position,
          optimizerSteps: node.optimizer.stepCount,
        };
      });
      const dynamic: SavedDynamic = {
        counters: { ...counters },
        nodes,
        server: internals.server === undefined ? null : addModel(internals.server),
        serverInbox: [...internals.serverInbox].map(([sender, m]) => [sender, addModel(m)] as [number, number]),
        rows: internals.rows,
        dataset: { train: data.train.dataset, trainCount: data.train.count, test: data.test.dataset, testCount: data.test.count },
      };
      await writeSafetensors(path, tensors, { format: STATE_FORMAT, config: JSON.stringify(config), dynamic: JSON.stringify(dynamic) });
    },
    nodeState: (node) => {
      const state = internals.nodes[node];
      if (state === undefined) throw new Error(`simulation: node ${node} is outside 0‥${n - 1}`);
      return state.model.state;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      // Terminating starts at once; nothing waits on the pool afterwards.
      void pool?.then((p) => p.close(), () => undefined);
      for (const node of internals.nodes) {
        for (const m of node.inbox.values()) release(m);
        node.inbox.clear();
        release(node.model);
        node.optimizer.dispose();
      }
      for (const m of internals.serverInbox.values()) release(m);
      release(internals.server);
      evaluator.dispose();
      for (const chunk of testChunks) tf.dispose([chunk.x, chunk.y]);
    },
  };
  return simulation;
}

/** The config fields a resumed run must share with the saved one (the rest may change, e.g. `ticks`). */
const RESUME_KEYS = ['mode', 'nodes', 'topology', 'partition', 'averaging', 'seed', 'init'] as const;
/** How to start over instead of resuming, in library terms (the CLI says `--no-resume`). */
const RESTART = 'give another statePath';

export interface RunSimulationOptions extends SimulationOptions {
  /** State file: resumed from when it exists, written atomically at every record. */
  readonly statePath?: string;
  /** Save every this many records (default 1). */
  readonly saveEveryRecords?: number;
}

/**
 * Runs a simulation to `config.ticks`, resuming from `statePath` when that file exists, saving
 * there as it goes; returns the rows.
 */
export async function runSimulation(raw: Partial<SimulationConfig>, data: SimulationData, options: RunSimulationOptions = {}): Promise<SimulationRows> {
  const config = resolveSimulationConfig(raw);
  const path = options.statePath;
  // Temporary files of a state write that a kill interrupted.
  if (path !== undefined && existsSync(path)) await removeStaleTempFiles(dirname(path), basename(path));
  const sim = path !== undefined && existsSync(path) ? await loadSimulation(path, data, { ...options, ticks: config.ticks }) : createSimulation(config, data, options);
  try {
    if (path !== undefined && existsSync(path)) {
      const pick = (c: SimulationConfig): Record<string, unknown> => Object.fromEntries(RESUME_KEYS.map((key) => [key, c[key]]));
      const differences = recipeDifferences(pick(sim.config), pick(config));
      if (differences.length > 0) throw resumeError({ file: path, folder: path, reason: 'was saved by a run with another config', differences }, RESTART);
    }
    let records = 0;
    const every = options.saveEveryRecords ?? 1;
    await sim.run(config.ticks, {
      ...(options.progress === undefined ? {} : { progress: options.progress }),
      onRecord: async () => {
        records += 1;
        if (path !== undefined && records % every === 0) await sim.save(path);
      },
    });
    if (path !== undefined) await sim.save(path);
    return sim.rows();
  } finally {
    sim.dispose();
  }
}
