/** Property tests of issue 4: no look-ahead, the ε=0 Top-K calibration property, conformal coverage. */
import { describe, expect, test } from "vitest";
import {
  conformalPolicy, conformalSet, confidencePolicy, getPolicy, outputsFromFlat, policyNames, row, runOnline, stableCorrectTable,
  topkPolicy, octTimesteps, type CutoffOutputs, type PolicyName, splitCalibration, epsilonGrid, sweepPolicy,
} from "../../src/cutoff/index.js";
import { rng, synthetic } from "./helpers.js";

function make(seed: number, T: number, N: number, K: number): CutoffOutputs {
  const s = synthetic(seed, T, N, K);
  return outputsFromFlat(s.perStep, [T, N, K], s.labels);
}

describe("no policy looks ahead", () => {
  const T = 10, K = 7;
  const cal = make(1, T, 300, K);
  const test0 = make(2, T, 200, K);
  const cases: [PolicyName, number, object][] = [
    ["topk", 0, {}], ["topk", 0.05, {}], ["topk", 0.1, { k: 3 }], ["topk", 0.05, { mode: "exact" }],
    ["confidence", 0.1, {}], ["confidence", 0.3, {}], ["conformal", 0.05, {}], ["conformal", 0.2, {}], ["timestep", 0, { timestep: 4 }],
  ];
  for (const [name, eps, opts] of cases) {
    test(`${name} ε=${eps} ${JSON.stringify(opts)}`, () => {
      const pol = getPolicy(name);
      const state = pol.calibrate(cal, eps, { T, ...opts });
      const stops = pol.decide(state, test0);
      // online runner reads Y(t) only up to the stop and agrees with the batch decision
      for (let n = 0; n < test0.N; n++) {
        let maxRead = -1;
        const s = runOnline(pol, state, T, (t) => { maxRead = Math.max(maxRead, t); return row(test0, t, n); });
        expect(s).toBe(stops[n]);
        expect(maxRead).toBeLessThan(s);
      }
      // scrambling every output after each sample's stop time changes no decision
      const r = rng(99);
      const Y = test0.Y.slice();
      for (let n = 0; n < test0.N; n++) {
        for (let t = stops[n]; t < T; t++) for (let k = 0; k < K; k++) Y[(t * test0.N + n) * K + k] = (r() - 0.5) * 1000;
      }
      const scrambled: CutoffOutputs = { ...test0, Y };
      expect(Array.from(pol.decide(state, scrambled))).toEqual(Array.from(stops));
    });
  }
  test("every registered policy is covered", () => {
    expect(new Set(cases.map((c) => c[0]))).toEqual(new Set(policyNames));
  });
});

describe("Top-K ε=0 on the calibration set itself", () => {
  for (const seed of [3, 4, 5]) {
    for (const k of [2, 3]) {
      for (const mode of ["grid", "exact"] as const) {
        test(`seed ${seed}, k=${k}, ${mode}: no early stop before the stable-correct time unless the fallback β fires`, () => {
          const T = 8;
          const cal = make(seed, T, 400, 6);
          const state = topkPolicy.calibrate(cal, 0, { k, mode });
          const stops = topkPolicy.decide(state, cal);
          const stable = stableCorrectTable(cal);
          const octs = octTimesteps(cal);
          for (let n = 0; n < cal.N; n++) {
            const t = stops[n] - 1;
            if (t === T - 1) continue; // forced last step
            if (!stable[t * cal.N + n]) {
              // only the forced last bin (grid) / fallback (exact) can select a non-stable sample
              expect(state.fallback[t]).toBe(true);
            } else {
              expect(stops[n]).toBeGreaterThanOrEqual(octs[n]);
            }
          }
          // where β came from a real bin, every selected calibration sample is stable-correct (confidence 1)
          state.confidence.forEach((c, t) => { if (!state.fallback[t]) expect(c).toBe(1); });
        });
      }
    }
  }
});

const rankOf = (eps: number, n: number) => Math.ceil(Math.fround((1 - eps) * (n + 2))) - 1;

describe("conformal coverage on held-out data", () => {
  // Split conformal guarantees P(y ∈ Γ(t)) ≥ rank/(N_cal+1) ≥ 1 − ε − ε/(N_cal+1) marginally over the draw of
  // calibration AND test data. We average the empirical coverage over R independent draws (fresh synthetic
  // data each time) and allow 4 standard errors of that mean on top of the finite-sample term.
  for (const eps of [0.05, 0.1, 0.2]) {
    test(`ε=${eps}: mean empirical coverage over independent draws ≥ 1−ε − slack, at every t`, () => {
      const T = 5, K = 10, Ncal = 400, Ntest = 400, R = 30;
      const cov = Array.from({ length: T }, () => [] as number[]);
      let rank = 0;
      for (let rep = 0; rep < R; rep++) {
        const all = make(1000 + rep * 7 + Math.round(eps * 100), T, Ncal + Ntest, K);
        const { calibration, test: held } = splitCalibration(all, Ncal);
        const state = conformalPolicy.calibrate(calibration, eps);
        rank = state.rank;
        for (let t = 0; t < T; t++) {
          let covered = 0;
          for (let n = 0; n < held.N; n++) if (conformalSet(state, row(held, t, n), t).includes(held.labels[n])) covered++;
          cov[t].push(covered / held.N);
        }
      }
      const perRepSd = Math.sqrt(eps * (1 - eps) * (1 / Ncal + 1 / Ntest));
      const slack = eps / (Ncal + 1) + 4 * perRepSd / Math.sqrt(R);
      for (let t = 0; t < T; t++) {
        const mean = cov[t].reduce((a, b) => a + b, 0) / R;
        expect(mean).toBeGreaterThanOrEqual(1 - eps - slack);
        // and not trivially: continuous scores also bound it above by rank/(N_cal+1)
        expect(mean).toBeLessThanOrEqual(rankOf(eps, Ncal) / (Ncal + 1) + 4 * perRepSd / Math.sqrt(R));
      }
      expect(rank / (Ncal + 1)).toBeGreaterThanOrEqual(1 - eps - eps / (Ncal + 1) - 1e-12);
    });
  }
});

describe("policy details", () => {
  test("confidence is monotone in ε (larger ε never stops later)", () => {
    const d = make(21, 8, 300, 5);
    let prev: Int32Array | null = null;
    for (const e of [0.01, 0.05, 0.1, 0.3, 0.6]) {
      const s = confidencePolicy.decide(confidencePolicy.calibrate(null, e), d);
      if (prev) for (let n = 0; n < d.N; n++) expect(s[n]).toBeLessThanOrEqual(prev[n]);
      prev = s;
    }
  });
  test("Top-K grid β lies on the 100-point grid [0, G) and exact β never exceeds it when both select", () => {
    const d = make(31, 8, 500, 10);
    for (const e of [0, 0.02, 0.1]) {
      const g = topkPolicy.calibrate(d, e);
      const x = topkPolicy.calibrate(d, e, { mode: "exact" });
      const step = Math.fround(g.max_gap / 100);
      g.beta.forEach((b) => {
        const m = Math.round(b / step);
        expect(b).toBe(Math.fround(m * step));
        expect(b).toBeLessThan(g.max_gap);
      });
      g.beta.forEach((b, t) => { if (!g.fallback[t] && !x.fallback[t]) expect(x.beta[t]).toBeLessThanOrEqual(b); });
    }
  });
  test("sweep returns a frontier sorted by mean timestep with Pareto flags", () => {
    const d = make(41, 8, 600, 10);
    const { calibration, test: te } = splitCalibration(d, 300);
    const s = sweepPolicy("topk", { calibration, test: te }, epsilonGrid(0, 0.19, 20));
    expect(s.results).toHaveLength(20);
    for (let i = 1; i < s.frontier.length; i++) expect(s.frontier[i].mean_timestep).toBeGreaterThanOrEqual(s.frontier[i - 1].mean_timestep);
    expect(s.frontier.some((f) => f.pareto)).toBe(true);
  });
  test("ε outside [0, 1) is rejected", () => {
    const d = make(51, 4, 50, 3);
    for (const e of [-0.1, 1, 1.5, NaN]) {
      expect(() => topkPolicy.calibrate(d, e)).toThrow(/\[0, 1\)/);
      expect(() => conformalPolicy.calibrate(d, e)).toThrow(/\[0, 1\)/);
      expect(() => confidencePolicy.calibrate(null, e)).toThrow(/\[0, 1\)/);
    }
  });
});
