/**
 * Validate a Vega-Lite spec against the JSON schema shipped in the `vega-lite` package
 * (`vega-lite/vega-lite-schema.json`, draft-07). The tests validate every builder's output with it;
 * users can check hand-edited `.vl.json` files the same way.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';

/** Compile the schema validator (≈ 1 s: the schema is 1.9 MB). Call once and reuse the result. */
export function compileVegaLiteValidator(): (spec: unknown) => string[] {
  const require = createRequire(import.meta.url);
  const schemaPath = require.resolve('vega-lite/vega-lite-schema.json');
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as object;
  // strict off: the schema uses keywords and formats that ajv's strict mode rejects (e.g. "format": "color-hex").
  const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
  const validate: ValidateFunction = ajv.compile(schema);
  return (spec: unknown): string[] => {
    if (validate(spec)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  };
}
