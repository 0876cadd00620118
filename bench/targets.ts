/**
 * The pure half of `npm run bench` (bench.ts): which workloads the issue 11 §4 targets table has,
 * how repeated measurements become one figure (median), how the machine's other load is measured
 * and marked, and how a row and the markdown table are assembled. No timing, no I/O.
 *
 * Load: a figure is trusted only if the rest of the machine was idle while it was measured.
 * The 1-minute load average cannot tell: it counts the bench's own threads (2 workers on 2 cores
 * read ≈ 2). So every measurement records the CPU every *other* process used,
 *
 *   other cores = (Δ busy jiffies of all CPUs (/proc/stat) / CLK_TCK − Δ CPU time of this process tree) / Δ wall,
 *
 * and a figure whose repeats average more than {@link LOADED_OTHER_CORES} is marked LOADED. The
 * load average is printed beside it as well.
 */

import { architectureEntry, type ArchitectureEntry } from '../scripts/figures/architecture-entries.js';

/** Other processes above this many cores on average during a figure's runs mark it LOADED. */
export const LOADED_OTHER_CORES = 0.25;

/** A PyTorch figure below this fraction of the issue's quiet reference is a failed measurement. */
export const FAILED_TORCH_FRACTION = 0.5;

/** One run of one measurement. */
export interface Sample {
  /** The workload's figure: images/s, node-steps/s or seconds (see the workload's unit). */
  readonly value: number;
  /** Cores used by other processes during the run (module doc). */
  readonly otherCores: number;
  /** 1-minute load average at the end of the run. */
  readonly loadAverage: number;
}

/** N runs of one measurement as one figure. */
export interface Figure {
  /** Median of the runs' values. */
  readonly value: number;
  readonly runs: number;
  /** Mean of the runs' other-process cores. */
  readonly otherCores: number;
  /** Highest 1-minute load average seen at the end of a run. */
  readonly loadAverage: number;
  /** Whether other processes used more than LOADED_OTHER_CORES on average. */
  readonly loaded: boolean;
}

/** Median of `values` (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The figure of `samples` (median value, mean other load, marked LOADED above the threshold). */
export function summarize(samples: readonly Sample[]): Figure | undefined {
  if (samples.length === 0) return undefined;
  const otherCores = samples.reduce((s, x) => s + x.otherCores, 0) / samples.length;
  return {
    value: median(samples.map((s) => s.value)),
    runs: samples.length,
    otherCores,
    loadAverage: Math.max(...samples.map((s) => s.loadAverage)),
    loaded: otherCores > LOADED_OTHER_CORES,
  };
}

/** Busy jiffies of all CPUs from /proc/stat's first line: user + nice + system + irq + softirq + steal. */
export function busyJiffies(procStat: string): number {
  const line = procStat.split('\n', 1)[0] ?? '';
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'cpu') throw new Error(`/proc/stat: expected a first line starting with "cpu", found "${line.slice(0, 40)}"`);
  const n = fields.slice(1).map(Number);
  const at = (i: number): number => (Number.isFinite(n[i]) ? (n[i] as number) : 0);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  return at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
}

/** Cores other processes used over a window (module doc); never below 0 (clock granularity). */
export function otherCores(window: { readonly busyJiffies: number; readonly clockTicks: number; readonly ownCpuSeconds: number; readonly wallSeconds: number }): number {
  if (!(window.wallSeconds > 0)) return 0;
  return Math.max(0, (window.busyJiffies / window.clockTicks - window.ownCpuSeconds) / window.wallSeconds);
}

/** How a figure reads: a rate (higher is better) or a duration (lower is better). */
export type Unit = 'images/s' | 'node-steps/s' | 's';

/** A model of the step rows (train and eval at one batch size); one line per model, easy to extend. */
export interface StepModel {
  /** Bench id, also torch_bench.py's model name. */
  readonly id: string;
  /** Label in the table. */
  readonly label: string;
  readonly architecture: string;
  readonly config: unknown;
  readonly batch: number;
  /** §4 goals (ratio ours / PyTorch), where the issue sets one. */
  readonly goals?: { readonly train?: number; readonly eval?: number };
  /** The issue's quiet PyTorch images/s (1 thread), below half of which a PyTorch figure is a failed measurement. */
  readonly quietTorch?: { readonly train?: number; readonly eval?: number };
}

/** The step rows' models. */
export const STEP_MODELS: readonly StepModel[] = [
  { id: 'lenet5', label: 'LeNet5', architecture: 'lenet5', config: {}, batch: 128, goals: { train: 1.0, eval: 1.5 }, quietTorch: { train: 13_500, eval: 28_499 } },
  { id: 'resnet18-k0.25', label: 'ResNet18 k=1/4', architecture: 'resnet18', config: { width: 0.25 }, batch: 64, quietTorch: { train: 405, eval: 1_151 } },
  { id: 'resnet18-k1', label: 'ResNet18 k=1', architecture: 'resnet18', config: { width: 1 }, batch: 32, goals: { train: 0.4, eval: 0.8 }, quietTorch: { train: 39, eval: 131 } },
  { id: 'cct_2_3x2_32', label: 'CCT-2', architecture: 'cct', config: { preset: 'cct_2_3x2_32' }, batch: 64, goals: { train: 0.5, eval: 0.8 }, quietTorch: { train: 367, eval: 752 } },
];

/**
 * Which table a row belongs to: the issue 11 §4 targets, or the issue 14 families (eval and
 * train images/s beside PyTorch, reported with their ratio but with no goal of their own).
 */
export type Section = 'targets' | 'families';

/** The sections in table order; each name is also an `--only` selector. */
export const SECTIONS: readonly Section[] = ['targets', 'families'];

/** One row of the targets table. */
export interface Workload {
  /** Selector name (`--only` takes ids or their prefixes before a `-`). */
  readonly id: string;
  readonly section: Section;
  readonly label: string;
  readonly unit: Unit;
  /** ours / PyTorch ≥ goal (for `s`: PyTorch seconds / ours); for `self`: ours / ours on one thread. */
  readonly goal?: number;
  /** What the ratio compares: ours against PyTorch, or ours on all cores against ours on one thread. */
  readonly against: 'torch' | 'self';
  /** The issue's quiet PyTorch figure in `unit`, for the failed-measurement check. */
  readonly quietTorch?: number;
  /** Step model (step rows) or end-to-end workload (`e2e`). */
  readonly kind: { readonly step: StepModel; readonly mode: 'train' | 'eval' } | { readonly e2e: 'lenet5-epoch' | 'curve-e2e' | 'resnet-epoch' | 'simulator' };
}

/**
 * The families of issue 14 with a bench row: the comparison figure's entries
 * (scripts/figures/architecture-entries.ts) at the figure's widths, batch 64 like the other
 * small-width rows. No goals and no quiet PyTorch reference: the issue sets none.
 */
export const FAMILY_NAMES: readonly string[] = ['vgg16', 'mobilenetv2', 'shufflenetv2', 'shufflenet', 'regnetx200mf', 'efficientnet-b0', 'dla'];

/** The family rows' batch size (as ResNet18 k=1/4 and CCT-2). */
export const FAMILY_BATCH = 64;

/** "vgg16 (depth 16, width 0.25)": an entry's name and its config as the table shows it. */
export function familyLabel(entry: Pick<ArchitectureEntry, 'name' | 'config'>): string {
  return `${entry.name} (${Object.entries(entry.config).map(([k, v]) => `${k} ${String(v)}`).join(', ')})`;
}

/** The step models of the family rows: one per FAMILY_NAMES entry, its config the figure's. */
export const FAMILY_MODELS: readonly StepModel[] = FAMILY_NAMES.map((name) => {
  const entry = architectureEntry(name);
  return { id: entry.name, label: familyLabel(entry), architecture: entry.architecture, config: entry.config, batch: FAMILY_BATCH };
});

/** A train and an eval row per step model, in `section`. */
function stepWorkloads(models: readonly StepModel[], section: Section): Workload[] {
  return models.flatMap((m) =>
    (['train', 'eval'] as const).map((mode): Workload => {
      const goal = m.goals?.[mode];
      const quiet = m.quietTorch?.[mode];
      return {
        id: `${m.id}-${mode}`,
        section,
        label: `${m.label} ${mode === 'train' ? 'train step' : 'eval'} (batch ${m.batch})`,
        unit: 'images/s',
        against: 'torch',
        ...(goal === undefined ? {} : { goal }),
        ...(quiet === undefined ? {} : { quietTorch: quiet }),
        kind: { step: m, mode },
      };
    }),
  );
}

/** Every row of the targets table, in order: the step rows of STEP_MODELS, then the end-to-end workloads. */
export function targetWorkloads(models: readonly StepModel[] = STEP_MODELS): Workload[] {
  const section = 'targets';
  return [
    ...stepWorkloads(models, section),
    { id: 'lenet5-epoch', section, label: 'LeNet5 epoch, full Fashion-MNIST (60,000 images, batch 64)', unit: 's', against: 'torch', quietTorch: 60_000 / 13_500, kind: { e2e: 'lenet5-epoch' } },
    { id: 'curve-e2e', section, label: 'LeNet5 Bezier curve, 4 epochs full set + 61-point test evaluation, end to end', unit: 's', against: 'torch', goal: 1.0, quietTorch: 46, kind: { e2e: 'curve-e2e' } },
    { id: 'resnet-epoch', section, label: 'ResNet18 k=1/4, one epoch of 5,120 images, end to end (trainMode)', unit: 's', against: 'torch', goal: 0.5, quietTorch: 6.8, kind: { e2e: 'resnet-epoch' } },
    { id: 'simulator', section, label: 'simulator, 20 LeNet5 nodes, node-steps/s, workers 2 vs 1', unit: 'node-steps/s', against: 'self', goal: 1.8, kind: { e2e: 'simulator' } },
  ];
}

/** The family section's rows: a train and an eval row per model of FAMILY_MODELS, no goals. */
export function familyWorkloads(models: readonly StepModel[] = FAMILY_MODELS): Workload[] {
  return stepWorkloads(models, 'families');
}

/** Every row `npm run bench` knows: the targets table's, then the families'. */
export function allWorkloads(): Workload[] {
  return [...targetWorkloads(), ...familyWorkloads()];
}

/**
 * The workloads `only` selects: ids, prefixes up to a `-` (`lenet5` → lenet5-train, -eval,
 * -epoch), or a section's name (`families`: every family row; `targets`: the issue 11 table).
 */
export function selectWorkloads(workloads: readonly Workload[], only: string | undefined): Workload[] {
  if (only === undefined || only.trim() === '') return [...workloads];
  const wanted = only.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const matches = (x: Workload, w: string): boolean => x.section === w || x.id === w || x.id.startsWith(`${w}-`);
  const unknown = wanted.filter((w) => !workloads.some((x) => matches(x, w)));
  if (unknown.length > 0) {
    const sections = SECTIONS.filter((s) => workloads.some((x) => x.section === s));
    throw new Error(`--only: unknown workload ${unknown.join(', ')}; expected a section (${sections.join(', ')}), ids or prefixes of ${workloads.map((w) => w.id).join(', ')}`);
  }
  return workloads.filter((x) => wanted.some((w) => matches(x, w)));
}

/** Which BLAS PyTorch loaded, as torch_bench.py's env line reports it. */
export interface TorchBlas {
  readonly kind: string;
  readonly loaded: readonly string[];
}

/** PyTorch's figure for a workload: the better thread count's median. */
export interface TorchFigure {
  readonly figure: Figure;
  readonly threads: number;
}

/** The better of PyTorch's per-thread-count figures (higher rate, or shorter time). */
export function bestTorch(byThreads: ReadonlyMap<number, Figure>, unit: Unit): TorchFigure | undefined {
  let best: TorchFigure | undefined;
  for (const [threads, figure] of byThreads) {
    const better = best === undefined || (unit === 's' ? figure.value < best.figure.value : figure.value > best.figure.value);
    if (better) best = { figure, threads };
  }
  return best;
}

/** Whether `torch` is far below the issue's quiet reference (a rate under half of it, a time over twice it). */
export function isFailedTorchFigure(value: number, quiet: number | undefined, unit: Unit): boolean {
  if (quiet === undefined) return false;
  return unit === 's' ? value > quiet / FAILED_TORCH_FRACTION : value < quiet * FAILED_TORCH_FRACTION;
}

/** What was measured for one workload. */
export interface Measured {
  readonly workload: Workload;
  /** Ours on every core (workers = auto). */
  readonly ours?: Figure;
  /** Ours on one thread (workers = 1). */
  readonly oneThread?: Figure;
  readonly torch?: TorchFigure;
  /** Whether the PyTorch figures of this run are a valid reference (false: reference BLAS). */
  readonly torchValid?: boolean;
  /** Why a figure is missing, or anything else the row should say. */
  readonly notes?: readonly string[];
}

/** One assembled row; numbers formatted, flags spelled out. */
export interface TargetRow {
  readonly id: string;
  readonly section: Section;
  readonly workload: string;
  readonly ours: string;
  readonly oneThread: string;
  readonly torch: string;
  readonly ratio: string;
  readonly goal: string;
  readonly load: string;
  /** Ratio as a number (ours / reference, higher is better), when both sides were measured. */
  readonly ratioValue?: number;
  readonly notes: readonly string[];
}

/** A figure in its unit: rates as integers with thousands separators (or 1 decimal below 100), seconds with 1 decimal. */
export function formatValue(value: number | undefined, unit: Unit): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  if (unit === 's') return `${value.toFixed(1)} s`;
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

/** "other 0.04 cores, load avg 1.9" and LOADED when marked. */
export function formatLoad(figure: Figure | undefined): string {
  if (figure === undefined) return '—';
  return `other ${figure.otherCores.toFixed(2)} cores, load avg ${figure.loadAverage.toFixed(1)}${figure.loaded ? ' **LOADED**' : ''}`;
}

/**
 * A row from its measurements. Ratio (> 1 is ours faster): rates ours / reference, durations
 * reference / ours; the reference is PyTorch's better thread count, or, for `against: 'self'`,
 * ours on one thread (1 worker). A PyTorch figure far below the issue's quiet reference is a
 * failed measurement and a PyTorch figure on the reference BLAS is no valid reference: both keep
 * their numbers but the ratio is flagged.
 */
export function assembleRow(m: Measured): TargetRow {
  const { workload: w } = m;
  const notes = [...(m.notes ?? [])];
  const reference = w.against === 'self' ? m.oneThread : m.torch?.figure;
  let ratioValue: number | undefined;
  if (m.ours !== undefined && reference !== undefined && m.ours.value > 0 && reference.value > 0) {
    ratioValue = w.unit === 's' ? reference.value / m.ours.value : m.ours.value / reference.value;
  }
  const flags: string[] = [];
  if (w.against === 'torch' && m.torch !== undefined) {
    if (isFailedTorchFigure(m.torch.figure.value, w.quietTorch, w.unit)) {
      flags.push('PyTorch FAILED MEASUREMENT');
      notes.push(`PyTorch ${formatValue(m.torch.figure.value, w.unit)} is far from the issue's quiet ${formatValue(w.quietTorch, w.unit)}: a failed measurement, not a win`);
    }
    if (m.torchValid === false) flags.push('PyTorch NOT A VALID REFERENCE (reference BLAS)');
  }
  if (m.ours?.loaded === true || reference?.loaded === true || (w.against === 'torch' && m.torch?.figure.loaded === true)) flags.push('LOADED');
  const ratio = ratioValue === undefined ? '—' : `${ratioValue.toFixed(2)}×${flags.length > 0 ? ` (${flags.join('; ')})` : ''}`;
  const torchText = w.against === 'self' ? 'n/a (vs 1 worker)' : m.torch === undefined ? '—' : `${formatValue(m.torch.figure.value, w.unit)} (${m.torch.threads} thread${m.torch.threads > 1 ? 's' : ''})`;
  const load = [
    m.ours === undefined ? undefined : `ours: ${formatLoad(m.ours)}`,
    w.against === 'torch' && m.torch !== undefined ? `PyTorch: ${formatLoad(m.torch.figure)}` : undefined,
  ].filter((x): x is string => x !== undefined);
  return {
    id: w.id,
    section: w.section,
    workload: w.label,
    ours: formatValue(m.ours?.value, w.unit),
    oneThread: formatValue(m.oneThread?.value, w.unit),
    torch: torchText,
    ratio,
    goal: w.goal === undefined ? '—' : `≥ ${w.goal.toFixed(1)}×`,
    load: load.length > 0 ? load.join('; ') : '—',
    ...(ratioValue === undefined ? {} : { ratioValue }),
    notes,
  };
}

/** What the table's header states about the run. */
export interface TableHeader {
  readonly date: string;
  readonly backend: string;
  readonly cores: number;
  readonly repeat: number;
  /** Workers of the "ours" column (auto = one per core). */
  readonly workers: number;
  readonly torch: string;
  readonly blas: TorchBlas | undefined;
  /** Set when the e2e workloads were shrunk for a smoke run. */
  readonly e2eScale?: number;
  /** Runs of the family rows, when fewer than `repeat` (--family-repeat). */
  readonly familyRepeat?: number;
}

const escapeCell = (s: string): string => s.replace(/\|/g, '\\|');

/** The warning printed when PyTorch runs on the reference BLAS (or none could be identified). */
export function blasWarning(blas: TorchBlas | undefined): string | undefined {
  if (blas === undefined) return undefined;
  if (blas.kind === 'reference') {
    return 'WARNING: PyTorch loaded the reference BLAS (libblas.so.3 from Debian\'s libblas3), 2–6× slower than OpenBLAS: its figures are NOT a valid reference. Install libopenblas0-pthread (bench/setup.sh) and run again.';
  }
  if (blas.kind === 'unknown') return 'WARNING: no BLAS library could be identified in PyTorch\'s process; check `torch_bench.py` env line before trusting the PyTorch column.';
  return undefined;
}

/** The markdown targets table: header lines, the table, then the rows' notes. */
export function formatTargetsTable(header: TableHeader, rows: readonly TargetRow[]): string {
  const lines: string[] = [];
  lines.push(`# Issue 11 §4 targets, ${header.date}`);
  lines.push('');
  lines.push(
    `backend ${header.backend}, ${header.cores} cores; ours = ${header.workers} workers (auto), one thread = workers 1; ` +
      `medians of ${header.repeat} run${header.repeat > 1 ? 's' : ''}; ratio = ours / PyTorch (durations: PyTorch / ours), > 1 is ours faster.`,
  );
  lines.push(`PyTorch: ${header.torch}; BLAS loaded: ${header.blas === undefined ? 'not measured' : `${header.blas.kind} (${header.blas.loaded.join(', ') || 'none mapped'})`}.`);
  lines.push(`Load: "other" = cores used by every other process during the measurement (/proc/stat minus this process tree); LOADED when above ${LOADED_OTHER_CORES} core.`);
  const warning = blasWarning(header.blas);
  if (warning !== undefined) lines.push('', `**${warning}**`);
  if (header.e2eScale !== undefined && header.e2eScale !== 1) lines.push('', `**SMOKE RUN: end-to-end workloads scaled to ${header.e2eScale} of their size; not the issue's workloads, do not quote.**`);
  const targets = rows.filter((r) => r.section === 'targets');
  const families = rows.filter((r) => r.section === 'families');
  if (targets.length > 0) {
    lines.push('');
    lines.push('| workload | ours (all cores) | ours (1 thread) | PyTorch (best of 1, 2 threads) | ratio | goal | load |');
    lines.push('|---|---:|---:|---:|---:|---:|---|');
    for (const r of targets) lines.push(`| ${[r.workload, r.ours, r.oneThread, r.torch, r.ratio, r.goal, r.load].map(escapeCell).join(' | ')} |`);
  }
  if (families.length > 0) {
    lines.push('', `## Issue 14 families: reported beside PyTorch, no issue 11 goal`, '');
    lines.push(`The comparison figure's configs (scripts/figures/architecture-entries.ts); PyTorch: the fixture scripts' modules (scripts/fixtures/) at the same config.${header.familyRepeat === undefined ? '' : ` Medians of ${header.familyRepeat} run${header.familyRepeat > 1 ? 's' : ''} (--family-repeat).`}`);
    lines.push('');
    lines.push('| workload | ours (all cores) | ours (1 thread) | PyTorch (best of 1, 2 threads) | ratio | load |');
    lines.push('|---|---:|---:|---:|---:|---|');
    for (const r of families) lines.push(`| ${[r.workload, r.ours, r.oneThread, r.torch, r.ratio, r.load].map(escapeCell).join(' | ')} |`);
  }
  const notes = rows.flatMap((r) => r.notes.map((n) => `- ${r.id}: ${n}`));
  if (notes.length > 0) lines.push('', ...notes);
  return `${lines.join('\n')}\n`;
}
