/**
 * Softmax-confidence cutoff (spec §3.6, SC `ConfCutoff`): stop at the first t with
 * max_k softmax(Y(t))_k > 1 − ε (strict; softmax of the SUMMED output). No calibration.
 * The threshold is 1 − ε rounded to float32, as the reference compares against a float32 tensor.
 */
import type { CutoffOutputs, StopTimes } from "../types.js";
import { checkEpsilon } from "../errors.js";
import { firstFiring, maxSoftmaxOfRow, maxSoftmaxTable } from "../features.js";
import type { CutoffPolicy, PolicyStateBase } from "./types.js";

export interface ConfidenceState extends PolicyStateBase {
  readonly policy: "confidence";
  readonly epsilon: number;
  /** fl32(1 − ε). */
  readonly threshold: number;
}

export const confidencePolicy: CutoffPolicy<ConfidenceState> = {
  name: "confidence",
  requiresCalibration: false,
  calibrate(_cal: CutoffOutputs | null, epsilon: number): ConfidenceState {
    checkEpsilon(epsilon);
    return { schema: "spikecut.cutoff-state/v1", policy: "confidence", epsilon, threshold: Math.fround(1 - epsilon) };
  },
  fires(state, y, _t) {
    return maxSoftmaxOfRow(y) > state.threshold;
  },
  decide(state, out): StopTimes {
    const p = maxSoftmaxTable(out);
    const N = out.N, th = state.threshold;
    return firstFiring(out.T, N, (t, n) => p[t * N + n] > th);
  },
};
