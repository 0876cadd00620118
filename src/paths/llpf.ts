/**
 * Layer-wise path finding (LLPF; Tian, Al-Ars, Kitsak, Hofstee, "Low-Loss Space in Neural Networks
 * is Continuous and Fully Connected", and "Connecting Independently Trained Modes via Layer-Wise
 * Connectivity"): a path of trained points from a start model towards a target. Each tick:
 *
 *   1. move every active unit one step towards its destination (llpf-move.ts);
 *   2. project every parameter tensor to the start model's variance,
 *      W′ = mean(W) + (W − mean(W))·√((v + ε)/(Var(W) + ε)), ε = 1e-4 (BN running stats excluded);
 *   3. train all parameters with plain SGD until the moving average (window = minIterations) of the
 *      training loss is ≤ lossThreshold, within [minIterations, maxIterations] iterations;
 *   4. project again; every `recordEvery` ticks record the point, its loss/accuracy, weight norm,
 *      distance to the target, and the highest loss on the segment from the previous recorded point.
 *
 * Following the reference code (twoentartian/DFL_torch, find_high_accuracy_path_v2): the variance
 * projection is done only for model and point targets (towards the origin, infinity or the mean it
 * would undo the move, and towards a variance sphere it would pull back to the start sphere);
 * instead, for origin/infinity/mean, each weight tensor's learning rate is scaled by
 * Var(P_l)/Var(start_l) every tick (their `across_vs_lr_policy = 'var'`; by default only in networks
 * with normalization layers, see `defaultLrVarianceScaling`), BatchNorm affine parameters are not
 * moved and LayerNorm ones move the opposite way.
 *
 * Schedule (the "layer-wise" part): a layer group moves from its first tick on; all tensors train.
 * Defaults come from the architecture's `llpfStages` (src/models/<name>/): LeNet5 all at 0; ResNet18 stem at 0, layer1 at 1·s, …, layer4 at 4·s, fc at 5·s
 * (s = stageTicks, default 2000: the paper's 2k, 4k, …, 10k); CCT non-block tensors at 0 and block i
 * at (i + 1)·s (s default 5000).
 *
 * The run is resumable: with `checkpoint`, the current point, tick and data position are written
 * atomically every `checkpoint.every` ticks and each recorded point once; `resume: true` continues
 * from there exactly as the uninterrupted run would (the data order is a pure function of the
 * iteration count, see BatchSource). The saved state records the run's recipe (fingerprints of the
 * start and target parameters, the step sizes, schedule, projection, training options and batches
 * per epoch, plus the caller's `recipe` fields), and a resume under another recipe is an error that
 * names the differing fields. `ticks` is not part of it: a longer run continues the same course.
 * The folder's files carry `format` (`modeconn-llpf-run` for
 * the state, `modeconn-llpf-point` for each recorded point) and `version` 1, in the one layout of
 * model states (`params/{name}`, `buffers/{name}`); the state's run record is checked field by
 * field on load. The finished path itself is saved like every path, with `savePath`
 * (saved-path.ts; `modeconn path llpf` writes it to the folder as path.safetensors).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { createEvaluator, type EvaluationData, type Evaluator, type EvaluatorOptions } from '../evaluate/evaluate.js';
import type { LlpfRow, Split } from '../rows/rows.js';
import { readSafetensors, writeSafetensors, type SafetensorsTensorToWrite } from '../checkpoint/safetensors.js';
import { projectToVariance, tensorVariances, VARIANCE_EPSILON } from '../averaging/variance-correction.js';
import { assertSameLayout, cloneTensors, disposeTensors, interpolateTensors } from '../models/tensor-map.js';
import { getArchitecture } from '../models/registry.js';
import type { Architecture, Model, ModelSpec, ModelState } from '../models/types.js';
import { foldBatchStats } from '../train/step.js';
import { createGradientPool, resolveWorkers, type GradientPool, type WorkerCount } from '../train/gradient-pool.js';
import { poolDataOf, withPoolBatch, type BatchSource } from './batch-source.js';
import {
  destination,
  fixedDestination,
  hostParams,
  moveUnit,
  movementUnits,
  sphereRadii,
  type HostTensors,
  type LlpfTarget,
} from './llpf-move.js';
import type { ParameterPath, PathResult } from './path.js';
import type { Progress } from '../progress.js';
import { removeStaleTempFiles } from '../util/atomic-write.js';
import { recipeDifferences, resumeError, tensorFingerprint, type Recipe } from '../util/resume-check.js';

export type { LlpfTarget } from './llpf-move.js';

export interface LlpfTrainingOptions {
  /** SGD learning rate (default 0.001, the paper's LeNet5 setting). */
  readonly lr?: number;
  /** At least this many iterations per tick; also the moving-average window (default 5). */
  readonly minIterations?: number;
  /** At most this many iterations per tick (default 100). */
  readonly maxIterations?: number;
  /** Stop once the moving average of the training loss is ≤ this (default 0.02). */
  readonly lossThreshold?: number;
  /**
   * Scale each weight's lr by Var(P_l)/Var(start_l) (default `defaultLrVarianceScaling`: for
   * origin/infinity/mean targets of networks with normalization layers, whose weights before a
   * BatchNorm/LayerNorm are scale-invariant, so a shrunk weight needs a proportionally smaller step).
   */
  readonly lrVarianceScaling?: boolean;
  /** BatchNorm momentum of the running statistics during training (default 0.1). */
  readonly bnMomentum?: number;
}

export interface LlpfOptions {
  /** Number of ticks to run (the last tick is always recorded). */
  readonly ticks: number;
  /** Fixed step length step_f (default 0). */
  readonly stepFixed?: number;
  /** Adaptive step fraction step_a of the remaining distance (default 0.001). */
  readonly stepAdaptive?: number;
  /** Move a layer's weight and bias as one vector (default true). */
  readonly mergeBiasWithWeight?: boolean;
  /** First tick of every layer group (default `defaultLlpfSchedule`). Groups not listed move from 0. */
  readonly schedule?: ReadonlyMap<string, number>;
  /** Ticks between stages of the default schedule (ResNet18 2000, CCT 5000). */
  readonly stageTicks?: number;
  /** Training after each move, or false for none (default: the LlpfTrainingOptions defaults). */
  readonly training?: LlpfTrainingOptions | false;
  /** Project to the start model's per-tensor variance (default: model and point targets only). */
  readonly project?: boolean;
  /** ε of the projection (default 1e-4). */
  readonly epsilon?: number;
  /** Record a point every this many ticks (default 10). */
  readonly recordEvery?: number;
  /** Interior points evaluated on each segment between recorded points (default 3; 0 = skip). */
  readonly segmentPoints?: number;
  /** Options of the evaluation (splits, BN re-estimation). */
  readonly evaluator?: EvaluatorOptions;
  /** Write a resumable state to `directory` every `every` ticks. */
  readonly checkpoint?: { readonly directory: string; readonly every: number };
  /** Continue from the state in `checkpoint.directory` when there is one (default false). */
  readonly resume?: boolean;
  /** Called after every tick: task `llpf`, step = tick, total = ticks, metrics `tick` and `iterations`. */
  readonly progress?: Progress;
  /**
   * Further fields that decide the run and that `runLlpf` cannot see (e.g. the dataset, the batch
   * size and seed of `data.train`), recorded with the state and compared on resume.
   */
  readonly recipe?: Recipe;
  /**
   * Checked after every tick: once aborted, the state is saved (with `checkpoint`) and the run so far
   * is returned with `completed: false`, to be continued later with `resume`.
   */
  readonly signal?: AbortSignal;
  /**
   * Worker threads computing each training iteration's gradient data-parallel (default 1: this
   * thread, as before). `auto`: one per core on wasm and cpu. BatchNorm networks normalize with
   * per-shard batch statistics above 1 (src/train/gradient-pool.ts).
   */
  readonly workers?: WorkerCount;
}

export interface LlpfData {
  /** Training minibatches (needed unless training is false). */
  readonly train?: BatchSource;
  /** Fixed evaluation subset; without it, rows carry no loss/accuracy (NaN). */
  readonly evaluation?: EvaluationData;
}

/** One recorded point of the path. */
export interface LlpfPoint {
  readonly tick: number;
  readonly state: ModelState;
}

export interface LlpfRun<Config = unknown> {
  readonly architecture: string;
  readonly config: Config;
  /** Recorded points, tick 0 (the start) first. The run owns them; `disposeLlpfRun` frees them. */
  readonly points: LlpfPoint[];
  /** One row per recorded point and evaluated split. */
  readonly rows: LlpfRow[];
  /** SGD iterations done in total. */
  readonly iterations: number;
  /** The current (last) point; owned by the run. */
  readonly current: ModelState;
  /** Last tick done. */
  readonly tick: number;
  /** False when stopped early by `signal`. */
  readonly completed: boolean;
}

/**
 * Default first tick of each layer group: stage index × stageTicks, from the architecture's
 * `llpfStages` (see the file comment); every group at 0 for an architecture without them.
 */
export function defaultLlpfSchedule(architecture: string | Architecture<unknown>, spec: ModelSpec, stageTicks?: number): Map<string, number> {
  const stages = (typeof architecture === 'string' ? getArchitecture(architecture) : architecture).llpfStages;
  const out = new Map<string, number>();
  for (const g of spec.layers) out.set(g.name, stages === undefined ? 0 : stages.stageOf(g.name) * (stageTicks ?? stages.defaultStageTicks));
  return out;
}

const STATE_FILE = 'llpf-state.safetensors';
const pointFile = (tick: number): string => `llpf-point-${tick}.safetensors`;

function toWritable(state: ModelState): Map<string, SafetensorsTensorToWrite> {
  const out = new Map<string, SafetensorsTensorToWrite>();
  for (const [n, t] of state.params) out.set(`params/${n}`, { shape: t.shape, data: t.dataSync() });
  for (const [n, t] of state.buffers) out.set(`buffers/${n}`, { shape: t.shape, data: t.dataSync() });
  return out;
}

async function readState(path: string, like: ModelState): Promise<ModelState> {
  const { tensors } = await readSafetensors(path);
  const load = (prefix: string, map: ModelState['params']): Map<string, tf.Tensor> =>
    new Map(
      [...map].map(([n, t]) => {
        const s = tensors.get(`${prefix}/${n}`);
        if (s === undefined) throw new Error(`LLPF resume: ${path} has no tensor "${prefix}/${n}"`);
        if (s.shape.join('x') !== t.shape.join('x')) throw new Error(`LLPF resume: "${prefix}/${n}" in ${path} is [${s.shape.join(', ')}], expected [${t.shape.join(', ')}]`);
        return [n, tf.tensor(s.data, [...s.shape])];
      }),
    );
  return { params: load('params', like.params), buffers: load('buffers', like.buffers) };
}

interface SavedMeta {
  /** Absent in states written before recipes were recorded. */
  readonly recipe?: Recipe;
  readonly tick: number;
  readonly iterations: number;
  readonly rows: LlpfRow[];
  readonly pointTicks: number[];
}

/** `format` and `version` of the run folder's state file (older files without them read as version 0, the same layout). */
export const LLPF_RUN_FORMAT = 'modeconn-llpf-run';
const LLPF_RUN_VERSION = '1';
const LLPF_POINT_FORMAT = 'modeconn-llpf-point';

const ROW_NUMBERS = ['tick', 'weightNorm', 'distanceToTarget', 'loss', 'accuracy'] as const;

/**
 * The run metadata of a state file, checked field by field (errors name the file and the field).
 * JSON turns NaN (rows without evaluation data) into null; it comes back as NaN.
 */
function parseMeta(path: string, metadata: Readonly<Record<string, string>>): SavedMeta {
  const format = metadata.format;
  if (format !== undefined && format !== LLPF_RUN_FORMAT) throw new Error(`${path}: not an LLPF run state (metadata format is "${format}", expected "${LLPF_RUN_FORMAT}")`);
  if (format !== undefined && metadata.version !== LLPF_RUN_VERSION) {
    throw new Error(`${path}: LLPF run state version ${metadata.version ?? '(missing)'} is not supported (expected ${LLPF_RUN_VERSION})`);
  }
  const raw = metadata.llpf;
  if (raw === undefined) throw new Error(`${path} has no "llpf" metadata`);
  let value: unknown;
  try {
    value = JSON.parse(raw, (key, v: unknown) => ((key === 'loss' || key === 'accuracy') && v === null ? NaN : v));
  } catch {
    throw new Error(`${path}: metadata field "llpf" is not valid JSON`);
  }
  const bad = (field: string, expected: string): Error => new Error(`${path}: metadata field "llpf" must have ${field} (${expected})`);
  if (typeof value !== 'object' || value === null) throw bad('an object', 'tick, iterations, rows, pointTicks');
  const meta = value as Record<string, unknown>;
  const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!count(meta.tick)) throw bad('"tick"', 'an integer ≥ 0');
  if (!count(meta.iterations)) throw bad('"iterations"', 'an integer ≥ 0');
  if (!Array.isArray(meta.pointTicks) || !meta.pointTicks.every(count)) throw bad('"pointTicks"', 'a list of integers ≥ 0');
  const isRow = (row: unknown): boolean =>
    typeof row === 'object' && row !== null && typeof (row as Record<string, unknown>).split === 'string' && ROW_NUMBERS.every((f) => typeof (row as Record<string, unknown>)[f] === 'number');
  if (!Array.isArray(meta.rows) || !meta.rows.every(isRow)) throw bad('"rows"', `a list of rows with split, ${ROW_NUMBERS.join(', ')}`);
  const recipe = typeof meta.recipe === 'object' && meta.recipe !== null && !Array.isArray(meta.recipe) ? { recipe: meta.recipe as Recipe } : {};
  return { ...recipe, tick: meta.tick, iterations: meta.iterations, rows: meta.rows as LlpfRow[], pointTicks: meta.pointTicks };
}

function l2Distance(a: HostTensors, b: HostTensors): number {
  let s = 0;
  for (const [n, v] of a) {
    const w = b.get(n) as Float32Array;
    for (let i = 0; i < v.length; i++) s += ((v[i] as number) - (w[i] as number)) ** 2;
  }
  return Math.sqrt(s);
}

function l2Norm(a: HostTensors): number {
  let s = 0;
  for (const v of a.values()) for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
  return Math.sqrt(s);
}

/**
 * Whether LLPF scales each weight's learning rate by Var(P_l)/Var(start_l) unless told: for origin,
 * infinity and mean targets of networks with normalization parameters (the reference code's
 * `across_vs_lr_policy = 'var'`, ALGORITHMS.md §5 "BN/LN"). A weight followed by BatchNorm or
 * LayerNorm is scale-invariant, its gradient grows as it shrinks, and the scaled lr keeps the step
 * in proportion. Without normalization (LeNet5) the gradients do not grow and the scaling starves
 * the shrunk layers while the others take larger steps: measured on LeNet5 toward the origin
 * (figures/llpf-origin-lenet5), 250 ticks of step_a 0.01 end at ‖θ‖ 7.12 and test loss 0.504 with
 * it, 6.65 and 0.429 without.
 */
export function defaultLrVarianceScaling(spec: ModelSpec, target: LlpfTarget): boolean {
  const scaleMode = target.kind === 'origin' || target.kind === 'infinity' || target.kind === 'mean';
  return scaleMode && spec.params.some((p) => p.kind === 'norm-scale');
}

/**
 * Runs LLPF from `start` towards `target` and returns the recorded path.
 *
 * @example
 * const run = await runLlpf(lenet5, config, a, { kind: 'model', state: b }, { train, evaluation }, { ticks: 3000, recordEvery: 100 });
 * const rows = run.rows; const path = llpfPath(run);
 */
export async function runLlpf<Config>(
  arch: Architecture<Config>,
  config: Config,
  start: ModelState,
  target: LlpfTarget,
  data: LlpfData,
  options: LlpfOptions,
): Promise<LlpfRun<Config>> {
  // 1. Options and fixed quantities.
  const spec = arch.spec(config);
  const ticks = options.ticks;
  if (!Number.isInteger(ticks) || ticks < 0) throw new Error(`runLlpf: ticks must be an integer ≥ 0, found ${ticks}`);
  const stepFixed = options.stepFixed ?? 0;
  const stepAdaptive = options.stepAdaptive ?? 0.001;
  if (!(stepFixed >= 0 && stepAdaptive >= 0 && stepFixed + stepAdaptive > 0)) {
    throw new Error(`runLlpf: step sizes must be ≥ 0 and not both 0, found stepFixed ${stepFixed}, stepAdaptive ${stepAdaptive}`);
  }
  const recordEvery = options.recordEvery ?? 10;
  if (!Number.isInteger(recordEvery) || recordEvery < 1) throw new Error(`runLlpf: recordEvery must be a positive integer, found ${recordEvery}`);
  const segmentPoints = options.segmentPoints ?? 3;
  const epsilon = options.epsilon ?? VARIANCE_EPSILON;
  const project = options.project ?? (target.kind === 'model' || target.kind === 'point');
  const training = options.training === false ? undefined : (options.training ?? {});
  const lr = training?.lr ?? 0.001;
  const minIterations = training?.minIterations ?? 5;
  const maxIterations = training?.maxIterations ?? 100;
  const lossThreshold = training?.lossThreshold ?? 0.02;
  const lrScaling = training?.lrVarianceScaling ?? defaultLrVarianceScaling(spec, target);
  if (training !== undefined && data.train === undefined) throw new Error('runLlpf: training is on but data.train (a BatchSource) is missing');
  if (training !== undefined && !(Number.isInteger(minIterations) && minIterations >= 1 && maxIterations >= minIterations)) {
    throw new Error(`runLlpf: need 1 ≤ minIterations ≤ maxIterations, found ${minIterations} and ${maxIterations}`);
  }
  if (options.checkpoint !== undefined && !(Number.isInteger(options.checkpoint.every) && options.checkpoint.every >= 1)) {
    throw new Error(`runLlpf: checkpoint.every must be a positive integer, found ${options.checkpoint.every}`);
  }
  const schedule = options.schedule ?? defaultLlpfSchedule(arch, spec, options.stageTicks);
  for (const name of schedule.keys()) {
    if (!spec.layers.some((g) => g.name === name)) throw new Error(`runLlpf: schedule names layer group "${name}", which ${arch.name} does not have`);
  }
  const specNames = spec.params.map((p) => p.name);
  assertSameLayout(new Map(specNames.map((n) => [n, start.params.get(n) as tf.Tensor])), start.params, 'runLlpf: start model vs architecture spec');
  const kinds = new Map(spec.params.map((p) => [p.name, p.kind]));
  const startHost = hostParams(start);
  const startVariances = tensorVariances(start.params);
  const fixed = fixedDestination(target, startHost);
  const radii = sphereRadii(target, startHost);
  const recipe: Recipe = {
    ...options.recipe,
    architecture: arch.name,
    config,
    start: tensorFingerprint(start.params, start.buffers),
    target: targetRecipe(target),
    stepFixed,
    stepAdaptive,
    mergeBiasWithWeight: options.mergeBiasWithWeight ?? true,
    schedule: Object.fromEntries(schedule),
    project,
    epsilon,
    recordEvery,
    segmentPoints,
    training: training === undefined ? false : { lr, minIterations, maxIterations, lossThreshold, lrVarianceScaling: lrScaling, bnMomentum: training.bnMomentum ?? 0.1 },
    trainBatchesPerEpoch: training === undefined ? null : (data.train?.batchesPerEpoch ?? null),
  };
  const evaluator: Evaluator | undefined = data.evaluation === undefined ? undefined : createEvaluator(arch, config, data.evaluation, options.evaluator ?? {});
  const workers = resolveWorkers(options.workers, 'runLlpf workers');
  let pool: GradientPool | undefined;

  // 2. Fresh start or resume.
  let current: ModelState = { params: new Map([...start.params].map(([n, t]) => [n, t.clone()])), buffers: new Map([...start.buffers].map(([n, t]) => [n, t.clone()])) };
  let tick = 0;
  let iterations = 0;
  const rows: LlpfRow[] = [];
  const points: LlpfPoint[] = [];
  const dir = options.checkpoint?.directory;
  const resumed = options.resume === true && dir !== undefined && existsSync(join(dir, STATE_FILE));
  const evaluatePoint = async (state: ModelState): Promise<Partial<Record<Split, { loss: number; accuracy: number }>>> =>
    evaluator === undefined ? {} : await evaluator.evaluate(state);

  const record = async (state: ModelState, atTick: number, previous: ModelState | undefined): Promise<void> => {
    const host = hostParams(state);
    const d = destination(target, host, fixed, radii);
    const metrics = await evaluatePoint(state);
    const segmentMax: Partial<Record<Split, number>> = {};
    if (previous !== undefined && segmentPoints > 0 && evaluator !== undefined) {
      for (let k = 1; k <= segmentPoints; k++) {
        const t = k / (segmentPoints + 1);
        const mid: ModelState = { params: interpolateTensors(previous.params, state.params, t), buffers: interpolateTensors(previous.buffers, state.buffers, t) };
        try {
          const m = await evaluatePoint(mid);
          for (const [split, value] of Object.entries(m) as [Split, { loss: number }][]) {
            const prev = segmentMax[split];
            segmentMax[split] = prev === undefined || !(prev >= value.loss) ? value.loss : prev;
          }
        } finally {
          disposeTensors(mid);
        }
      }
    }
    const base = { tick: atTick, weightNorm: l2Norm(host), distanceToTarget: l2Distance(host, d) };
    const splits = Object.entries(metrics) as [Split, { loss: number; accuracy: number }][];
    if (splits.length === 0) rows.push({ ...base, split: 'train', loss: NaN, accuracy: NaN });
    for (const [split, m] of splits) {
      const seg = segmentMax[split];
      rows.push({ ...base, split, loss: m.loss, accuracy: m.accuracy, ...(seg === undefined ? {} : { segmentMaxLoss: Math.max(seg, m.loss) }) });
    }
    const copy: ModelState = { params: new Map([...state.params].map(([n, t]) => [n, t.clone()])), buffers: new Map([...state.buffers].map(([n, t]) => [n, t.clone()])) };
    points.push({ tick: atTick, state: copy });
    if (dir !== undefined) await writeSafetensors(join(dir, pointFile(atTick)), toWritable(copy), { format: LLPF_POINT_FORMAT, version: LLPF_RUN_VERSION, tick: String(atTick) });
  };

  const save = async (): Promise<void> => {
    if (dir === undefined) return;
    const meta: SavedMeta = { recipe, tick, iterations, rows, pointTicks: points.map((p) => p.tick) };
    await writeSafetensors(join(dir, STATE_FILE), toWritable(current), { format: LLPF_RUN_FORMAT, version: LLPF_RUN_VERSION, llpf: JSON.stringify(meta) });
  };

  try {
    // In this thread at one worker: exactly step.ts's lossAndGradients.
    if (training !== undefined) pool = await createGradientPool(arch, config, poolDataOf(data.train), { workers });
    if (dir !== undefined) {
      await mkdir(dir, { recursive: true });
      // Temporary files of writes that a kill interrupted, whether this run resumes or starts over.
      await removeStaleTempFiles(dir, (name) => name === STATE_FILE || /^llpf-point-\d+\.safetensors$/.test(name));
    }
    if (resumed) {
      const path = join(dir, STATE_FILE);
      const startOver = 'run without resume';
      const unreadable = (error: unknown): Error => resumeError({ file: path, folder: dir, reason: `cannot be read (${(error as Error).message})`, differences: [] }, startOver);
      let meta: SavedMeta;
      try {
        meta = parseMeta(`LLPF resume: ${path}`, (await readSafetensors(path)).metadata);
      } catch (error) {
        throw unreadable(error);
      }
      if (meta.recipe !== undefined) {
        const differences = recipeDifferences(meta.recipe, recipe);
        if (differences.length > 0) throw resumeError({ file: path, folder: dir, reason: 'was written by a run with another recipe', differences }, startOver);
      }
      disposeTensors(current);
      current = await readState(path, start);
      tick = meta.tick;
      iterations = meta.iterations;
      rows.push(...meta.rows);
      for (const t of meta.pointTicks) points.push({ tick: t, state: await readState(join(dir, pointFile(t)), start) });
    } else {
      await record(current, 0, undefined);
      await save();
    }

    // 3. Ticks.
    while (tick < ticks) {
      tick += 1;
      // 3a. Move.
      const host = hostParams(current);
      const d = destination(target, host, fixed, radii);
      for (const unit of movementUnits(spec, target, tick - 1, schedule, options.mergeBiasWithWeight === undefined ? {} : { mergeBiasWithWeight: options.mergeBiasWithWeight })) {
        const moved = moveUnit(unit.names.map((n) => host.get(n) as Float32Array), unit.names.map((n) => d.get(n) as Float32Array), stepFixed, stepAdaptive, unit.away);
        unit.names.forEach((n, k) => host.set(n, moved.values[k] as Float32Array));
      }
      const movedParams = new Map([...current.params].map(([n, t]) => [n, tf.tensor(host.get(n) as Float32Array, t.shape)]));
      disposeTensors(current.params);
      current = { params: movedParams, buffers: current.buffers };
      // 3b. Project.
      if (project) current = projectState(current, startVariances, epsilon);
      // 3c. Train.
      if (training !== undefined && data.train !== undefined && pool !== undefined) {
        const gradientPool = pool;
        const lrs = new Map<string, number>();
        for (const [n, t] of current.params) {
          const v0 = startVariances.get(n);
          if (lrScaling && kinds.get(n) === 'weight' && v0 !== undefined && v0 > 0) {
            lrs.set(n, (lr * (tensorVariances(new Map([[n, t]])).get(n) as number)) / v0);
          } else lrs.set(n, lr);
        }
        const window: number[] = [];
        for (let it = 1; it <= maxIterations; it++) {
          const source = data.train;
          const state = current;
          const epoch = Math.floor(iterations / source.batchesPerEpoch);
          const { loss, grads, batchStats, correct } = await withPoolBatch(source, epoch, iterations % source.batchesPerEpoch, (batch) => gradientPool.lossAndGradients(state, batch));
          iterations += 1;
          const params = new Map([...current.params].map(([n, p]) => [n, tf.tidy(() => tf.sub(p, tf.mul(grads.get(n) as tf.Tensor, lrs.get(n) as number)))]));
          const buffers = current.buffers.size === 0 ? new Map<string, tf.Tensor>() : foldBatchStats(current.buffers, batchStats, training.bnMomentum ?? 0.1);
          const lossValue = loss.dataSync()[0] as number;
          tf.dispose([loss, correct, ...grads.values(), ...batchStats.values()]);
          disposeTensors(current);
          current = { params, buffers };
          window.push(lossValue);
          if (window.length > minIterations) window.shift();
          const average = window.reduce((a, b) => a + b, 0) / window.length;
          if (it >= minIterations && average <= lossThreshold) break;
        }
        // 3d. Project again.
        if (project) current = projectState(current, startVariances, epsilon);
      }
      // 3e. Record and save.
      if (tick % recordEvery === 0 || tick === ticks) await record(current, tick, points.at(-1)?.state);
      if (options.checkpoint !== undefined && (tick % options.checkpoint.every === 0 || tick === ticks)) await save();
      options.progress?.({ task: 'llpf', step: tick, total: ticks, message: `tick ${tick}/${ticks}`, metrics: { tick, iterations } });
      if (options.signal?.aborted === true && tick < ticks) {
        await save();
        return { architecture: arch.name, config, points, rows, iterations, current, tick, completed: false };
      }
    }
    return { architecture: arch.name, config, points, rows, iterations, current, tick, completed: true };
  } catch (error) {
    for (const p of points) disposeTensors(p.state);
    disposeTensors(current);
    throw error;
  } finally {
    await pool?.close();
    evaluator?.dispose();
  }
}

/** What identifies a target in a recipe: its kind, factor, and fingerprints of its states' parameters. */
function targetRecipe(target: LlpfTarget): Recipe {
  if (target.kind === 'origin') return { kind: target.kind };
  if (target.kind === 'infinity') return { kind: target.kind, factor: target.factor ?? null };
  if (target.kind === 'mean') return { kind: target.kind, states: target.states.map((s) => tensorFingerprint(s.params)) };
  return { kind: target.kind, state: tensorFingerprint(target.state.params) };
}

/** The state with its parameters projected to the given variances (old parameters disposed). */
function projectState(state: ModelState, variances: ReadonlyMap<string, number>, epsilon: number): ModelState {
  const params = projectToVariance(state.params, variances, epsilon);
  disposeTensors(state.params);
  return { params, buffers: state.buffers };
}

/** Frees the points and current state of a run. */
export function disposeLlpfRun(run: LlpfRun): void {
  for (const p of run.points) disposeTensors(p.state);
  disposeTensors(run.current);
}

/**
 * The recorded points as a ParameterPath: piecewise linear in the tick, t = tick / last tick.
 * The path takes the run over: its `dispose()` frees the run (do not dispose the run as well).
 */
export function llpfPath(run: LlpfRun): ParameterPath {
  const points = run.points;
  if (points.length === 0) throw new Error('llpfPath: the run has no recorded points');
  const last = (points.at(-1) as LlpfPoint).tick;
  let disposed = false;
  const alive = (what: string): void => {
    if (disposed) throw new Error(`llpfPath: ${what} called after dispose()`);
  };
  return {
    kind: 'llpf',
    architecture: run.architecture,
    config: run.config,
    pointAt(t) {
      alive('pointAt');
      if (!(t >= 0 && t <= 1)) throw new Error(`llpfPath: t must be in [0, 1], found ${t}`);
      const at = t * last;
      let k = 0;
      while (k < points.length - 2 && (points[k + 1] as LlpfPoint).tick < at) k++;
      const a = points[k] as LlpfPoint;
      const b = points[Math.min(k + 1, points.length - 1)] as LlpfPoint;
      const local = b.tick === a.tick ? 0 : Math.min(1, Math.max(0, (at - a.tick) / (b.tick - a.tick)));
      return { params: interpolateTensors(a.state.params, b.state.params, local), buffers: interpolateTensors(a.state.buffers, b.state.buffers, local) };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      disposeLlpfRun(run);
    },
    content() {
      alive('content()');
      const states = new Map(points.map((p, k) => [`point${k}`, { params: cloneTensors(p.state.params), buffers: cloneTensors(p.state.buffers) }]));
      return { method: 'llpf', states, fields: { ticks: points.map((p) => p.tick) } };
    },
  };
}

/** How an LLPF path was made: one row per recorded point and split, the SGD iterations, the last tick. */
export interface LlpfInfo {
  readonly rows: LlpfRow[];
  readonly iterations: number;
  readonly tick: number;
}

/**
 * LLPF in the shape of every path method (path.ts): `runLlpf` from `start` towards `target`, and
 * its recorded points as a path (kind `llpf`, see `llpfPath`). `start` and the target's models
 * stay the caller's; the path owns the recorded points. Stopped by `signal`, the path ends at the
 * last recorded point (`completed: false`); with `checkpoint`, `resume: true` continues the run.
 *
 * @example
 * const { path, info } = await findLlpfPath(lenet5, { start: a, target: { kind: 'model', state: b } }, { train, evaluation }, { ticks: 3000, recordEvery: 100 });
 */
export async function findLlpfPath<Config>(
  architecture: Architecture<Config>,
  endpoints: { readonly start: Model<Config>; readonly target: LlpfTarget },
  data: LlpfData,
  options: LlpfOptions,
): Promise<PathResult<LlpfInfo>> {
  const { start, target } = endpoints;
  if (start.architecture !== architecture.name) throw new Error(`findLlpfPath: the start is a ${start.architecture} model, the architecture given is ${architecture.name}`);
  const run = await runLlpf(architecture, start.config, start, target, data, options);
  return { path: llpfPath(run), completed: run.completed, info: { rows: run.rows, iterations: run.iterations, tick: run.tick } };
}

/** Reads the saved rows of a checkpointed run (for reports without re-running). */
export async function readLlpfRows(directory: string): Promise<LlpfRow[]> {
  const path = join(directory, STATE_FILE);
  const { metadata } = await readSafetensors(path);
  return parseMeta(`readLlpfRows: ${path}`, metadata).rows;
}

// Exported for tests of the file layout.
export const LLPF_FILES = { state: STATE_FILE, point: pointFile } as const;

/**
 * The path of a run checkpointed to `directory` (`checkpoint.directory` of `runLlpf`, the output
 * folder of `modeconn path llpf`), piecewise linear through its recorded points. `template` (a
 * model of the same architecture, e.g. the start checkpoint) gives names, shapes and config.
 */
export async function loadLlpfPath<Config>(directory: string, template: Model<Config>): Promise<ParameterPath> {
  const statePath = join(directory, STATE_FILE);
  if (!existsSync(statePath)) throw new Error(`${directory} is not an LLPF run folder (no ${STATE_FILE})`);
  const { metadata } = await readSafetensors(statePath);
  const meta = parseMeta(statePath, metadata);
  const points: LlpfPoint[] = [];
  try {
    for (const tick of meta.pointTicks) points.push({ tick, state: await readState(join(directory, pointFile(tick)), template) });
  } catch (error) {
    for (const p of points) disposeTensors(p.state);
    throw error;
  }
  const current = points.at(-1)?.state;
  if (current === undefined) throw new Error(`${directory}: the run has no recorded points`);
  return llpfPath({
    architecture: template.architecture,
    config: template.config,
    points,
    rows: meta.rows,
    iterations: meta.iterations,
    current,
    tick: meta.tick,
    completed: true,
  });
}
