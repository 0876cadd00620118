/**
 * Comparisons of two models (Adilova et al., ICLR 2024, "Layer-wise linear mode connectivity";
 * the model comparisons of the decentralized-learning study, Tian et al. 2024): per layer group l
 *
 *   distance_l = ‖θ_A^l − θ_B^l‖₂,   cosine_l = ⟨θ_A^l, θ_B^l⟩ / (‖θ_A^l‖·‖θ_B^l‖)
 *
 * over the group's trainable tensors (BatchNorm running statistics excluded), and the whole model
 * as the row `all`; on each split the prediction agreement (1/N) Σ_n [argmax f_A(x_n) = argmax
 * f_B(x_n)] and the K×K disagreement matrix M[i][j] = #{n : argmax f_A = i, argmax f_B = j}.
 * Predictions use each model's stored BatchNorm statistics (evaluation mode, no re-estimation).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { EvaluationData } from '../evaluate/evaluate.js';
import type { Architecture, Model } from '../models/types.js';
import { assertCompatibleModels } from '../paths/linear-path.js';
import type { Split } from '../rows/rows.js';
import { throwIfAborted } from '../progress.js';
import type { AgreementRow, DisagreementRow, LayerComparisonRow } from './rows.js';

export interface CompareModelsOptions {
  /** Splits for agreement and the matrix (default: every split present in the data, train first). */
  readonly splits?: readonly Split[];
  /** Checked before each batch's predictions: once aborted, an AbortError is thrown (no partial result). */
  readonly signal?: AbortSignal;
}

export interface ModelComparison {
  /** One row per layer group, input side first, then `all`. */
  readonly layers: LayerComparisonRow[];
  readonly agreement: AgreementRow[];
  /** K×K cells per split, row-major (predictedA, then predictedB), zeros included. */
  readonly disagreement: DisagreementRow[];
}

function sums(a: tf.Tensor, b: tf.Tensor): [number, number, number, number] {
  const s = tf.tidy(() => tf.stack([tf.sum(tf.square(tf.sub(a, b))), tf.sum(tf.mul(a, b)), tf.sum(tf.square(a)), tf.sum(tf.square(b))]));
  const v = s.dataSync();
  s.dispose();
  return [v[0] as number, v[1] as number, v[2] as number, v[3] as number];
}

function layerRow(layer: string, layerIndex: number, [dd, ab, aa, bb]: readonly number[]): LayerComparisonRow {
  const normA = Math.sqrt(aa as number);
  const normB = Math.sqrt(bb as number);
  const cosine = normA > 0 && normB > 0 ? (ab as number) / (normA * normB) : NaN;
  return { layer, layerIndex, distance: Math.sqrt(dd as number), cosine, normA, normB };
}

/** Layer distances, cosine similarities, agreement and disagreement matrices of `a` and `b` (file comment). */
export async function compareModels<Config>(
  architecture: Architecture<Config>,
  a: Model<Config>,
  b: Model<Config>,
  data: EvaluationData,
  options: CompareModelsOptions = {},
): Promise<ModelComparison> {
  assertCompatibleModels(a, b, 'compareModels');
  const spec = architecture.spec(a.config);
  const layers: LayerComparisonRow[] = [];
  const total = [0, 0, 0, 0];
  for (const [index, group] of spec.layers.entries()) {
    const acc = [0, 0, 0, 0];
    for (const name of group.params) {
      const ta = a.params.get(name);
      const tb = b.params.get(name);
      if (ta === undefined || tb === undefined) throw new Error(`compareModels: tensor "${name}" of layer group ${group.name} is missing from a model`);
      sums(ta, tb).forEach((x, i) => {
        acc[i] = (acc[i] as number) + x;
        total[i] = (total[i] as number) + x;
      });
    }
    layers.push(layerRow(group.name, index, acc));
  }
  layers.push(layerRow('all', spec.layers.length, total));

  const present = (['train', 'test'] as const).filter((s) => (data[s]?.length ?? 0) > 0);
  const splits = options.splits ?? present;
  const k = spec.classes;
  const agreement: AgreementRow[] = [];
  const disagreement: DisagreementRow[] = [];
  for (const split of splits) {
    if (!present.includes(split)) throw new Error(`compareModels: split "${split}" was requested but the data has no ${split} batches`);
    const matrix = new Float64Array(k * k);
    let [same, correctA, correctB, count] = [0, 0, 0, 0];
    for (const batch of data[split] ?? []) {
      throwIfAborted(options.signal, 'compareModels');
      const packed = tf.tidy(() => {
        const pa = tf.argMax(architecture.apply(a.config, a, batch.x, { training: false }).logits, 1);
        const pb = tf.argMax(architecture.apply(a.config, b, batch.x, { training: false }).logits, 1);
        const labels = batch.y.rank === 2 ? tf.argMax(batch.y, 1) : tf.cast(batch.y, 'int32');
        return tf.stack([tf.cast(pa, 'int32'), tf.cast(pb, 'int32'), tf.cast(labels, 'int32')]);
      });
      const v = await packed.data();
      const n = packed.shape[1] as number;
      packed.dispose();
      for (let i = 0; i < n; i++) {
        const [ya, yb, y] = [v[i] as number, v[n + i] as number, v[2 * n + i] as number];
        matrix[ya * k + yb] = (matrix[ya * k + yb] as number) + 1;
        if (ya === yb) same++;
        if (ya === y) correctA++;
        if (yb === y) correctB++;
      }
      count += n;
    }
    agreement.push({ split, agreement: same / count, accuracyA: correctA / count, accuracyB: correctB / count, count });
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) disagreement.push({ split, predictedA: i, predictedB: j, count: matrix[i * k + j] as number });
  }
  return { layers, agreement, disagreement };
}
