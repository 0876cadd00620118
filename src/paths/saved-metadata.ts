/**
 * Reading the string metadata of saved paths (curve and AutoNEB chain files): JSON fields and name
 * lists, with errors that name the file and the field.
 */

/** Parses metadata field `field` of file `path` as JSON. */
export function parseJsonField(path: string, field: string, text: string | undefined): unknown {
  if (text === undefined) throw new Error(`${path}: metadata field "${field}" is missing`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${path}: metadata field "${field}" is not valid JSON: ${text.slice(0, 80)}`);
  }
}

/** Checks that a parsed metadata field is a list of strings. */
export function stringListField(path: string, field: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`${path}: metadata field "${field}" must be a JSON list of names`);
  return value;
}
