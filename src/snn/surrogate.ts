/**
 * Surrogate gradients of the Heaviside spike S = 1[u > 0], u = H − θ. The forward is always the exact step;
 * only dS/du is replaced. The ids and formulas are those of the backend kernels (src/engine/backend.ts), so a
 * surrogate chosen here runs unchanged inside the fused multi-step neuron op.
 */
import { allocZeroed } from "../engine/memory.js";
import { Tensor } from "../engine/tensor.js";
import { record, needsGrad } from "../engine/autograd.js";
import type { SurrogateId } from "../engine/backend.js";

export type SurrogateName = "triangle" | "sigmoid" | "arctan";

export interface Surrogate {
  readonly name: SurrogateName;
  readonly id: SurrogateId;
  /** triangle: width γ; sigmoid: slope α; arctan: α. */
  readonly param: number;
}

/** Defaults: the paper's ZIF triangle γ = 1 (spec §6.2); SpikingJelly's α = 4 (sigmoid) and α = 2 (arctan). */
const DEFAULTS: Record<SurrogateName, { id: SurrogateId; param: number }> = {
  triangle: { id: 0, param: 1 },
  sigmoid: { id: 1, param: 4 },
  arctan: { id: 2, param: 2 },
};

export const SURROGATE_NAMES = Object.keys(DEFAULTS) as SurrogateName[];

/** By name ("zif" is an alias of triangle), with an optional width/slope. */
export function surrogate(name: SurrogateName | "zif" | Surrogate = "triangle", param?: number): Surrogate {
  if (typeof name === "object") return name;
  const key = name === "zif" ? "triangle" : name;
  const d = DEFAULTS[key as SurrogateName];
  if (!d) throw new Error(`unknown surrogate "${name}"; expected one of ${SURROGATE_NAMES.join(", ")} (or zif)`);
  const p = param ?? d.param;
  if (!(p > 0)) throw new Error(`surrogate ${key}: parameter must be > 0, got ${p}`);
  return { name: key as SurrogateName, id: d.id, param: p };
}

/** dS/du at u. */
export function surrogateGrad(sg: Surrogate, u: number): number {
  const a = sg.param;
  switch (sg.id) {
    case 0: {
      const r = a - Math.abs(u);
      return r > 0 ? r / (a * a) : 0;
    }
    case 1: {
      const s = 1 / (1 + Math.exp(-a * u));
      return a * s * (1 - s);
    }
    default: {
      const z = (Math.PI / 2) * a * u;
      return a / 2 / (1 + z * z);
    }
  }
}

/** Heaviside with surrogate gradient, as one autograd op (the per-step reference path uses it). */
export function spikeFn(u: Tensor, sg: Surrogate): Tensor {
  const n = u.size;
  const s = allocZeroed(n);
  const ud = u.data;
  for (let i = 0; i < n; i++) s[i] = ud[i]! > 0 ? 1 : 0;
  const out = u.like(s);
  if (!needsGrad([u])) return out;
  return record("spike", [u], [out], ([g]) => {
    const dx = allocZeroed(n);
    for (let i = 0; i < n; i++) dx[i] = g![i]! * surrogateGrad(sg, ud[i]!);
    return [dx];
  })[0];
}
