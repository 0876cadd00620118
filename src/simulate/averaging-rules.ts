/**
 * How a gossip node merges the models it received with its own: pluggable rules on top of the one
 * averaging routine of this toolkit, `averageModels` (src/averaging/variance-correction.ts).
 *
 *   plain:          w′ = c·w_self + (1−c)·(1/K) Σ_k w_k                  (Var ≈ σ²·[c² + (1−c)²/K] for
 *                                                                        uncorrelated models)
 *   corrected / follow-others, conservative, self:
 *                   the same average rescaled around its mean to the target variance of the rule
 *                   (Tian et al. 2024, "Vanishing Variance Problem in Fully Decentralized
 *                   Neural-Network Systems"); c = 0.5 in their gossip runs.
 *
 * A rule is any function (self, received, context) → averaged state and the correction factors it
 * applied, so users can add their own.
 */
import { averageModels, tensorKinds, type AverageModelsResult, type VarianceCorrection } from '../averaging/variance-correction.js';
import type { ModelSpec, ModelState } from '../models/types.js';

export interface AveragingContext {
  readonly spec: ModelSpec;
}

/** Merges a node's own model with the K received ones; the caller owns the returned state. */
export type AveragingRule = (self: ModelState, received: readonly ModelState[], context: AveragingContext) => AverageModelsResult;

/** Names of the built-in rules (`corrected` = `follow-others`, the paper's rule). */
export const AVERAGING_RULE_NAMES = ['plain', 'corrected', 'follow-others', 'conservative', 'self'] as const;
export type AveragingRuleName = (typeof AVERAGING_RULE_NAMES)[number];

export interface AveragingRuleOptions {
  /** Weight c of the node's own model (default 0.5). */
  readonly selfWeight?: number;
}

/**
 * A built-in rule by name.
 * @example const rule = createAveragingRule('corrected', { selfWeight: 0.5 });
 */
export function createAveragingRule(name: string, options: AveragingRuleOptions = {}): AveragingRule {
  if (!(AVERAGING_RULE_NAMES as readonly string[]).includes(name)) {
    throw new Error(`averaging rule "${name}": expected one of ${AVERAGING_RULE_NAMES.join(', ')}`);
  }
  const selfWeight = options.selfWeight ?? 0.5;
  if (!(selfWeight >= 0 && selfWeight <= 1)) throw new Error(`averaging rule "${name}": selfWeight must be in [0, 1], found ${selfWeight}`);
  const correction: VarianceCorrection = name === 'plain' ? 'none' : name === 'corrected' ? 'follow-others' : (name as VarianceCorrection);
  return (self, received, context) => {
    if (received.length === 0) throw new Error(`averaging rule "${name}": no received models`);
    return averageModels([self, ...received], { selfIndex: 0, selfWeight, correction, kinds: tensorKinds(context.spec) });
  };
}

/** Federated averaging's server step: the plain mean of the clients' models (McMahan et al. 2017, equal weights). */
export function federatedMean(received: readonly ModelState[], context: AveragingContext): AverageModelsResult {
  return averageModels(received, { kinds: tensorKinds(context.spec) });
}
