import { describe, expect, it } from 'vitest';
import { ARCHITECTURES } from '../scripts/figures/architecture-entries.js';
import { getArchitecture } from '../src/models/registry.js';
import {
  FAMILY_BATCH,
  FAMILY_MODELS,
  FAMILY_NAMES,
  LOADED_OTHER_CORES,
  allWorkloads,
  assembleRow,
  bestTorch,
  blasWarning,
  busyJiffies,
  formatTargetsTable,
  formatValue,
  isFailedTorchFigure,
  median,
  otherCores,
  selectWorkloads,
  summarize,
  familyWorkloads,
  targetWorkloads,
  type Figure,
  type Workload,
} from './targets.js';

const figure = (value: number, other = 0, load = 0.5): Figure => ({ value, runs: 3, otherCores: other, loadAverage: load, loaded: other > LOADED_OTHER_CORES });
const workload = (id: string): Workload => {
  const w = allWorkloads().find((x) => x.id === id);
  if (w === undefined) throw new Error(`no workload ${id}`);
  return w;
};

describe('median and summarize', () => {
  it('median of an odd count is the middle value, of an even count the mean of the middle two, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('summarize: median value, mean other load, highest load average, LOADED above 0.25 core on average', () => {
    const quiet = summarize([
      { value: 10, otherCores: 0.1, loadAverage: 1.9 },
      { value: 30, otherCores: 0.2, loadAverage: 2.1 },
      { value: 20, otherCores: 0.3, loadAverage: 2.0 },
    ]);
    expect(quiet).toEqual({ value: 20, runs: 3, otherCores: expect.closeTo(0.2, 12) as unknown, loadAverage: 2.1, loaded: false });
    // A load average of 2 from our own two workers is not "loaded"; 0.3 core of others on average is.
    const busy = summarize([
      { value: 1, otherCores: 0.2, loadAverage: 0.1 },
      { value: 1, otherCores: 0.4, loadAverage: 0.1 },
    ]);
    expect(busy?.loaded).toBe(true);
    expect(summarize([])).toBeUndefined();
  });
});

describe('other-process load from /proc/stat', () => {
  it('busyJiffies adds user, nice, system, irq, softirq and steal, not idle or iowait', () => {
    expect(busyJiffies('cpu  100 20 30 4000 50 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n')).toBe(100 + 20 + 30 + 6 + 7 + 8);
    expect(() => busyJiffies('intr 1 2 3')).toThrow(/expected a first line starting with "cpu", found "intr 1 2 3"/);
  });

  it('otherCores: busy CPU seconds minus our own over wall time, clamped at 0', () => {
    // 2 s of wall time, 300 busy jiffies at 100/s = 3 CPU-s, 2.5 of them ours → 0.25 core of others.
    expect(otherCores({ busyJiffies: 300, clockTicks: 100, ownCpuSeconds: 2.5, wallSeconds: 2 })).toBeCloseTo(0.25, 12);
    expect(otherCores({ busyJiffies: 100, clockTicks: 100, ownCpuSeconds: 1.2, wallSeconds: 1 })).toBe(0);
    expect(otherCores({ busyJiffies: 100, clockTicks: 100, ownCpuSeconds: 0, wallSeconds: 0 })).toBe(0);
  });
});

describe('workloads', () => {
  it('has a train and an eval row per step model, then the four end-to-end workloads with the §4 goals', () => {
    const ids = targetWorkloads().map((w) => w.id);
    expect(ids).toEqual([
      'lenet5-train', 'lenet5-eval', 'resnet18-k0.25-train', 'resnet18-k0.25-eval', 'resnet18-k1-train', 'resnet18-k1-eval',
      'cct_2_3x2_32-train', 'cct_2_3x2_32-eval', 'lenet5-epoch', 'curve-e2e', 'resnet-epoch', 'simulator',
    ]);
    expect(targetWorkloads().map((w) => [w.id, w.goal]).filter(([, g]) => g !== undefined)).toEqual([
      ['lenet5-train', 1.0], ['lenet5-eval', 1.5], ['resnet18-k1-train', 0.4], ['resnet18-k1-eval', 0.8],
      ['cct_2_3x2_32-train', 0.5], ['cct_2_3x2_32-eval', 0.8], ['curve-e2e', 1.0], ['resnet-epoch', 0.5], ['simulator', 1.8],
    ]);
  });

  it('a new step model is one more entry: its two rows follow from it', () => {
    const rows = targetWorkloads([{ id: 'vgg', label: 'VGG', architecture: 'vgg', config: {}, batch: 16, goals: { eval: 2 } }]);
    expect(rows.slice(0, 2).map((w) => [w.id, w.label, w.goal])).toEqual([
      ['vgg-train', 'VGG train step (batch 16)', undefined],
      ['vgg-eval', 'VGG eval (batch 16)', 2],
    ]);
  });

  it('--only takes ids and prefixes up to a dash, and names the unknown ones', () => {
    const all = targetWorkloads();
    expect(selectWorkloads(all, 'lenet5,curve-e2e').map((w) => w.id)).toEqual(['lenet5-train', 'lenet5-eval', 'lenet5-epoch', 'curve-e2e']);
    expect(selectWorkloads(all, 'resnet18-k1-eval').map((w) => w.id)).toEqual(['resnet18-k1-eval']);
    expect(selectWorkloads(all, undefined)).toHaveLength(all.length);
    expect(() => selectWorkloads(all, 'lenet,foo')).toThrow(/--only: unknown workload lenet, foo; expected a section \(targets\), ids or prefixes of lenet5-train/);
  });

  it('every targets row is in the targets section, and the family rows are not among them', () => {
    expect(new Set(targetWorkloads().map((w) => w.section))).toEqual(new Set(['targets']));
    const targetIds = new Set(targetWorkloads().map((w) => w.id));
    expect(familyWorkloads().filter((w) => targetIds.has(w.id))).toEqual([]);
  });
});

describe('family rows (issue 14)', () => {
  it('are a train and an eval row per family, in the families section, with neither a goal nor a quiet PyTorch reference', () => {
    const rows = familyWorkloads();
    expect(rows.map((w) => w.id)).toEqual(FAMILY_NAMES.flatMap((n) => [`${n}-train`, `${n}-eval`]));
    expect(FAMILY_NAMES).toEqual(['vgg16', 'mobilenetv2', 'shufflenetv2', 'shufflenet', 'regnetx200mf', 'efficientnet-b0', 'dla']);
    for (const w of rows) {
      expect(w.section).toBe('families');
      expect(w.goal).toBeUndefined();
      expect(w.quietTorch).toBeUndefined();
      expect(w.against).toBe('torch');
    }
    expect(rows[0]?.label).toBe('vgg16 (depth 16, width 0.25) train step (batch 64)');
  });

  it('measure the comparison figure\'s own configs, on registered architectures whose parser accepts them', () => {
    for (const m of FAMILY_MODELS) {
      const entry = ARCHITECTURES.find((e) => e.name === m.id);
      expect(entry, m.id).toBeDefined();
      expect(m.architecture).toBe(entry?.architecture);
      expect(m.config).toBe(entry?.config);
      expect(m.batch).toBe(FAMILY_BATCH);
      // A config the architecture would not parse could not be measured on either side.
      const parsed = getArchitecture(m.architecture).parseConfig(m.config) as Record<string, unknown>;
      for (const [field, value] of Object.entries(m.config as Record<string, unknown>)) expect(parsed[field], `${m.id}.${field}`).toBe(value);
    }
  });

  it('--only families selects the family rows alone, --only targets the issue 11 table alone, a family name its two rows', () => {
    const all = allWorkloads();
    expect(selectWorkloads(all, 'families').map((w) => w.id)).toEqual(familyWorkloads().map((w) => w.id));
    expect(selectWorkloads(all, 'targets').map((w) => w.id)).toEqual(targetWorkloads().map((w) => w.id));
    expect(selectWorkloads(all, 'efficientnet-b0,lenet5-eval').map((w) => w.id)).toEqual(['lenet5-eval', 'efficientnet-b0-train', 'efficientnet-b0-eval']);
    expect(() => selectWorkloads(all, 'family')).toThrow(/expected a section \(targets, families\)/);
  });
});

describe('PyTorch figures', () => {
  it('bestTorch takes the higher rate, or the shorter duration', () => {
    const byThreads = new Map([[1, figure(100)], [2, figure(150)]]);
    expect(bestTorch(byThreads, 'images/s')).toEqual({ threads: 2, figure: figure(150) });
    expect(bestTorch(byThreads, 's')).toEqual({ threads: 1, figure: figure(100) });
    expect(bestTorch(new Map(), 's')).toBeUndefined();
  });

  it('a rate under half of the quiet reference, or a time over twice it, is a failed measurement', () => {
    expect(isFailedTorchFigure(6_000, 13_500, 'images/s')).toBe(true);
    expect(isFailedTorchFigure(7_000, 13_500, 'images/s')).toBe(false);
    expect(isFailedTorchFigure(93, 46, 's')).toBe(true);
    expect(isFailedTorchFigure(80, 46, 's')).toBe(false);
    expect(isFailedTorchFigure(1, undefined, 'images/s')).toBe(false);
  });

  it('warns about the reference BLAS and an unidentified one, not about OpenBLAS', () => {
    expect(blasWarning({ kind: 'reference', loaded: ['/usr/lib/x86_64-linux-gnu/blas/libblas.so.3'] })).toMatch(/NOT a valid reference.*libopenblas0-pthread/);
    expect(blasWarning({ kind: 'unknown', loaded: [] })).toMatch(/no BLAS library could be identified/);
    expect(blasWarning({ kind: 'openblas', loaded: ['/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so'] })).toBeUndefined();
  });
});

describe('assembleRow', () => {
  it('rates: ratio = ours / PyTorch, with both figures and their loads', () => {
    const row = assembleRow({ workload: workload('lenet5-train'), ours: figure(12_000, 0.05, 2.0), oneThread: figure(6_500), torch: { threads: 1, figure: figure(13_000, 0.1, 1.1) } });
    expect(row.ratioValue).toBeCloseTo(12_000 / 13_000, 12);
    expect(row).toMatchObject({ ours: '12,000', oneThread: '6,500', torch: '13,000 (1 thread)', ratio: '0.92×', goal: '≥ 1.0×' });
    expect(row.load).toBe('ours: other 0.05 cores, load avg 2.0; PyTorch: other 0.10 cores, load avg 1.1');
  });

  it('durations: ratio = PyTorch seconds / ours', () => {
    const row = assembleRow({ workload: workload('curve-e2e'), ours: figure(60), torch: { threads: 2, figure: figure(45) } });
    expect(row.ratioValue).toBeCloseTo(0.75, 12);
    expect(row).toMatchObject({ ours: '60.0 s', torch: '45.0 s (2 threads)', ratio: '0.75×', oneThread: '—' });
  });

  it('the simulator compares ours with ours on one worker', () => {
    const row = assembleRow({ workload: workload('simulator'), ours: figure(90), oneThread: figure(50) });
    expect(row.ratioValue).toBeCloseTo(1.8, 12);
    expect(row.torch).toBe('n/a (vs 1 worker)');
  });

  it('flags LOADED, a failed PyTorch measurement and the reference BLAS, keeping the numbers', () => {
    const loaded = assembleRow({ workload: workload('lenet5-eval'), ours: figure(30_000, 0.6), torch: { threads: 1, figure: figure(29_000) } });
    expect(loaded.ratio).toBe('1.03× (LOADED)');
    const failed = assembleRow({ workload: workload('lenet5-train'), ours: figure(12_000), torch: { threads: 2, figure: figure(850) }, torchValid: false });
    expect(failed.ratio).toBe('14.12× (PyTorch FAILED MEASUREMENT; PyTorch NOT A VALID REFERENCE (reference BLAS))');
    expect(failed.notes[0]).toMatch(/PyTorch 850 is far from the issue's quiet 13,500: a failed measurement, not a win/);
  });

  it('a family row prints its ratio (ours / PyTorch) with no goal', () => {
    const row = assembleRow({ workload: workload('dla-train'), ours: figure(20), torch: { threads: 2, figure: figure(80) } });
    expect(row).toMatchObject({ section: 'families', ratio: '0.25×', goal: '—' });
    expect(row.ratioValue).toBeCloseTo(0.25, 12);
  });

  it('a side not measured gives no ratio', () => {
    const row = assembleRow({ workload: workload('resnet-epoch'), ours: figure(40), notes: ['PyTorch not available'] });
    expect(row).toMatchObject({ ratio: '—', torch: '—', notes: ['PyTorch not available'] });
    expect(row.ratioValue).toBeUndefined();
  });
});

describe('formatTargetsTable', () => {
  it('prints the header facts, one table line per row (pipes escaped), the notes and the BLAS warning', () => {
    const rows = [
      assembleRow({ workload: workload('lenet5-train'), ours: figure(12_000), torch: { threads: 1, figure: figure(13_000) } }),
      assembleRow({ workload: workload('resnet-epoch'), notes: ['ours | failed'] }),
    ];
    const text = formatTargetsTable(
      { date: '2026-12-01', backend: 'wasm', cores: 2, repeat: 3, workers: 2, torch: 'PyTorch 1.13', blas: { kind: 'reference', loaded: ['/usr/lib/x86_64-linux-gnu/blas/libblas.so.3'] } },
      rows,
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('# Issue 11 §4 targets, 2026-12-01');
    expect(text).toContain('backend wasm, 2 cores; ours = 2 workers (auto), one thread = workers 1; medians of 3 runs');
    expect(text).toContain('BLAS loaded: reference (/usr/lib/x86_64-linux-gnu/blas/libblas.so.3)');
    expect(text).toContain('**WARNING: PyTorch loaded the reference BLAS');
    expect(lines.filter((l) => l.startsWith('| ')).map((l) => l.split(' | ')[0])).toEqual([
      '| workload',
      '| LeNet5 train step (batch 128)',
      '| ResNet18 k=1/4, one epoch of 5,120 images, end to end (trainMode)',
    ]);
    expect(text).toContain('- resnet-epoch: ours | failed');
    expect(text).not.toContain('families');
    expect(formatValue(56.25, 'images/s')).toBe('56.3');
  });

  it('puts the family rows in their own table after the targets, without a goal column, and says how often they ran', () => {
    const rows = [
      assembleRow({ workload: workload('lenet5-train'), ours: figure(12_000), torch: { threads: 1, figure: figure(13_000) } }),
      assembleRow({ workload: workload('vgg16-eval'), ours: figure(400), oneThread: figure(250), torch: { threads: 2, figure: figure(800) } }),
    ];
    const text = formatTargetsTable({ date: '2026-12-02', backend: 'wasm', cores: 2, repeat: 3, workers: 2, torch: 'PyTorch 1.13', blas: undefined, familyRepeat: 1 }, rows);
    const lines = text.split('\n');
    const heading = lines.indexOf('## Issue 14 families: reported beside PyTorch, no issue 11 goal');
    expect(heading).toBeGreaterThan(lines.findIndex((l) => l.startsWith('| LeNet5 train step')));
    expect(lines.slice(heading).find((l) => l.startsWith('| workload'))).toBe('| workload | ours (all cores) | ours (1 thread) | PyTorch (best of 1, 2 threads) | ratio | load |');
    expect(lines.find((l) => l.startsWith('| vgg16'))).toBe(
      '| vgg16 (depth 16, width 0.25) eval (batch 64) | 400 | 250 | 800 (2 threads) | 0.50× | ours: other 0.00 cores, load avg 0.5; PyTorch: other 0.00 cores, load avg 0.5 |',
    );
    expect(text).toContain('Medians of 1 run (--family-repeat).');
    // Only family rows: no empty targets table.
    const alone = formatTargetsTable({ date: '2026-12-02', backend: 'wasm', cores: 2, repeat: 1, workers: 2, torch: 'not run', blas: undefined }, rows.slice(1));
    expect(alone).not.toContain('| goal |');
    expect(alone).not.toContain('--family-repeat');
  });
});
