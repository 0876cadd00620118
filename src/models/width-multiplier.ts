/**
 * Width multipliers of the CIFAR families whose channel counts all scale with one factor k
 * (EfficientNet-B0, DLA, and VGG, whose config keeps every round(c·k) ≥ 1): a layer of c channels
 * at k = 1 has
 *
 *   c(k) = max(1, round(c · k))
 *
 * channels, so k = 1 is the published network and small k gives CPU-sized ones. `inferWidthMultiplier`
 * reads k back from the channel counts of a state dict.
 */

/** Channels of a layer with `base` channels at width multiplier k: max(1, round(base·k)). */
export function scaledWidth(base: number, k: number): number {
  return Math.max(1, Math.round(base * k));
}

/**
 * The width multiplier k with scaledWidth(bases[i], k) = found[i] for every stage whose width was
 * found (undefined: unknown stage), or undefined when none fits. An exact ratio found/base that
 * fits every stage is preferred (widest stage first, so k = 1/16 stays 0.0625), else the shortest
 * decimal in the intersection of the intervals [(w − ½)/c, (w + ½)/c).
 */
export function inferWidthMultiplier(found: readonly (number | undefined)[], bases: readonly number[]): number | undefined {
  const fits = (k: number): boolean => found.every((w, i) => w === undefined || scaledWidth(bases[i] as number, k) === w);
  const order = bases.map((b, i) => [b, i] as const).sort((a, b) => b[0] - a[0]);
  for (const [base, i] of order) {
    const w = found[i];
    if (w !== undefined && fits(w / base)) return w / base;
  }
  let low = 0;
  let high = Infinity;
  found.forEach((w, i) => {
    // A width of 1 is also what every k below 1.5/c gives, so it bounds k only from above.
    if (w === undefined) return;
    const c = bases[i] as number;
    if (w > 1) low = Math.max(low, (w - 0.5) / c);
    high = Math.min(high, (w + 0.5) / c);
  });
  for (let digits = 0; digits <= 12 && low < high; digits++) {
    const k = Math.ceil(low * 10 ** digits) / 10 ** digits;
    if (k < high && k > 0 && fits(k)) return k;
  }
  return undefined;
}
