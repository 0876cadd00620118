/**
 * `modeconn compare A B`: per-layer L2 distance and cosine similarity, prediction agreement and
 * the disagreement (confusion) matrix of two models on a split, as rows (the library's
 * `compareModels`, src/landscape/compare-models.ts).
 */
import { basename, dirname, extname, join } from 'node:path';
import { compareModels } from '../../landscape/compare-models.js';
import { getArchitecture } from '../../models/registry.js';
import type { Model } from '../../models/types.js';
import { CHART_OPTIONS, CHART_OPTIONS_HELP, chartRequest, writeAnalysisCharts } from '../chart-output.js';
import { ENDPOINT_OPTIONS, ENDPOINT_OPTIONS_HELP, loadAnalysis } from '../endpoints.js';
import { checkOutputPaths } from '../output-paths.js';
import { parseArgs } from '../args.js';
import { parseRecordedArgs } from '../command-checkpoints.js';
import { toCsv, writeTextAtomic } from '../output.js';
import type { Command } from './command.js';

/** `runs/c.csv` → `runs/c.agreement.csv` (and `.disagreement.csv`). */
function besideCsv(file: string, what: string): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}.${what}${ext === '' ? '.csv' : ext}`);
}

export const compareCommand: Command = {
  summary: 'per-layer distance and cosine similarity, prediction agreement and disagreement matrix of two models',
  usage: 'A B [options]',
  help: `modeconn compare A B   per layer group l: ‖θ_A^l − θ_B^l‖₂ and ⟨θ_A^l, θ_B^l⟩/(‖θ_A^l‖·‖θ_B^l‖)
                       (trainable tensors; the row "all" is the whole model), and on each split the
                       fraction of examples where argmax f_A = argmax f_B with the K×K matrix
                       M[i][j] = #{n : A predicts i, B predicts j} (Adilova et al. 2024)
Predictions use each model's stored BatchNorm statistics (evaluation mode).

options:
  --csv FILE           the layer rows as CSV; the agreement and matrix rows go beside it as
                       FILE.agreement.csv and FILE.disagreement.csv (FILE without its extension)
${CHART_OPTIONS_HELP}
${ENDPOINT_OPTIONS_HELP.split('\n').filter((line) => !/--bn-batches|--no-bn-reset|--csv/.test(line)).join('\n')}`,
  checkpointArguments(args) {
    return parseRecordedArgs(args, { ...ENDPOINT_OPTIONS, ...CHART_OPTIONS }).positionals;
  },
  async run(args, context) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { ...ENDPOINT_OPTIONS, ...CHART_OPTIONS } });
    if (positionals.length !== 2) throw new Error(`expected two checkpoints A B, found ${positionals.length}${positionals.length > 0 ? ` (${positionals.join(' ')})` : ''}`);
    for (const flag of ['bn-batches', 'no-bn-reset'] as const) {
      if (values[flag] !== undefined && values[flag] !== false) throw new Error(`--${flag}: compare predicts with each model's stored BatchNorm statistics and re-estimates none; drop --${flag}`);
    }
    const csv = values.csv === undefined ? [] : [values.csv, besideCsv(values.csv, 'agreement'), besideCsv(values.csv, 'disagreement')];
    await checkOutputPaths(csv.map((path) => ({ path, kind: 'file' as const, option: '--csv' })));
    const charts = await chartRequest(values);
    await context.initBackend();
    const analysis = await loadAnalysis(positionals, { ...values, 'no-bn-reset': true });
    try {
      const [a, b] = analysis.models as [Model, Model];
      const result = await compareModels(getArchitecture(a.architecture), a, b, analysis.data, { splits: analysis.splits });
      const output = { kind: 'compare' as const, rows: result.layers, agreement: result.agreement, disagreement: result.disagreement };
      const [layersCsv, agreementCsv, disagreementCsv] = csv;
      if (layersCsv !== undefined && agreementCsv !== undefined && disagreementCsv !== undefined) {
        await writeTextAtomic(layersCsv, toCsv(output.rows));
        await writeTextAtomic(agreementCsv, toCsv(output.agreement));
        await writeTextAtomic(disagreementCsv, toCsv(output.disagreement));
      }
      const chartFiles = charts === undefined ? [] : await writeAnalysisCharts(output, charts, { name: 'compare', commandLine: ['compare', ...args], checkpoints: positionals });
      if (values.json) {
        console.log(JSON.stringify(output));
        return 0;
      }
      console.log(['layer', 'distance', 'cosine', 'normA', 'normB'].join('\t'));
      for (const r of output.rows) console.log([r.layer, r.distance.toFixed(4), r.cosine.toFixed(4), r.normA.toFixed(4), r.normB.toFixed(4)].join('\t'));
      for (const r of output.agreement) {
        console.log(`${r.split}: agreement ${(100 * r.agreement).toFixed(2)}% of ${r.count} examples (accuracy A ${(100 * r.accuracyA).toFixed(2)}%, B ${(100 * r.accuracyB).toFixed(2)}%)`);
        const cells = output.disagreement.filter((c) => c.split === r.split);
        const k = Math.round(Math.sqrt(cells.length));
        console.log(`${r.split}: rows = class predicted by A, columns = class predicted by B`);
        for (let i = 0; i < k; i++) console.log(cells.slice(i * k, (i + 1) * k).map((c) => String(c.count).padStart(5)).join(''));
      }
      if (charts !== undefined) console.log(`charts: wrote ${chartFiles.join(', ')} to ${charts.out}`);
      return 0;
    } finally {
      analysis.dispose();
    }
  },
};
