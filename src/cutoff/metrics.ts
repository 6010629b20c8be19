/**
 * Accuracy under cutoff, mean timestep, fixed-timestep accuracy curve and the two speed-up definitions
 * (paper-spec §2.2 and §10).
 */
import type { CutoffOutputs, Evaluation, StopTimes } from "./types.js";
import { argmaxTable, correctTable } from "./features.js";

/** acc(t) for t = 1..T: accuracy of argmax Y(t) (first maximal index on ties). */
export function accuracyPerTimestep(out: CutoffOutputs): number[] {
  const c = correctTable(out);
  const { T, N } = out;
  const acc: number[] = [];
  for (let t = 0; t < T; t++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += c[t * N + n];
    acc.push(s / N);
  }
  return acc;
}

/** Predictions argmax Y(t*_n) for 1-based stop times. */
export function predictionsAt(out: CutoffOutputs, stops: StopTimes): Int32Array {
  const a = argmaxTable(out);
  const p = new Int32Array(out.N);
  for (let n = 0; n < out.N; n++) p[n] = a[(stops[n] - 1) * out.N + n];
  return p;
}

/** Accuracy and mean timestep for 1-based per-sample stop times. */
export function evaluateStops(out: CutoffOutputs, stops: StopTimes): Evaluation {
  const { N, T } = out;
  if (stops.length !== N) throw new RangeError(`evaluateStops: ${stops.length} stop times for ${N} samples`);
  const c = correctTable(out);
  let correct = 0, sum = 0;
  for (let n = 0; n < N; n++) {
    const t = stops[n];
    if (!(t >= 1 && t <= T)) throw new RangeError(`evaluateStops: stop time ${t} of sample ${n} outside [1, ${T}]`);
    correct += c[(t - 1) * N + n];
    sum += t;
  }
  return { accuracy: correct / N, mean_timestep: sum / N, timesteps: Array.from(stops) };
}

/** Speed-ups of a cutoff operating point (spec §10; both reported, neither hard-coded as "the" speed-up). */
export interface SpeedUps {
  /** T_max / mean stop time. */
  vs_max_timestep: number;
  /** Smallest fixed t with acc(t) >= the cutoff accuracy, or null when no fixed t reaches it. */
  equal_accuracy_timestep: number | null;
  /** equal_accuracy_timestep / mean stop time (null when the fixed-T baseline never reaches the accuracy). */
  vs_equal_accuracy: number | null;
}

/**
 * `accPerT` is acc(t) for t = 1..T. The comparison `acc(t) >= accuracy` uses a 1e-12 tolerance so that
 * accuracies computed from the same counts compare equal.
 */
export function speedUps(accPerT: readonly number[], accuracy: number, meanTimestep: number): SpeedUps {
  const T = accPerT.length;
  let teq: number | null = null;
  for (let t = 0; t < T; t++) if (accPerT[t] >= accuracy - 1e-12) { teq = t + 1; break; }
  return {
    vs_max_timestep: T / meanTimestep,
    equal_accuracy_timestep: teq,
    vs_equal_accuracy: teq === null ? null : teq / meanTimestep,
  };
}

/** Histogram of 1-based stop times: counts[t-1] = #samples stopping at t. */
export function stopHistogram(stops: ArrayLike<number>, T: number): number[] {
  const h = new Array<number>(T).fill(0);
  for (let i = 0; i < stops.length; i++) h[stops[i] - 1]++;
  return h;
}
