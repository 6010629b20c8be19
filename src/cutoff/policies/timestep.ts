/** Fixed-timestep baseline: everyone stops at t0 (its accuracy curve acc(t) is `accuracyPerTimestep`). */
import type { CutoffOutputs, StopTimes } from "../types.js";
import { CutoffArgumentError } from "../errors.js";
import type { CalibrateOptions, CutoffPolicy, PolicyStateBase } from "./types.js";

export interface TimestepState extends PolicyStateBase {
  readonly policy: "timestep";
  /** 1-based fixed stop time. */
  readonly timestep: number;
}

export const timestepPolicy: CutoffPolicy<TimestepState> = {
  name: "timestep",
  requiresCalibration: false,
  calibrate(cal: CutoffOutputs | null, _epsilon: number, options: CalibrateOptions = {}): TimestepState {
    const T = options.T ?? cal?.T;
    const t0 = options.timestep ?? T;
    if (t0 === undefined || !Number.isInteger(t0) || t0 < 1 || (T !== undefined && t0 > T)) {
      throw new CutoffArgumentError(`timestep: expected an integer in [1, ${T ?? "T"}], got ${String(t0)}`);
    }
    return { schema: "spikecut.cutoff-state/v1", policy: "timestep", epsilon: null, timestep: t0 };
  },
  fires(state, _y, t) {
    return t + 1 >= state.timestep;
  },
  decide(state, out): StopTimes {
    return new Int32Array(out.N).fill(Math.min(state.timestep, out.T));
  },
};
