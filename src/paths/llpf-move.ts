/**
 * The move step of layer-wise path finding (LLPF; Tian, Al-Ars, Kitsak, Hofstee, "Low-Loss Space in
 * Neural Networks is Continuous and Fully Connected"): every active movement unit (a tensor, or a
 * layer's weight and bias concatenated) takes one step towards its destination D:
 *
 *   Δ = D − P,  step = max(step_f, step_a·‖Δ‖),  P ← D if ‖Δ‖ ≤ step, else P + step·Δ/‖Δ‖
 *
 * (no overshoot, unlike the reference code, which always adds step·Δ/‖Δ‖). A compensating unit
 * moves the same length the other way (towards 2P − D): LayerNorm parameters when heading for the
 * origin, infinity or the mean, as in the reference code.
 *
 * Destinations per target (the reference code's work modes, twoentartian/DFL_torch):
 *   model, point      D = the given parameters
 *   origin            D = 0
 *   infinity          D = factor·P, recomputed every tick (reference factor 2)
 *   mean              D = element-wise mean of the given models' parameters
 *   variance-sphere   D_l = P_l·‖B_l‖/‖P_l‖, recomputed every tick: each tensor is rescaled onto the
 *                     sphere of radius ‖B_l‖ (reference: calculate_layer_wise_projection_to_variance_sphere)
 * The reference's own "to_mean" mode moves each tensor to a constant (its own scalar mean); ours is
 * the mean of several modes.
 */
import type { ModelSpec, ModelState, TensorKind } from '../models/types.js';

export type LlpfTarget =
  | { readonly kind: 'model'; readonly state: ModelState }
  | { readonly kind: 'point'; readonly state: ModelState }
  | { readonly kind: 'origin' }
  | { readonly kind: 'infinity'; readonly factor?: number }
  | { readonly kind: 'mean'; readonly states: readonly ModelState[] }
  | { readonly kind: 'variance-sphere'; readonly state: ModelState };

/** Host copies of a parameter map's values, in its order. */
export type HostTensors = Map<string, Float32Array>;

/** A set of tensors moved as one vector, towards (`away` false) or away from D. */
export interface MovementUnit {
  readonly names: readonly string[];
  readonly away: boolean;
}

/** Copies the values of every parameter of a state to the host. */
export function hostParams(state: ModelState): HostTensors {
  return new Map([...state.params].map(([name, t]) => [name, Float32Array.from(t.dataSync())]));
}

function l2(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += (values[i] as number) ** 2;
  return Math.sqrt(s);
}

/** Fixed destinations (model, point, origin, mean), computed once; undefined for the moving ones. */
export function fixedDestination(target: LlpfTarget, start: HostTensors): HostTensors | undefined {
  switch (target.kind) {
    case 'model':
    case 'point': {
      const d = hostParams(target.state);
      checkLayout(start, d, `LLPF target (${target.kind})`);
      return d;
    }
    case 'origin':
      return new Map([...start].map(([n, v]) => [n, new Float32Array(v.length)]));
    case 'mean': {
      if (target.states.length === 0) throw new Error('LLPF target (mean): no models given');
      const all = target.states.map((s, i) => {
        const h = hostParams(s);
        checkLayout(start, h, `LLPF target (mean), model ${i}`);
        return h;
      });
      return new Map(
        [...start.keys()].map((n) => {
          const sum = new Float64Array((start.get(n) as Float32Array).length);
          for (const h of all) {
            const v = h.get(n) as Float32Array;
            for (let i = 0; i < v.length; i++) sum[i] = (sum[i] as number) + (v[i] as number);
          }
          return [n, Float32Array.from(sum, (x) => x / all.length)];
        }),
      );
    }
    case 'infinity':
    case 'variance-sphere':
      return undefined;
  }
}

/** Per-tensor norms ‖B_l‖ of the variance-sphere model. */
export function sphereRadii(target: LlpfTarget, start: HostTensors): Map<string, number> | undefined {
  if (target.kind !== 'variance-sphere') return undefined;
  const b = hostParams(target.state);
  checkLayout(start, b, 'LLPF target (variance-sphere)');
  return new Map([...b].map(([n, v]) => [n, l2(v)]));
}

/** The destination D of every parameter at the current point P. */
export function destination(target: LlpfTarget, current: HostTensors, fixed: HostTensors | undefined, radii: Map<string, number> | undefined): HostTensors {
  if (fixed !== undefined) return fixed;
  if (target.kind === 'infinity') {
    const factor = target.factor ?? 2;
    if (!(factor > 1)) throw new Error(`LLPF target (infinity): factor must be > 1, found ${factor}`);
    return new Map([...current].map(([n, v]) => [n, v.map((x) => x * factor)]));
  }
  if (radii === undefined) throw new Error(`LLPF target (${target.kind}): no destination`);
  return new Map(
    [...current].map(([n, v]) => {
      const norm = l2(v);
      const scale = norm === 0 ? 1 : (radii.get(n) as number) / norm;
      return [n, v.map((x) => x * scale)];
    }),
  );
}

function checkLayout(a: HostTensors, b: HostTensors, what: string): void {
  for (const [n, v] of a) {
    const w = b.get(n);
    if (w === undefined) throw new Error(`${what}: tensor "${n}" is missing`);
    if (w.length !== v.length) throw new Error(`${what}: tensor "${n}" has ${w.length} values, the start model has ${v.length}`);
  }
}

export interface MovementPlanOptions {
  /** Move `X.weight` and `X.bias` as one vector (default true, as the reference's LeNet5/ResNet18 configs). */
  readonly mergeBiasWithWeight?: boolean;
}

/**
 * Movement units of the tensors active at `tick`: layer groups whose first tick (from `schedule`,
 * default 0) has come. BatchNorm running statistics never move. For origin, infinity and mean
 * targets, BatchNorm affine parameters (norm params of a group with running statistics) stay put
 * and LayerNorm ones (norm params of a group without) move away, compensating.
 */
export function movementUnits(spec: ModelSpec, target: LlpfTarget, tick: number, schedule: ReadonlyMap<string, number>, options: MovementPlanOptions = {}): MovementUnit[] {
  const merge = options.mergeBiasWithWeight ?? true;
  const scaleMode = target.kind === 'origin' || target.kind === 'infinity' || target.kind === 'mean';
  const groupHasBuffers = new Map(spec.layers.map((g) => [g.name, g.buffers.length > 0]));
  const role = (name: string, kind: TensorKind, layer: string): 'move' | 'away' | 'fixed' => {
    if ((schedule.get(layer) ?? 0) > tick) return 'fixed';
    if (!scaleMode || (kind !== 'norm-scale' && kind !== 'norm-shift')) return 'move';
    return groupHasBuffers.get(layer) === true ? 'fixed' : 'away';
  };
  const units: MovementUnit[] = [];
  const taken = new Set<string>();
  const byName = new Map(spec.params.map((p) => [p.name, p]));
  for (const p of spec.params) {
    if (taken.has(p.name)) continue;
    const r = role(p.name, p.kind, p.layer);
    if (r === 'fixed') continue;
    const names = [p.name];
    if (merge && p.name.endsWith('.weight')) {
      const bias = byName.get(`${p.name.slice(0, -'.weight'.length)}.bias`);
      if (bias !== undefined && !taken.has(bias.name) && role(bias.name, bias.kind, bias.layer) === r) names.push(bias.name);
    }
    for (const n of names) taken.add(n);
    units.push({ names, away: r === 'away' });
  }
  return units;
}

/** One move of one unit: returns the new values and the step length taken. */
export function moveUnit(
  values: readonly Float32Array[],
  destinations: readonly Float32Array[],
  stepFixed: number,
  stepAdaptive: number,
  away = false,
): { values: Float32Array[]; step: number; distance: number } {
  let ss = 0;
  values.forEach((v, k) => {
    const d = destinations[k] as Float32Array;
    for (let i = 0; i < v.length; i++) ss += ((d[i] as number) - (v[i] as number)) ** 2;
  });
  const distance = Math.sqrt(ss);
  if (distance === 0) return { values: values.map((v) => Float32Array.from(v)), step: 0, distance };
  const step = Math.max(stepFixed, stepAdaptive * distance);
  if (!away && distance <= step) return { values: destinations.map((d) => Float32Array.from(d)), step: distance, distance };
  const scale = ((away ? -1 : 1) * step) / distance;
  return {
    values: values.map((v, k) => {
      const d = destinations[k] as Float32Array;
      return v.map((x, i) => x + scale * ((d[i] as number) - x));
    }),
    step,
    distance,
  };
}
