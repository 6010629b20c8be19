/**
 * The one interface every cutoff policy implements.
 *
 * - `calibrate` fits the policy on calibration outputs + labels for one ε and returns a plain,
 *   JSON-serialisable state (save it next to a model; `JSON.parse(JSON.stringify(state))` works as input
 *   to `fires`/`decide`).
 * - `fires(state, y, t)` is the online rule: given only the accumulated output Y(t) of ONE sample at step t
 *   (0-based), say whether to stop now. A runner stops at the first firing step and always at T.
 * - `decide(state, out)` applies the same rule to a whole split and returns 1-based stop times; it uses
 *   cached per-(t, n) features computed from Y(t) alone, so it agrees with `fires` and never looks ahead.
 */
import type { CutoffOutputs, StopTimes } from "../types.js";

export type PolicyName = "timestep" | "topk" | "confidence" | "conformal";

export interface PolicyStateBase {
  /** Schema of the saved state. */
  readonly schema: "spikecut.cutoff-state/v1";
  readonly policy: PolicyName;
  /** ε used at calibration (null for `timestep`). */
  readonly epsilon: number | null;
}

export interface CalibrateOptions {
  /** Top-K: gap between the largest and k-th largest output (default 2). */
  k?: number;
  /** Top-K: "grid" (reference-exact 100-bin grid, default) or "exact" (search over observed gaps). */
  mode?: "grid" | "exact";
  /** Top-K grid: number of bins (default 100, the reference). */
  bins?: number;
  /** timestep: the fixed stop time t0 (1-based; default T). */
  timestep?: number;
  /** Number of timesteps, for policies that can be calibrated without data (timestep). */
  T?: number;
}

export interface CutoffPolicy<S extends PolicyStateBase = PolicyStateBase> {
  readonly name: PolicyName;
  /** Whether `calibrate` needs calibration outputs (Top-K, conformal) or accepts null (timestep, confidence). */
  readonly requiresCalibration: boolean;
  calibrate(calibration: CutoffOutputs | null, epsilon: number, options?: CalibrateOptions): S;
  fires(state: S, y: ArrayLike<number>, t: number): boolean;
  decide(state: S, out: CutoffOutputs): StopTimes;
}

/**
 * Run a policy online on one sample: `rowAt(t)` returns Y(t) (0-based t) and is called for t = 0, 1, …
 * only until the policy fires, so later outputs are never read. Returns the 1-based stop time (T when
 * nothing fires).
 */
export function runOnline<S extends PolicyStateBase>(
  policy: CutoffPolicy<S>,
  state: S,
  T: number,
  rowAt: (t: number) => ArrayLike<number>,
): number {
  for (let t = 0; t < T - 1; t++) if (policy.fires(state, rowAt(t), t)) return t + 1;
  return T;
}
