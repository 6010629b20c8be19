/**
 * SpikeCP-style conformal cutoff (spec §3.6/§3.7, single-step semantics of SC `SpikeCPCutoff`, α = ε).
 *
 * Calibration, per step t: scores s_n(t) = −log(softmax(Y_n(t))_{y_n} + 1e−5) of the N calibration samples,
 * plus one +∞; k = ceil(fl32((1 − ε)(N + 2))) − 1; threshold s_th(t) = the k-th smallest (1-based) of those
 * N + 1 scores (+∞ when k = N + 1, serialised as null). This rank is the one that reproduces the reference
 * fixture (spec §3.7); it is the standard split-conformal rank ceil((1 − ε)(N + 1)) up to float rounding.
 * Inference: prediction set Γ(t) = {c : −log(softmax(Y(t))_c + 1e−5) < s_th(t)}; stop at the first t with
 * |Γ(t)| ≤ 1 (an empty set also stops), at T otherwise.
 * Guarantee (split conformal, exchangeable data): at a fixed t, P(y ∈ Γ(t)) ≥ 1 − ε.
 */
import type { CutoffOutputs, StopTimes } from "../types.js";
import { CutoffArgumentError, checkEpsilon } from "../errors.js";
import { firstFiring, labelScoreTable, memo, secondScoreOfRow, secondScoreTable, conformalScoreOfRow } from "../features.js";
import type { CutoffPolicy, PolicyStateBase } from "./types.js";

export interface ConformalState extends PolicyStateBase {
  readonly policy: "conformal";
  readonly epsilon: number;
  /** 1-based rank k of the threshold among the N_cal + 1 scores. */
  readonly rank: number;
  readonly calibration_size: number;
  /** s_th(t), t = 1..T; null means +∞ (every class is always in the set). */
  readonly thresholds: (number | null)[];
}

function sortedScores(cal: CutoffOutputs): Float64Array[] {
  return memo(cal, "conformal-sorted", () => {
    const s = labelScoreTable(cal);
    const r: Float64Array[] = [];
    for (let t = 0; t < cal.T; t++) r.push(s.slice(t * cal.N, (t + 1) * cal.N).sort());
    return r;
  });
}

/** Threshold of a state at step t as a number (+∞ for null). */
export function conformalThreshold(state: ConformalState, t: number): number {
  const v = state.thresholds[t];
  return v === null ? Infinity : v;
}

/** Conformal prediction set of one row at step t (for reports / inspection). */
export function conformalSet(state: ConformalState, y: ArrayLike<number>, t: number): number[] {
  const th = conformalThreshold(state, t);
  const r: number[] = [];
  for (let c = 0; c < y.length; c++) if (conformalScoreOfRow(y, c) < th) r.push(c);
  return r;
}

export const conformalPolicy: CutoffPolicy<ConformalState> = {
  name: "conformal",
  requiresCalibration: true,
  calibrate(cal: CutoffOutputs | null, epsilon: number): ConformalState {
    checkEpsilon(epsilon);
    if (!cal) throw new CutoffArgumentError("conformal: calibration outputs are required");
    const sorted = sortedScores(cal);
    const N = cal.N;
    const k = Math.ceil(Math.fround((1 - epsilon) * (N + 2))) - 1;
    const thresholds: (number | null)[] = [];
    for (let t = 0; t < cal.T; t++) {
      // ranks 1..N are the sorted finite scores, rank N+1 is the appended +∞
      thresholds.push(k <= N ? sorted[t][Math.max(k, 1) - 1] : null);
    }
    return { schema: "spikecut.cutoff-state/v1", policy: "conformal", epsilon, rank: k, calibration_size: N, thresholds };
  },
  fires(state, y, t) {
    return !(secondScoreOfRow(y) < conformalThreshold(state, t));
  },
  decide(state, out): StopTimes {
    if (state.thresholds.length !== out.T) throw new CutoffArgumentError(`conformal: state calibrated for T=${state.thresholds.length}, outputs have T=${out.T}`);
    const s2 = secondScoreTable(out);
    const N = out.N;
    const th = state.thresholds.map((v) => (v === null ? Infinity : v));
    return firstFiring(out.T, N, (t, n) => !(s2[t * N + n] < th[t]));
  },
};
