/**
 * Time handling. Inside a network every tensor is time-folded [T·B, ...] (row t·B + b, spec §1), so stateless
 * layers (conv, BN, pooling, linear) run once over all steps. Only modules with memory across time (neurons,
 * TEBN) need T; the model sets it on them before each multi-step forward.
 */
import type { Tensor } from "../engine/tensor.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import { Module } from "../nn/module.js";

export type StepMode = "multi" | "single";

export abstract class TemporalModule extends Module {
  /** Number of time-major steps folded into the batch axis in multi-step mode. */
  T = 1;
  stepMode: StepMode = "multi";

  setTimeSteps(T: number): void {
    if (!Number.isInteger(T) || T < 1) throw new Error(`${this.constructor.name}: T must be a positive integer, got ${T}`);
    this.T = T;
  }
  setStepMode(mode: StepMode): void {
    if (mode !== "multi" && mode !== "single") throw new Error(`step mode must be "multi" or "single", got ${String(mode)}`);
    this.stepMode = mode;
    this.resetState();
  }
  /** Forgets the state kept between single-step calls (start of a new sample sequence). */
  abstract resetState(): void;
  /**
   * Keeps only the state rows of the given samples (0-based rows of the current batch), in that order,
   * so anytime inference can drop finished samples from the batch between steps.
   */
  selectSamples(_rows: Int32Array): void {}
  /**
   * New samples take the places of the given rows (finished samples' rows, in increasing order), each at the start
   * of its own sequence: their state rows go back to the initial state, the other rows keep running.
   */
  resetSamples(_rows: Int32Array): void {}
}

/** [T, B, ...] → [T·B, ...] (a view). */
export function foldTime(x: Tensor): Tensor {
  if (x.ndim < 2) throw new ShapeError("foldTime", `expects [T, B, ...], got ${fmtShape(x.shape)}`);
  return x.reshape([x.shape[0]! * x.shape[1]!, ...x.shape.slice(2)]);
}

/** [T·B, ...] → [T, B, ...] (a view). */
export function unfoldTime(x: Tensor, T: number): Tensor {
  if (x.ndim < 1 || x.shape[0]! % T !== 0) {
    throw new ShapeError("unfoldTime", `leading axis of ${fmtShape(x.shape)} is not a multiple of T=${T}`);
  }
  return x.reshape([T, x.shape[0]! / T, ...x.shape.slice(1)]);
}

/**
 * Gathers rows of a [B, ...] state buffer whose owner replaces it with the result. Rows in increasing order (what
 * anytime inference passes: the samples still running, in batch order) are compacted in place and the result is a
 * view of the same memory: a fresh array per layer and step cost 10 % of anytime inference (zeroing and page faults
 * of multi-MB states). Other orders get a new array.
 */
export function gatherRows(data: Float32Array, B: number, rows: Int32Array): Float32Array {
  const inner = data.length / B;
  let increasing = true;
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r]!;
    if (src < 0 || src >= B) throw new RangeError(`selectSamples: row ${src} is outside the batch of ${B}`);
    if (r > 0 && src <= rows[r - 1]!) increasing = false;
  }
  if (increasing) {
    // row r comes from rows[r] >= r, so copying forward never overwrites a row still to be read
    for (let r = 0; r < rows.length; r++) if (rows[r] !== r) data.copyWithin(r * inner, rows[r]! * inner, (rows[r]! + 1) * inner);
    return data.subarray(0, rows.length * inner);
  }
  // state buffers outlive tidy scopes (a caller may scope each timestep), so they are never pooled
  const out = new Float32Array(rows.length * inner);
  for (let r = 0; r < rows.length; r++) out.set(data.subarray(rows[r]! * inner, (rows[r]! + 1) * inner), r * inner);
  return out;
}
