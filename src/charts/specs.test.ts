// Every builder's example spec: valid against the Vega-Lite JSON schema, compilable, and
// snapshotted (numbers rounded) under __snapshots__/ where it doubles as an example.
import { beforeAll, describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import { compileVegaLiteValidator } from './schema.js';
import { exampleSpecs, roundNumbers } from '../../test/fixtures/chart-rows.js';

const examples = exampleSpecs();
let validate: (spec: unknown) => string[];

beforeAll(() => {
  validate = compileVegaLiteValidator();
});

describe('example specs', () => {
  it('the validator rejects an invalid spec (so passing means something)', () => {
    expect(validate({ mark: 'lin', data: { values: [] } })).not.toEqual([]);
    expect(validate({ data: { values: [] }, mark: 'line', encoding: { x: { field: 'a', type: 'quantitative' } } })).toEqual([]);
  });

  for (const [name, spec] of Object.entries(examples)) {
    it(`${name} validates against vega-lite-schema.json`, () => {
      expect(validate(spec)).toEqual([]);
    });
    it(`${name} compiles to Vega without warnings turning into errors`, () => {
      expect(() => compile(spec)).not.toThrow();
    });
    it(`${name} matches its snapshot`, async () => {
      await expect(`${JSON.stringify(roundNumbers(spec), null, 2)}\n`).toMatchFileSnapshot(`__snapshots__/${name}.vl.json`);
    });
  }
});
