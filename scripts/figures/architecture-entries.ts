/**
 * The architectures of the comparison figure (architectures.ts, Tian et al. 2025's table), one
 * entry each: the registered architecture, its config (the family's width choice, kept here and
 * only here) and its training recipe. The bench's family rows (bench/targets.ts FAMILY_MODELS)
 * measure the same configs, so the figure's wall times and the bench's images/s describe the
 * same networks. Pure data: importing this module runs nothing.
 *
 * Widths are reduced where 2 CPU cores could not train the full model in a figure run; the
 * config says by how much (`width` is the family's multiplier k on every channel count).
 */

/** One architecture of the table: what to train and with which recipe. */
export interface ArchitectureEntry {
  /** Row name in the table and folder name. */
  readonly name: string;
  /** Registered architecture. */
  readonly architecture: string;
  /** The architecture's config; `width`, where present, is what `--width` and `--width-scale` change. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly recipe: {
    readonly optimizer: 'sgd' | 'adam';
    readonly lr: number;
    readonly batchSize: number;
    readonly curveLr: number;
    readonly llpfLr: number;
    readonly weightDecay: number;
  };
}

const SGD = { optimizer: 'sgd', batchSize: 128, weightDecay: 5e-4, lr: 0.05, curveLr: 0.02, llpfLr: 0.01 } as const;

/** Every architecture of the issue 14 table, in the table's order. */
export const ARCHITECTURES: readonly ArchitectureEntry[] = [
  { name: 'resnet18', architecture: 'resnet18', config: { width: 0.25 }, recipe: SGD },
  { name: 'cct', architecture: 'cct', config: { preset: 'cct_2_3x2_32' }, recipe: { optimizer: 'adam', batchSize: 64, weightDecay: 0, lr: 5e-4, curveLr: 5e-4, llpfLr: 1e-4 } },
  { name: 'vgg16', architecture: 'vgg', config: { depth: 16, width: 0.25 }, recipe: SGD },
  { name: 'vgg11', architecture: 'vgg', config: { depth: 11, width: 0.25 }, recipe: SGD },
  { name: 'mobilenetv2', architecture: 'mobilenetv2', config: { width: 0.5 }, recipe: SGD },
  { name: 'mobilenetv2-dfl', architecture: 'mobilenetv2-dfl', config: { width: 0.5 }, recipe: SGD },
  { name: 'shufflenetv2', architecture: 'shufflenetv2', config: { netSize: 0.5, width: 0.5 }, recipe: SGD },
  // ShuffleNet v1 as DFL_torch builds it (ShuffleNet(10, g=1, scale_factor)); its width is the scale factor.
  { name: 'shufflenet', architecture: 'shufflenet', config: { groups: 1, scaleFactor: 0.5 }, recipe: SGD },
  { name: 'regnetx200mf', architecture: 'regnet', config: { variant: 'x200mf', width: 0.25 }, recipe: SGD },
  { name: 'regnety400mf', architecture: 'regnet', config: { variant: 'y400mf', width: 0.25 }, recipe: SGD },
  { name: 'efficientnet-b0', architecture: 'efficientnet-b0', config: { width: 0.5 }, recipe: SGD },
  { name: 'dla', architecture: 'dla', config: { variant: 'dla', width: 0.25 }, recipe: SGD },
  { name: 'simpledla', architecture: 'dla', config: { variant: 'simple', width: 0.25 }, recipe: SGD },
];

/** The entry called `name`; the error lists the names. */
export function architectureEntry(name: string): ArchitectureEntry {
  const entry = ARCHITECTURES.find((e) => e.name === name);
  if (entry === undefined) throw new Error(`architecture entry: expected one of ${ARCHITECTURES.map((e) => e.name).join(', ')}, found "${name}"`);
  return entry;
}

/**
 * The config a run uses: the entry's, with `width` replaced by `width` when given, else
 * multiplied by `widthScale` (default 1). Entries without a width (CCT's preset, ShuffleNet's scale
 * factor) are unchanged.
 */
export function entryConfig(entry: ArchitectureEntry, options: { readonly width?: number; readonly widthScale?: number } = {}): Readonly<Record<string, unknown>> {
  const width = entry.config['width'];
  if (typeof width !== 'number') return entry.config;
  if (options.width !== undefined) return { ...entry.config, width: options.width };
  const scale = options.widthScale ?? 1;
  return scale === 1 ? entry.config : { ...entry.config, width: width * scale };
}
