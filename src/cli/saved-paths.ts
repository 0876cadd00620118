/**
 * Loads a saved path for evaluation: a curve file (`modeconn path curve` output) or an LLPF run
 * folder (`modeconn path llpf` output).
 */
import { stat } from 'node:fs/promises';
import { loadCurve } from '../paths/curve-checkpoint.js';
import { curvePath } from '../paths/curve.js';
import type { ParameterPath } from '../paths/path.js';

export async function loadSavedPath(file: string): Promise<ParameterPath> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(file)).isDirectory();
  } catch {
    throw new Error(`--path: ${file} does not exist`);
  }
  if (isDirectory) throw new Error(`--path: ${file} is a folder; LLPF run folders are not supported yet`);
  const saved = await loadCurve(file);
  return curvePath(saved.curve);
}
