/**
 * Learning-rate schedules as pure functions of progress, so runs can resume at any step.
 */

export type Schedule =
  | { readonly kind: 'constant' }
  /** lr·γ^⌊epoch/stepSize⌋ (torch StepLR). */
  | { readonly kind: 'step'; readonly stepSize: number; readonly gamma: number }
  /** lr·½(1 + cos(π·epoch/epochs)) (torch CosineAnnealingLR with η_min = 0, per fractional epoch). */
  | { readonly kind: 'cosine' }
  /**
   * Garipov et al. (2018): lr for the first 50% of training, then linear down to 1% of it at 90%,
   * then 1% (their `learning_rate_schedule`).
   */
  | { readonly kind: 'garipov' };

export const SCHEDULE_KINDS = ['constant', 'step', 'cosine', 'garipov'] as const;

/**
 * Learning rate at fractional epoch `epoch` (0 ≤ epoch ≤ epochs) for base rate `lr`.
 */
export function learningRateAt(schedule: Schedule, lr: number, epoch: number, epochs: number): number {
  switch (schedule.kind) {
    case 'constant':
      return lr;
    case 'step':
      return lr * schedule.gamma ** Math.floor(epoch / schedule.stepSize);
    case 'cosine':
      return lr * 0.5 * (1 + Math.cos((Math.PI * epoch) / epochs));
    case 'garipov': {
      const alpha = epoch / epochs;
      const factor = alpha <= 0.5 ? 1 : alpha <= 0.9 ? 1 - ((alpha - 0.5) / 0.4) * 0.99 : 0.01;
      return lr * factor;
    }
  }
}

/** Parses `constant`, `cosine`, `garipov` or `step:SIZE:GAMMA` (CLI form); errors name the option. */
export function parseSchedule(text: string, where = '--schedule'): Schedule {
  if (text === 'constant' || text === 'cosine' || text === 'garipov') return { kind: text };
  const match = /^step:(\d+(?:\.\d+)?):(\d*\.?\d+)$/.exec(text);
  if (match !== null) return { kind: 'step', stepSize: Number(match[1]), gamma: Number(match[2]) };
  throw new Error(`${where}: expected constant, cosine, garipov or step:SIZE:GAMMA (e.g. step:10:0.1), found "${text}"`);
}
