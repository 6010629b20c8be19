/**
 * Cutoff case from issue 4: every policy (Top-K grid and exact, confidence, conformal, fixed timestep,
 * plus OCT) with a 20-point ε sweep on 10,000 test samples × T=16 × 100 classes, calibrated on a further
 * 10,000 samples. Target: under 2 s per run. Each run starts from fresh outputs objects, so the per-(t, n)
 * feature tables (softmax, gaps, scores) are recomputed inside the timing, not served from the cache.
 * No PyTorch peer (the reference evaluates on GPU tensors inside its training scripts).
 */
import { epsilonGrid, oct, outputsFromAccumulated, sweepPolicy, type CutoffOutputs } from "../../src/cutoff/index.js";
import type { BenchCase, Prepared } from "./types.js";

const T = 16, N = 10_000, K = 100;

function synthetic(seed: number): CutoffOutputs {
  let a = seed >>> 0;
  const r = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const Y = new Float32Array(T * N * K);
  const labels = new Int32Array(N);
  const drift = new Float32Array(N);
  for (let n = 0; n < N; n++) { labels[n] = Math.floor(r() * K); drift[n] = r() * 1.5; }
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      const o = (t * N + n) * K, p = o - N * K;
      for (let k = 0; k < K; k++) {
        const step = (r() - 0.5) * 3 + (k === labels[n] ? drift[n] : 0);
        Y[o + k] = t === 0 ? step : Y[p + k] + step;
      }
    }
  }
  return outputsFromAccumulated(Y, T, N, K, labels);
}

export interface SweepSummary {
  policies: number;
  points: number;
}

/** The timed body: all policies, 20 ε each; fresh object identities so nothing is cached across runs. */
export function runCutoffSweep(cal: CutoffOutputs, test: CutoffOutputs): SweepSummary {
  const data = { calibration: { ...cal }, test: { ...test } };
  const eps = epsilonGrid(0, 0.19, 20);
  let points = 0;
  for (const [policy, opts] of [["topk", {}], ["topk", { mode: "exact" as const }], ["confidence", {}], ["conformal", {}]] as const) {
    points += sweepPolicy(policy, data, eps, opts).results.length;
  }
  points += sweepPolicy("timestep", data, [0]).results.length;
  oct(data.test);
  return { policies: 5, points };
}

export const cases: BenchCase[] = [
  {
    name: "cutoff_sweep",
    kind: "memory",
    // minimal bytes: read the calibration and test outputs once
    work: 2 * T * N * K * 4,
    setup(): Prepared {
      const cal = synthetic(1), test = synthetic(2);
      return {
        level: "op",
        run: () => void runCutoffSweep(cal, test),
        extra: { samples: N, calibration_samples: N, T, K, epsilons: 20, policies: "topk(grid),topk(exact),confidence,conformal,timestep,oct", target_ms: 2000 },
      };
    },
  },
];
