/** Argument helpers shared by the spatial ops. */
import { ShapeError, fmtShape } from "../errors.js";
import type { Shape } from "../tensor.js";

/** number | [h, w] -> [h, w] of integers >= min. */
export function pair(op: string, name: string, v: unknown, min: number, shape: Shape): [number, number] {
  const p = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => typeof x === "number" && Number.isInteger(x) && x >= min)) {
    throw new ShapeError(op, `${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)} (input ${fmtShape(shape)})`);
  }
  return [p[0] as number, p[1] as number];
}

/** Output extent of a sliding window: floor((n + 2p - k) / s) + 1. */
export function outSize(n: number, k: number, s: number, p: number): number {
  return Math.floor((n + 2 * p - k) / s) + 1;
}
