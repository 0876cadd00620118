/**
 * A cost model of one data-parallel training step (gradient-pool.ts) on W worker threads, to
 * predict the speed-up on machines with more cores than the one measured (issue 11 §5).
 *
 * One step of batch B on W workers takes
 *
 *   T(W) = a + b·⌈B/W⌉ + T_opt + [W > 1]·(2L + 4·(P + S)·(2/β) + 4·P·(2/β) + P/σ)
 *
 *   a + b·⌈B/W⌉       shard compute (in parallel)
 *   T_opt             optimizer update in the parent (serial)
 *   2L                signalling: two message round trips (the step, then the reduction)
 *   4·(P + S)·(2/β)   the parent writes the state, each worker reads it
 *   4·P·(2/β)         each worker writes its gradient slot; the parent makes the gradient tensors
 *   P/σ               the weighted sum of the W slots, spread over the W workers (W·P/W values each)
 *
 * with a + b·n the in-thread time of the gradient of n examples (a: per-call cost independent of
 * the batch, b: per example), P parameters and S buffer values (float32), β the memory copy
 * bandwidth (bytes/s) of one thread and σ the rate of one thread's weighted sum (slot values/s).
 * T(1) = a + b·B + T_opt (in-thread, no exchange), speed-up S(W) = T(1)/T(W). The serial parts
 * (T_opt, the state write and the tensor creation, ∝ P) are what limits scaling for large models.
 *
 * Assumptions the model does not capture: cores sharing memory bandwidth (compute per core slows
 * when many cores stream weights), SMT siblings counted as cores, and kernels that get less
 * efficient on tiny shards beyond what `a` captures. It is an upper bound in those respects.
 * PyTorch DDP's ring all-reduce moves ≈ 2·4·P bytes per replica (shared/ALGORITHMS.md §9); here
 * the reduce-scatter reads W·P/W values per worker from shared memory.
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
  readonly computeSeconds: number;
  readonly exchangeSeconds: number;
  readonly stepSeconds: number;
  /** T(1)/T(W). */
  readonly speedup: number;
}

/** T(W) split into compute and exchange, and the speed-up over one worker (formula in the module doc). */
export function predictStepTime(step: StepCostMeasurement, exchange: ExchangeCostMeasurement, workers: number): StepTimePrediction {
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`predictStepTime: expected workers ≥ 1, found ${workers}`);
  if (!Number.isInteger(step.batch) || step.batch < 1) throw new Error(`predictStepTime: expected batch ≥ 1, found ${step.batch}`);
  const shard = Math.ceil(step.batch / workers);
  const computeSeconds = step.perCallSeconds + step.perExampleSeconds * shard + step.optimizerSeconds;
  const stateBytes = 4 * (step.parameters + step.buffers);
  const gradBytes = 4 * step.parameters;
  const exchangeSeconds =
    workers === 1
      ? 0
      : 2 * exchange.latencySeconds + (2 * stateBytes + 2 * gradBytes) / exchange.copyBytesPerSecond + step.parameters / exchange.sumElementsPerSecond;
  const one = step.perCallSeconds + step.perExampleSeconds * step.batch + step.optimizerSeconds;
  const stepSeconds = computeSeconds + exchangeSeconds;
  return { workers, computeSeconds, exchangeSeconds, stepSeconds, speedup: one / stepSeconds };
}
