/**
 * Loads a saved path for evaluation (`barrier linear --path FILE A`): any file of the library's
 * `savePath` (curve, AutoNEB chain, LLPF or linear path; `modeconn path …` output), a legacy curve
 * or AutoNEB file, or an LLPF run folder (with its `path.safetensors`; folders of earlier versions
 * without it are read through `template`, a checkpoint of the run). A file is recognized by its
 * metadata `format`, read from the safetensors header alone, before any tensor is loaded; the
 * path is then checked against `template` (architecture, tensor names and shapes).
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensorsHeader } from '../checkpoint/safetensors.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { CURVE_FORMAT } from '../paths/curve-checkpoint.js';
import { loadLlpfPath } from '../paths/llpf.js';
import { NEB_FORMAT } from '../paths/neb-checkpoint.js';
import type { ParameterPath } from '../paths/path.js';
import { LLPF_PATH_FILE, loadPath, PATH_FORMAT } from '../paths/saved-path.js';

/** The file formats `loadSavedPath` understands, by metadata `format`. */
export const SAVED_PATH_FORMATS = [CURVE_FORMAT, NEB_FORMAT, PATH_FORMAT] as const;

const WHAT: Readonly<Record<string, string>> = { bezier: 'curve', polychain: 'curve', autoneb: 'AutoNEB chain', llpf: 'LLPF path', linear: 'linear path' };

/** Throws naming the file when the path is not of the template's architecture and tensor layout. */
function checkAgainst(file: string, path: ParameterPath, template: Model): void {
  if (path.architecture !== template.architecture) {
    throw new Error(`--path: ${file} is a ${path.architecture} ${WHAT[path.kind] ?? `${path.kind} path`} but ${template.architecture} checkpoints were given`);
  }
  // A config mismatch (e.g. another width) shows as a shape mismatch: name the tensor now
  // rather than fail inside the first forward pass.
  const start = path.pointAt(0);
  try {
    for (const [name, tensor] of start.params) {
      const expected = template.params.get(name)?.shape;
      const found = tensor.shape;
      if (expected === undefined || expected.length !== found.length || expected.some((d, j) => d !== found[j])) {
        throw new Error(`--path: ${file} holds "${name}" with shape [${found.join(', ')}] but the checkpoint ${expected === undefined ? 'has no such tensor' : `has [${expected.join(', ')}]`}`);
      }
    }
    const missing = [...template.params.keys()].filter((name) => !start.params.has(name));
    if (missing.length > 0) throw new Error(`--path: ${file} has no tensor ${missing.map((n) => `"${n}"`).join(', ')} of the checkpoint`);
  } finally {
    disposeTensors(start);
  }
}

export async function loadSavedPath(file: string, template: Model): Promise<ParameterPath> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(file)).isDirectory();
  } catch {
    throw new Error(`--path: ${file} does not exist`);
  }
  if (isDirectory && !existsSync(join(file, LLPF_PATH_FILE))) return loadLlpfPath(file, template);
  if (!isDirectory) {
    const { metadata } = await readSafetensorsHeader(file);
    if (!(SAVED_PATH_FORMATS as readonly (string | undefined)[]).includes(metadata.format)) {
      throw new Error(`--path: ${file} is not a saved path (metadata format is ${metadata.format === undefined ? 'missing' : `"${metadata.format}"`}; expected one of ${SAVED_PATH_FORMATS.join(', ')}, or an LLPF run folder)`);
    }
  }
  const { path } = await loadPath(file);
  try {
    checkAgainst(file, path, template);
  } catch (error) {
    path.dispose();
    throw error;
  }
  return path;
}
