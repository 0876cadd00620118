/**
 * Loads a saved path for evaluation: a curve file (`modeconn path curve` output), an AutoNEB
 * chain file (`modeconn path neb` output) or an LLPF run folder (`modeconn path llpf` output;
 * `template`, a checkpoint of the run, gives the layout). A file is recognized by its metadata
 * `format`, read from the safetensors header alone, before any tensor is loaded.
 */
import { stat } from 'node:fs/promises';
import { readSafetensorsHeader } from '../checkpoint/safetensors.js';
import { disposeNebChain, nebPath } from '../paths/autoneb.js';
import { CURVE_FORMAT, loadCurve } from '../paths/curve-checkpoint.js';
import { curvePath } from '../paths/curve.js';
import { loadLlpfPath } from '../paths/llpf.js';
import { loadNebChain, NEB_FORMAT } from '../paths/neb-checkpoint.js';
import type { ParameterPath } from '../paths/path.js';
import type { Model } from '../models/types.js';

/** The file formats `loadSavedPath` understands, by metadata `format`. */
export const SAVED_PATH_FORMATS = [CURVE_FORMAT, NEB_FORMAT] as const;

function checkArchitecture(file: string, what: string, architecture: string, template: Model): void {
  if (architecture !== template.architecture) {
    throw new Error(`--path: ${file} is a ${architecture} ${what} but ${template.architecture} checkpoints were given`);
  }
}

export async function loadSavedPath(file: string, template: Model): Promise<ParameterPath> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(file)).isDirectory();
  } catch {
    throw new Error(`--path: ${file} does not exist`);
  }
  if (isDirectory) return loadLlpfPath(file, template);
  const { metadata } = await readSafetensorsHeader(file);
  if (metadata.format === CURVE_FORMAT) {
    const saved = await loadCurve(file);
    checkArchitecture(file, 'curve', saved.curve.architecture, template);
    return curvePath(saved.curve);
  }
  if (metadata.format === NEB_FORMAT) {
    const chain = await loadNebChain(file);
    try {
      checkArchitecture(file, 'AutoNEB chain', chain.architecture, template);
      // A config mismatch (e.g. another width) shows as a shape mismatch: name the tensor now
      // rather than fail inside the first forward pass.
      for (const [k, name] of chain.layout.names.entries()) {
        const expected = template.params.get(name)?.shape;
        const found = chain.layout.shapes[k] as readonly number[];
        if (expected === undefined || expected.length !== found.length || expected.some((d, j) => d !== found[j])) {
          throw new Error(`--path: ${file} holds "${name}" with shape [${found.join(', ')}] but the checkpoint ${expected === undefined ? 'has no such tensor' : `has [${expected.join(', ')}]`}`);
        }
      }
      const missing = [...template.params.keys()].filter((name) => !chain.layout.names.includes(name));
      if (missing.length > 0) throw new Error(`--path: ${file} has no tensor ${missing.map((n) => `"${n}"`).join(', ')} of the checkpoint`);
    } catch (error) {
      disposeNebChain(chain);
      throw error;
    }
    return nebPath(chain);
  }
  throw new Error(`--path: ${file} is not a saved path (metadata format is ${metadata.format === undefined ? 'missing' : `"${metadata.format}"`}; expected one of ${SAVED_PATH_FORMATS.join(', ')}, or an LLPF run folder)`);
}
