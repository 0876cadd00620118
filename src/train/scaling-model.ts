/**
 * A cost model of one data-parallel training step (gradient-pool.ts) on W participants (this
 * thread computes shard 0, W − 1 worker threads the others), to predict the speed-up on machines
 * with more cores than the one measured (issue 11 §5).
 *
 * A step is bounded twice: by its critical path and by the CPU time all threads need on C cores:
 *
 *   T(W) = max(T_path(W), T_cpu(W) / C)
 *
 *   T_path(W) = a + b·⌈B/W⌉ + T_opt + [W > 1]·(2L + 4·(P + S)·(2/β) + 4·P·(2/β) + P/σ)
 *   T_cpu(W)  = W·(a + b·⌈B/W⌉ + h) + T_opt + [W > 1]·W·(4·(P + S)·(2/β) + 4·P·(2/β) + P/σ)
 *
 *   a + b·⌈B/W⌉       shard compute, every participant in parallel (a: per-call cost, paid W times)
 *   T_opt             optimizer update in this thread (serial)
 *   2L                signalling: two message round trips (the step, then the reduction)
 *   4·(P + S)·(2/β)   this thread writes the state, each worker reads it
 *   4·P·(2/β)         each participant writes its gradient slot; this thread makes the gradient tensors
 *   P/σ               the weighted sum of the W slots, spread over the W participants (P values each)
 *   h                 CPU per participant per step on V8's helper threads (compilation, garbage
 *                     collection), which need a core too; 0 when it cannot be measured
 *
 * with a + b·n the in-thread time of the gradient of n examples, P parameters and S buffer values
 * (float32), β the memory copy bandwidth (bytes/s) of one thread, σ the rate of one thread's
 * weighted sum (slot values/s) and C the machine's cores (default W), the same C for T(1) and
 * T(W); speed-up S(W) = T(1)/T(W), T(1) = a + b·B + T_opt unless the helper threads saturate C.
 *
 * The CPU bound is the term the first version of this model lacked: with W = C every core also
 * carries the per-call cost a and the helper threads' h of every participant, and with the parent
 * idle beside W worker threads (the pool's first design) W + 1 busy threads shared W cores. On
 * LeNet5 (a ≈ 1.4 ms, h ≈ 3 ms of a ≈ 44 ms step) that bound, not the exchange, limits 2 workers.
 *
 * Assumptions the model does not capture: cores sharing memory bandwidth, SMT siblings counted as
 * cores, fresh worker threads running unoptimized code for their first steps (measure after
 * warm-up), and kernels that get less efficient on tiny shards beyond what `a` captures. It is an
 * upper bound in those respects. PyTorch DDP's ring all-reduce moves ≈ 2·4·P bytes per replica
 * (shared/ALGORITHMS.md §9); here the reduce-scatter reads W·P/W values per participant from shared
 * memory.
 */

/** What was measured for one model at one worker. */
export interface StepCostMeasurement {
  /** Examples per step. */
  readonly batch: number;
  /** Per-call gradient time independent of the batch, seconds. */
  readonly perCallSeconds: number;
  /** Gradient time per example, seconds. */
  readonly perExampleSeconds: number;
  /** Optimizer update and BN fold in the parent, seconds. */
  readonly optimizerSeconds: number;
  /** Trainable parameters (float32 values). */
  readonly parameters: number;
  /** BatchNorm buffer values (float32). */
  readonly buffers: number;
  /** CPU seconds per step on helper threads (all threads minus the computing thread) at one worker (default 0). */
  readonly helperSeconds?: number;
}

/** What was measured for the machine's threads. */
export interface ExchangeCostMeasurement {
  /** Message round trip parent → worker → parent, seconds. */
  readonly latencySeconds: number;
  /** Float32Array copy bandwidth of one thread, bytes/s. */
  readonly copyBytesPerSecond: number;
  /** One thread's weighted gradient sum, slot values per second. */
  readonly sumElementsPerSecond: number;
}

export interface StepTimePrediction {
  readonly workers: number;
  /** Cores the prediction assumes. */
  readonly cores: number;
  /** Shard compute and optimizer on the critical path, a + b·⌈B/W⌉ + T_opt. */
  readonly computeSeconds: number;
  /** Exchange on the critical path (0 at W = 1). */
  readonly exchangeSeconds: number;
  /** T_path(W). */
  readonly pathSeconds: number;
  /** T_cpu(W) / C: the step time if every core were busy all the time. */
  readonly cpuBoundSeconds: number;
  /** T(W) = max of the two. */
  readonly stepSeconds: number;
  /** T(1)/T(W). */
  readonly speedup: number;
}

/**
 * T(W) from the critical path and the CPU bound, and the speed-up over one worker (formulas in
 * the module doc). `cores` (the machine's) defaults to `workers`: one core per participant.
 */
export function predictStepTime(step: StepCostMeasurement, exchange: ExchangeCostMeasurement, workers: number, cores: number = workers): StepTimePrediction {
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`predictStepTime: expected workers ≥ 1, found ${workers}`);
  if (!Number.isInteger(cores) || cores < 1) throw new Error(`predictStepTime: expected cores ≥ 1, found ${cores}`);
  if (!Number.isInteger(step.batch) || step.batch < 1) throw new Error(`predictStepTime: expected batch ≥ 1, found ${step.batch}`);
  const helper = step.helperSeconds ?? 0;
  const at = (w: number, c: number) => {
    const shard = step.perCallSeconds + step.perExampleSeconds * Math.ceil(step.batch / w);
    const stateBytes = 4 * (step.parameters + step.buffers);
    const gradBytes = 4 * step.parameters;
    const copies = w === 1 ? 0 : (2 * stateBytes + 2 * gradBytes) / exchange.copyBytesPerSecond + step.parameters / exchange.sumElementsPerSecond;
    const exchangeSeconds = w === 1 ? 0 : 2 * exchange.latencySeconds + copies;
    const computeSeconds = shard + step.optimizerSeconds;
    const pathSeconds = computeSeconds + exchangeSeconds;
    const cpuBoundSeconds = (w * (shard + helper + copies) + step.optimizerSeconds) / c;
    return { computeSeconds, exchangeSeconds, pathSeconds, cpuBoundSeconds, stepSeconds: Math.max(pathSeconds, cpuBoundSeconds) };
  };
  const one = at(1, cores).stepSeconds;
  const t = at(workers, cores);
  return { workers, cores, ...t, speedup: one / t.stepSeconds };
}
