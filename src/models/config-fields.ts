/**
 * Reading architecture configs from untyped sources (CLI flags, checkpoint metadata): every field
 * is checked, defaults are filled in, and errors name the architecture and the field.
 */

/** The raw config as a record; `undefined`/`null` mean "all defaults". Unknown fields are errors. */
export function configRecord(raw: unknown, architecture: string, allowed: readonly string[]): Readonly<Record<string, unknown>> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`${architecture} config: expected an object, found ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const record = raw as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new Error(`${architecture} config: unknown field(s) ${unknown.join(', ')}; expected some of ${allowed.join(', ')}`);
  }
  return record;
}

/** A positive integer field, or `fallback` when absent. */
export function positiveIntField(record: Readonly<Record<string, unknown>>, field: string, fallback: number, architecture: string): number {
  const value = record[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`${architecture} config: ${field} must be a positive integer, found ${JSON.stringify(value)}`);
  }
  return value;
}

/** A positive finite number field, or `fallback` when absent. */
export function positiveNumberField(record: Readonly<Record<string, unknown>>, field: string, fallback: number, architecture: string): number {
  const value = record[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${architecture} config: ${field} must be a positive number, found ${JSON.stringify(value)}`);
  }
  return value;
}

/** A non-negative integer field, or `fallback` when absent. */
export function nonNegativeIntField(record: Readonly<Record<string, unknown>>, field: string, fallback: number, architecture: string): number {
  const value = record[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`${architecture} config: ${field} must be a non-negative integer, found ${JSON.stringify(value)}`);
  }
  return value;
}
