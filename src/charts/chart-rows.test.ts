// Kind detection and dispatch of rows files: each kind the CLI writes is recognised from its fields
// (with the wrappers the commands use), every spec it draws is schema-valid, and a shape that is
// none of them fails naming the file and every kind.
import { beforeAll, describe, expect, it } from 'vitest';
import { chartRows, detectRowsKind, KIND_FIELDS, ROWS_KINDS, unwrapRows, type RowsKind } from './chart-rows.js';
import { compileVegaLiteValidator } from './schema.js';
import { cumulativeRows, directionRows, disagreementRows, layerComparisonRows, layerRows, llpfRows, pathRows, projectedPoints, robustnessRows, subspaceRows, surfaceRows } from '../../test/fixtures/chart-rows.js';

const simulatorJson = {
  runs: [{ config: { series: 'plain', seed: 3 }, delay: {} }],
  ticks: [0, 10, 20].map((tick) => ({ series: 'plain', tick, accuracyMean: 0.1 + tick / 40, accuracyMin: 0.05 + tick / 50, accuracyMax: 0.2 + tick / 30, lossMean: 2 })),
  layers: [0, 10, 20].flatMap((tick) => ['conv1', 'fc1'].map((layer) => ({ tick, layer, variance: 1 / (1 + tick), series: 'plain' }))),
  nodes: [],
};

/** The files as the commands write them: `--json` objects, bare arrays (LLPF run), the simulator's summary. */
const files: Record<RowsKind, unknown> = {
  path: { rows: pathRows(), barrier: {} },
  layerwise: { rows: layerRows() },
  cumulative: { rows: cumulativeRows() },
  robustness: { rows: robustnessRows() },
  subspace: { rows: subspaceRows() },
  surface: { rows: surfaceRows(), points: projectedPoints() },
  directions: { kind: 'directions', rows: directionRows(2) },
  compare: { kind: 'compare', rows: layerComparisonRows(), agreement: [], disagreement: disagreementRows() },
  llpf: llpfRows(),
  simulator: simulatorJson,
};

let validate: (spec: unknown) => string[];
beforeAll(() => {
  validate = compileVegaLiteValidator();
});

describe('detectRowsKind', () => {
  for (const kind of ROWS_KINDS) {
    it(`recognises ${kind} rows from their fields`, () => {
      expect(detectRowsKind(files[kind], `${kind}.json`)).toBe(kind);
    });
  }

  it('recognises 1-D direction rows and compare rows without a kind field', () => {
    expect(detectRowsKind({ rows: directionRows(1) }, 'd.json')).toBe('directions');
    expect(detectRowsKind({ rows: layerComparisonRows() }, 'c.json')).toBe('compare');
    expect(chartRows({ rows: layerComparisonRows(), disagreement: disagreementRows() }, 'compare').map((c) => c.name)).toEqual(['layers', 'disagreement']);
  });

  it('recognises path rows in a bare array and in path llpf --json output (rows = path rows, ticks = LLPF rows)', () => {
    expect(detectRowsKind(pathRows(), 'a.json')).toBe('path');
    expect(detectRowsKind({ rows: pathRows(), ticks: llpfRows(), completed: true }, 'a.json')).toBe('path');
  });

  it('lets a kind field decide, and checks the rows have its fields', () => {
    expect(detectRowsKind({ kind: 'surface', rows: surfaceRows() }, 's.json')).toBe('surface');
    expect(() => detectRowsKind({ kind: 'surface', rows: pathRows() }, 's.json')).toThrow(/s\.json: row 0 of surface rows lacks the field "u"/);
    expect(() => detectRowsKind({ kind: 'contour', rows: pathRows() }, 's.json')).toThrow(/kind "contour" is not one the charts understand; expected one of path, layerwise/);
  });

  it('names the file, what it found and every kind with its fields when nothing fits', () => {
    const unknown = { rows: [{ model: 'A', role: 'input', split: 'test', loss: 0.3, accuracy: 0.9 }] };
    let message = '';
    try {
      detectRowsKind(unknown, 'runs/average.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^runs\/average\.json: found rows with fields model, role, split, loss, accuracy; expected rows of one of these kinds/);
    for (const kind of ROWS_KINDS) expect(message).toContain(`${kind} (${KIND_FIELDS[kind].join(', ')})`);
    expect(() => detectRowsKind({ barrier: {} }, 'x.json')).toThrow(/x\.json: found an object with fields barrier and no rows array/);
    expect(() => detectRowsKind([], 'x.json')).toThrow(/x\.json: found no rows/);
    expect(() => detectRowsKind(42, 'x.json')).toThrow(/x\.json: found a number/);
  });

  it('rejects a later row that lacks a field of the detected kind, naming its index', () => {
    const rows = pathRows();
    const broken = [...rows.slice(0, 3), { path: 'linear', t: 0.5, split: 'test', loss: 1 }];
    expect(() => detectRowsKind({ rows: broken }, 'p.json')).toThrow(/p\.json: row 3 of path rows lacks the field "accuracy"/);
  });
});

describe('chartRows', () => {
  for (const kind of ROWS_KINDS) {
    it(`draws ${kind} rows as schema-valid specs holding all the rows`, () => {
      const specs = chartRows(files[kind], kind, { title: 'T' });
      expect(specs.length).toBeGreaterThan(0);
      for (const { spec } of specs) {
        expect(validate(spec)).toEqual([]);
        expect(JSON.stringify(spec)).toContain('"T"');
      }
      expect(unwrapRows(files[kind])?.length).toBeGreaterThan(0);
    });
  }

  it('draws the simulator summary as the accuracy band and the layer variance charts', () => {
    expect(chartRows(simulatorJson, 'simulator').map((s) => s.name)).toEqual(['accuracy', 'layer-variance']);
  });

  it('draws layer rows from several epochs with epochs as columns', () => {
    const spec = JSON.stringify(chartRows({ rows: layerRows(true) }, 'layerwise')[0]?.spec);
    expect(spec).toMatch(/epoch/);
  });
});
