/**
 * Loads a saved path for evaluation: a curve file (`modeconn path curve` output) or an LLPF run
 * folder (`modeconn path llpf` output; `template`, a checkpoint of the run, gives the layout).
 */
import { stat } from 'node:fs/promises';
import { loadCurve } from '../paths/curve-checkpoint.js';
import { curvePath } from '../paths/curve.js';
import { loadLlpfPath } from '../paths/llpf.js';
import type { ParameterPath } from '../paths/path.js';
import type { Model } from '../models/types.js';

export async function loadSavedPath(file: string, template: Model): Promise<ParameterPath> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(file)).isDirectory();
  } catch {
    throw new Error(`--path: ${file} does not exist`);
  }
  if (isDirectory) return loadLlpfPath(file, template);
  const saved = await loadCurve(file);
  if (saved.curve.architecture !== template.architecture) {
    throw new Error(`--path: ${file} is a ${saved.curve.architecture} curve but ${template.architecture} checkpoints were given`);
  }
  return curvePath(saved.curve);
}
