/**
 * What the analysis commands (barrier, path, average) share: their flags, turned into the options
 * of the library's `openAnalysis` (load checkpoints, find their dataset and preprocessing, check
 * them against each other and the data before any long computation, build the evaluation data
 * once); its errors come back with flags for option names.
 */
import { openAnalysis, type Analysis, type OpenAnalysisOptions } from '../analysis/open-analysis.js';
import { jsonOption, numberOption } from './args.js';
import { DATA_OPTIONS, DATA_OPTIONS_HELP, preprocessingFlags, type DataOptionValues } from './data-options.js';
import { inFlagTerms } from './option-flags.js';
import { DEFAULT_BN_BATCHES } from '../evaluate/evaluation-data.js';

/** Defaults of the endpoint options, shown in their help. */
export const ENDPOINT_DEFAULTS = { split: 'test', 'bn-batches': DEFAULT_BN_BATCHES } as const;

/** The BatchNorm options, the same in eval, barrier and path. */
export const BN_OPTIONS_HELP = `  --bn-batches N       training batches for BatchNorm re-estimation at each point (default ${DEFAULT_BN_BATCHES})
  --no-bn-reset        keep the stored BatchNorm statistics (re-estimated by default for BN models)`;

/** parseArgs declarations for loading endpoints and evaluation data. */
export const ENDPOINT_OPTIONS = {
  arch: { type: 'string' },
  config: { type: 'string' },
  ...DATA_OPTIONS,
  split: { type: 'string', default: ENDPOINT_DEFAULTS.split },
  'train-examples': { type: 'string' },
  'test-examples': { type: 'string' },
  'bn-batches': { type: 'string' },
  'no-bn-reset': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  csv: { type: 'string' },
} as const;

export const ENDPOINT_OPTIONS_HELP = `  --arch A             architecture of foreign (PyTorch) checkpoints
  --config JSON        config fields of foreign checkpoints
${DATA_OPTIONS_HELP}
  --split S            test | train | both (default ${ENDPOINT_DEFAULTS.split})
  --train-examples N   evaluate on a seeded class-balanced subset of N training images
  --test-examples N    evaluate on a seeded class-balanced subset of N test images
${BN_OPTIONS_HELP}
  --json               print JSON on stdout
  --csv FILE           also write the rows as CSV`;

export interface EndpointValues extends DataOptionValues {
  readonly arch?: string | undefined;
  readonly config?: string | undefined;
  readonly split?: string | undefined;
  readonly 'train-examples'?: string | undefined;
  readonly 'test-examples'?: string | undefined;
  readonly 'bn-batches'?: string | undefined;
  readonly 'no-bn-reset'?: boolean | undefined;
}

/** The analysis of the CLI: the library's (src/analysis/open-analysis.ts). */
export type LoadedAnalysis = Analysis;

/** Loads the checkpoints and the data, validates everything, and converts the data once (`openAnalysis` with the flags). */
export async function loadAnalysis(paths: readonly string[], values: EndpointValues): Promise<LoadedAnalysis> {
  const config = jsonOption(values.config, 'config');
  const split = values.split ?? ENDPOINT_DEFAULTS.split;
  if (!['train', 'test', 'both'].includes(split)) throw new Error(`--split: expected train, test or both, found "${split}"`);
  const splits: ('train' | 'test')[] = split === 'both' ? ['train', 'test'] : [split as 'train' | 'test'];
  const trainExamples = numberOption(values['train-examples'], 'train-examples', { integer: true, min: 1 });
  const testExamples = numberOption(values['test-examples'], 'test-examples', { integer: true, min: 1 });
  const bnBatches = numberOption(values['bn-batches'], 'bn-batches', { integer: true, min: 1 });
  const options: OpenAnalysisOptions = {
    ...(values.arch === undefined ? {} : { architecture: values.arch }),
    ...(config === undefined ? {} : { config }),
    ...(values.dataset === undefined ? {} : { dataset: values.dataset }),
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    preprocessing: preprocessingFlags(values),
    splits,
    ...(trainExamples === undefined ? {} : { trainExamples }),
    ...(testExamples === undefined ? {} : { testExamples }),
    ...(bnBatches === undefined ? {} : { bnBatches }),
    bnReset: values['no-bn-reset'] !== true,
  };
  return inFlagTerms(() => openAnalysis(paths, options));
}
