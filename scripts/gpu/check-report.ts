/**
 * The GPU check's summary, from the parsed outputs of its steps: one row per model and mode with
 * our webgpu images/s, PyTorch CUDA images/s from the same run and their ratio, and issue 16's
 * targets against this project's CPU figures (ResNet18 k=1 on 2 cores, wasm: 5 images/s
 * training, 27 images/s evaluation):
 *
 *   ResNet18 k=1 train ≥ 100 × 5  = 500 images/s
 *   ResNet18 k=1 eval  ≥  50 × 27 = 1,350 images/s
 *   demo end to end    < 30 s
 */

export interface BenchRowLike {
  readonly model: string;
  readonly mode: string;
  readonly batch: number;
  readonly imagesPerSecond: number;
}

export interface TorchRowLike {
  readonly model: string;
  readonly mode: string;
  readonly imagesPerSecond: number;
  readonly device?: string;
}

export interface SummaryRow {
  readonly model: string;
  readonly mode: string;
  readonly batch: number;
  /** Ours, on the backend the benchmark ran (webgpu in the GPU check). */
  readonly imagesPerSecond: number;
  readonly torchCudaImagesPerSecond?: number;
  /** ours / PyTorch CUDA. */
  readonly ratioToTorch?: number;
}

export interface Target {
  readonly name: string;
  readonly threshold: string;
  readonly value?: number;
  /** undefined when the value was not measured. */
  readonly met?: boolean;
}

export const CPU_FIGURES = { resnet18K1TrainImagesPerSecond: 5, resnet18K1EvalImagesPerSecond: 27 } as const;

export function summaryRows(bench: readonly BenchRowLike[], torch: readonly TorchRowLike[]): SummaryRow[] {
  return bench.map((r) => {
    const t = torch.find((x) => x.model === r.model && x.mode === r.mode && (x.device ?? 'cpu') === 'cuda');
    return {
      model: r.model,
      mode: r.mode,
      batch: r.batch,
      imagesPerSecond: r.imagesPerSecond,
      ...(t === undefined ? {} : { torchCudaImagesPerSecond: t.imagesPerSecond, ratioToTorch: r.imagesPerSecond / t.imagesPerSecond }),
    };
  });
}

export function targets(bench: readonly BenchRowLike[], demoSeconds: number | undefined): Target[] {
  const ips = (mode: string) => bench.find((r) => r.model === 'resnet18-k1' && r.mode === mode)?.imagesPerSecond;
  const atLeast = (name: string, threshold: number, value: number | undefined): Target => ({
    name,
    threshold: `>= ${threshold} images/s`,
    ...(value === undefined ? {} : { value, met: value >= threshold }),
  });
  return [
    atLeast('ResNet18 k=1 training, 100x the CPU figure', 100 * CPU_FIGURES.resnet18K1TrainImagesPerSecond, ips('train')),
    atLeast('ResNet18 k=1 evaluation, 50x the CPU figure', 50 * CPU_FIGURES.resnet18K1EvalImagesPerSecond, ips('eval')),
    { name: 'demo end to end', threshold: '< 30 s', ...(demoSeconds === undefined ? {} : { value: demoSeconds, met: demoSeconds < 30 }) },
  ];
}

/** JSON objects among the lines of a log (other lines skipped), e.g. PyTorch's one row per line. */
export function jsonLines(text: string): unknown[] {
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) continue;
    try {
      out.push(JSON.parse(trimmed));
    } catch {
      // a log line that only looks like JSON
    }
  }
  return out;
}
