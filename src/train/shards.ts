/**
 * Data-parallel arithmetic (PyTorch DistributedDataParallel semantics, shared/ALGORITHMS.md §9):
 * how a batch is cut into shards and how the shards' results become one result.
 *
 * Shards: a batch of N examples over W replicas is cut into contiguous shards in batch order, the
 * first N mod W shards one example longer (sizes ⌈N/W⌉ or ⌊N/W⌋; empty when N < W).
 *
 * Gradients and loss: each replica returns the gradient of the MEAN loss over its shard, g_w; the
 * full-batch mean loss L = (1/N) Σ_n ℓ_n = Σ_w (n_w/N)·L_w, so g = Σ_w (n_w/N)·g_w — the
 * full-batch gradient up to float summation order. The sum runs over w = 0, 1, …, W−1 in float64
 * and is rounded to float32 once, so a result is a pure function of the shard results.
 *
 * BatchNorm: the forward pass of each replica normalizes with its own shard's batch statistics
 * (DDP's default; SyncBatchNorm would share them), so a BN network's loss and gradients differ
 * from one-replica training on the full batch. The statistics reported for the running averages
 * are combined to estimate the full batch's, with the parallel-variance formula (Chan, Golub,
 * LeVeque 1979):
 *
 *   μ = Σ_w (n_w/N)·μ_w,     σ² = Σ_w (n_w/N)·(s²_w + (μ_w − μ)²),
 *
 * μ_w the shard's batch mean and s²_w its unbiased batch variance. With one shard this is that
 * shard's statistic exactly; with several it is the full batch's unbiased variance up to a
 * relative O(1/m) in the Bessel corrections (m = a shard's examples × spatial positions). (DDP
 * itself broadcasts replica 0's running statistics, i.e. keeps shard 0's only; the combination
 * uses every example.) Buffers are paired by name: `<bn>.running_var` with `<bn>.running_mean`.
 */

/** Sizes of the W contiguous shards of a batch of `count` examples (see the module doc). */
export function shardSizes(count: number, shards: number): number[] {
  if (!Number.isInteger(count) || count < 0) throw new Error(`shardSizes: expected a batch size ≥ 0, found ${count}`);
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`shardSizes: expected ≥ 1 shards, found ${shards}`);
  const base = Math.floor(count / shards);
  const extra = count % shards;
  return Array.from({ length: shards }, (_, w) => base + (w < extra ? 1 : 0));
}

/** Start offsets of the shards of `shardSizes`. */
export function shardStarts(sizes: readonly number[]): number[] {
  const starts: number[] = [];
  let start = 0;
  for (const size of sizes) {
    starts.push(start);
    start += size;
  }
  return starts;
}

/**
 * Σ_w weights[w]·parts[w] element-wise, summed in float64 in the order of `parts`, written to `out`
 * (float32). All parts must have out's length.
 */
export function weightedSum(parts: readonly Float32Array[], weights: readonly number[], out: Float32Array): Float32Array {
  if (parts.length !== weights.length) throw new Error(`weightedSum: ${parts.length} parts but ${weights.length} weights`);
  parts.forEach((p, w) => {
    if (p.length !== out.length) throw new Error(`weightedSum: part ${w} has ${p.length} values, expected ${out.length}`);
  });
  const n = out.length;
  const acc = new Float64Array(n);
  for (let w = 0; w < parts.length; w++) {
    const part = parts[w] as Float32Array;
    const weight = weights[w] as number;
    for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) + weight * (part[i] as number);
  }
  out.set(acc);
  return out;
}

/**
 * The combined BatchNorm statistics of several shards (formulas in the module doc): `means` and
 * `variances` hold one array per shard for one BN layer, `weights` are n_w/N (summing to 1).
 */
export function combineBatchNormStats(
  means: readonly Float32Array[],
  variances: readonly Float32Array[],
  weights: readonly number[],
): { mean: Float32Array; variance: Float32Array } {
  const first = means[0];
  if (first === undefined) throw new Error('combineBatchNormStats: no shard');
  if (variances.length !== means.length || weights.length !== means.length) {
    throw new Error(`combineBatchNormStats: ${means.length} means, ${variances.length} variances, ${weights.length} weights`);
  }
  const c = first.length;
  const mean = new Float64Array(c);
  for (let w = 0; w < means.length; w++) {
    const m = means[w] as Float32Array;
    if (m.length !== c || (variances[w] as Float32Array).length !== c) throw new Error(`combineBatchNormStats: shard ${w} has ${m.length} channels, expected ${c}`);
    for (let k = 0; k < c; k++) mean[k] = (mean[k] as number) + (weights[w] as number) * (m[k] as number);
  }
  const variance = new Float64Array(c);
  for (let w = 0; w < means.length; w++) {
    const m = means[w] as Float32Array;
    const v = variances[w] as Float32Array;
    for (let k = 0; k < c; k++) {
      const d = (m[k] as number) - (mean[k] as number);
      variance[k] = (variance[k] as number) + (weights[w] as number) * ((v[k] as number) + d * d);
    }
  }
  return { mean: Float32Array.from(mean), variance: Float32Array.from(variance) };
}
