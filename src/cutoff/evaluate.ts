/**
 * Calibrate + decide + score: one ε, or an ε sweep returning the accuracy / mean-timestep frontier.
 */
import type { CutoffOutputs, OutputsDataset } from "./types.js";
import { CutoffArgumentError, checkEpsilon } from "./errors.js";
import { accuracyPerTimestep, evaluateStops, speedUps, stopHistogram, type SpeedUps } from "./metrics.js";
import { getPolicy, type CalibrateOptions, type CutoffPolicy, type PolicyName, type PolicyStateBase } from "./policies/index.js";

/** Evaluation of one policy at one ε on the test split. */
export interface PolicyResult {
  policy: PolicyName;
  /** ε (null for the timestep policy). */
  epsilon: number | null;
  /** The calibrated, JSON-serialisable policy state (betas, thresholds, …). */
  state: PolicyStateBase;
  accuracy: number;
  mean_timestep: number;
  /** Per-sample 1-based stop times on the test split. */
  timesteps: number[];
  speedup: SpeedUps;
  /** stop_histogram[t-1] = #test samples stopping at t. */
  stop_histogram: number[];
}

export interface FrontierPoint {
  epsilon: number | null;
  accuracy: number;
  mean_timestep: number;
  /** Not dominated by another point (lower-or-equal mean timestep and higher-or-equal accuracy, one strictly). */
  pareto: boolean;
}

export interface SweepResult {
  policy: PolicyName;
  results: PolicyResult[];
  /** One point per ε, sorted by mean timestep (then accuracy). */
  frontier: FrontierPoint[];
}

export interface EvaluateInput {
  calibration: CutoffOutputs | null;
  test: CutoffOutputs;
}

function asPolicy(p: PolicyName | CutoffPolicy<PolicyStateBase>): CutoffPolicy<PolicyStateBase> {
  return typeof p === "string" ? getPolicy(p) : p;
}

/** acc(t) is cached per test split; speed-ups need it. */
const accCache = new WeakMap<CutoffOutputs, number[]>();
function accCurve(test: CutoffOutputs): number[] {
  let a = accCache.get(test);
  if (!a) accCache.set(test, (a = accuracyPerTimestep(test)));
  return a;
}

/** Calibrate `policy` at ε on `data.calibration` and evaluate it on `data.test`. */
export function evaluatePolicy(
  policy: PolicyName | CutoffPolicy<PolicyStateBase>,
  data: EvaluateInput | OutputsDataset,
  epsilon: number,
  options: CalibrateOptions = {},
): PolicyResult {
  const pol = asPolicy(policy);
  if (pol.name !== "timestep") checkEpsilon(epsilon);
  if (pol.requiresCalibration && !data.calibration) {
    throw new CutoffArgumentError(`${pol.name}: needs calibration outputs (a calibration split)`);
  }
  if (data.calibration && (data.calibration.T !== data.test.T || data.calibration.K !== data.test.K)) {
    throw new CutoffArgumentError(`calibration outputs have T=${data.calibration.T}, K=${data.calibration.K}; test outputs have T=${data.test.T}, K=${data.test.K}`);
  }
  const state = pol.calibrate(data.calibration, epsilon, { T: data.test.T, ...options });
  const stops = pol.decide(state, data.test);
  const ev = evaluateStops(data.test, stops);
  return {
    policy: pol.name,
    epsilon: pol.name === "timestep" ? null : epsilon,
    state,
    accuracy: ev.accuracy,
    mean_timestep: ev.mean_timestep,
    timesteps: ev.timesteps,
    speedup: speedUps(accCurve(data.test), ev.accuracy, ev.mean_timestep),
    stop_histogram: stopHistogram(stops, data.test.T),
  };
}

/** Frontier of (mean timestep, accuracy) points with Pareto flags. */
export function frontierOf(results: readonly { epsilon: number | null; accuracy: number; mean_timestep: number }[]): FrontierPoint[] {
  const pts = results.map((r) => ({ epsilon: r.epsilon, accuracy: r.accuracy, mean_timestep: r.mean_timestep, pareto: true }));
  for (const p of pts) {
    p.pareto = !pts.some((q) => q !== p && q.mean_timestep <= p.mean_timestep && q.accuracy >= p.accuracy && (q.mean_timestep < p.mean_timestep || q.accuracy > p.accuracy));
  }
  return pts.sort((a, b) => a.mean_timestep - b.mean_timestep || a.accuracy - b.accuracy);
}

/** Evaluate a policy over a list of ε (features and calibration tables are computed once and reused). */
export function sweepPolicy(
  policy: PolicyName | CutoffPolicy<PolicyStateBase>,
  data: EvaluateInput | OutputsDataset,
  epsilons: readonly number[],
  options: CalibrateOptions = {},
): SweepResult {
  const pol = asPolicy(policy);
  if (epsilons.length === 0) throw new CutoffArgumentError("sweep: at least one epsilon is required");
  const results = epsilons.map((e) => evaluatePolicy(pol, data, e, options));
  return { policy: pol.name, results, frontier: frontierOf(results) };
}

/** A linear ε grid: n points from `from` to `to` inclusive (e.g. epsilonGrid(0, 0.19, 20)). */
export function epsilonGrid(from: number, to: number, n: number): number[] {
  if (n === 1) return [from];
  return Array.from({ length: n }, (_, i) => +(from + ((to - from) * i) / (n - 1)).toPrecision(12));
}
