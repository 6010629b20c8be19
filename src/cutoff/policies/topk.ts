/**
 * The paper's Top-K gap cutoff (spec §3.1–§3.3, SC `TopKCutoff`).
 *
 * gap(t) = Top1(Y(t)) − Topk(Y(t)) of the summed output (k = 2 by default), in float32.
 * Calibration, "grid" mode (reference-exact):
 *   stable[t, n] = sample n correct at every step ≥ t (no forcing);
 *   G = max gap over all t and n (float32); step = fl32(G / M); β_m = fl32(m · step), m = 0..M−1 (M = 100);
 *   conf[m, t] = fl32(#(gap > β_m ∧ stable) / #(gap > β_m)) (0/0 = NaN, never confident);
 *   conf[M−1, :] = 1; β(t) = β_{first m with conf[m, t] ≥ fl32(1 − ε)}.
 * "exact" mode: the candidates at step t are 0 and every observed calibration gap at t (the only places
 *   where the selected set changes); β(t) = the smallest candidate whose non-empty selection has
 *   confidence ≥ 1 − ε (compared exactly, in float64); if none, β(t) = G (nothing seen in calibration passes).
 * Inference: stop at the first t with gap(t) > β(t) (strict), at T when it never fires.
 */
import type { CutoffOutputs, StopTimes } from "../types.js";
import { CutoffArgumentError, checkEpsilon } from "../errors.js";
import { firstFiring, gapOfRow, gapTable, memo, stableCorrectTable } from "../features.js";
import type { CalibrateOptions, CutoffPolicy, PolicyStateBase } from "./types.js";

export interface TopKState extends PolicyStateBase {
  readonly policy: "topk";
  readonly epsilon: number;
  /** Gap between the 1st and k-th largest output. */
  readonly k: number;
  readonly mode: "grid" | "exact";
  /** Grid size M (grid mode). */
  readonly bins: number;
  /** Largest calibration gap G over all t and n. */
  readonly max_gap: number;
  /** β(t), t = 1..T. */
  readonly beta: number[];
  /** Calibration confidence at the chosen β(t) (null when the forced last bin / fallback was used with no selection). */
  readonly confidence: (number | null)[];
  /** Number of calibration samples with gap > β(t). */
  readonly selected: number[];
  /** Whether β(t) came from the forced last bin (grid) or the fallback G (exact). */
  readonly fallback: boolean[];
}

/**
 * Per-(calibration, k) sorted gaps: for each t the ascending gaps of all samples and, separately, of the
 * stable-correct samples, so #(gap > β) and #(gap > β ∧ stable) are two binary searches.
 */
interface SortedGaps {
  T: number;
  N: number;
  G: number;
  /** [T] ascending gaps of all samples */
  gaps: Float32Array[];
  /** [T] ascending gaps of the stable-correct samples */
  stableGaps: Float32Array[];
}

function sortedGaps(cal: CutoffOutputs, k: number): SortedGaps {
  return memo(cal, `topk-sorted-${k}`, () => {
    const { T, N } = cal;
    const g = gapTable(cal, k);
    const st = stableCorrectTable(cal);
    let G = -Infinity;
    for (let i = 0; i < g.length; i++) if (g[i] > G) G = g[i];
    const gaps: Float32Array[] = [], stableGaps: Float32Array[] = [];
    for (let t = 0; t < T; t++) {
      const gt = g.slice(t * N, (t + 1) * N);
      let ns = 0;
      for (let n = 0; n < N; n++) ns += st[t * N + n];
      const sg = new Float32Array(ns);
      for (let n = 0, j = 0; n < N; n++) if (st[t * N + n]) sg[j++] = gt[n];
      gaps.push(gt.sort());
      stableGaps.push(sg.sort());
    }
    return { T, N, G, gaps, stableGaps };
  });
}

/** #(values > beta) in an ascending array. */
function countAbove(a: Float32Array, beta: number): number {
  return a.length - upperBound(a, beta);
}

/** Index of the first element > beta in an ascending array (so N − index = #(gap > beta)). */
function upperBound(a: Float32Array, beta: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] > beta) hi = mid; else lo = mid + 1;
  }
  return lo;
}

/** Grid calibration table: conf[m, t] and counts, cached per (calibration, k, bins). */
export interface TopKGridTable {
  bins: number;
  T: number;
  /** β_m, m = 0..M−1 (float32 values). */
  grid: number[];
  /** conf[m][t] as in the reference (NaN for empty selections, last row forced to 1). */
  conf: Float32Array[];
  /** (#selected ∧ stable, #selected) per [m][t]. */
  stableSelected: Int32Array[];
  selected: Int32Array[];
  G: number;
}

export function topkGridTable(cal: CutoffOutputs, k = 2, bins = 100): TopKGridTable {
  return memo(cal, `topk-grid-${k}-${bins}`, () => {
    const sg = sortedGaps(cal, k);
    const { T, G } = sg;
    const step = Math.fround(G / bins);
    const grid: number[] = [], conf: Float32Array[] = [], ss: Int32Array[] = [], sel: Int32Array[] = [];
    for (let m = 0; m < bins; m++) {
      const beta = Math.fround(m * step);
      grid.push(beta);
      const c = new Float32Array(T), a = new Int32Array(T), b = new Int32Array(T);
      for (let t = 0; t < T; t++) {
        b[t] = countAbove(sg.gaps[t], beta);
        a[t] = countAbove(sg.stableGaps[t], beta);
        c[t] = m === bins - 1 ? 1 : a[t] / b[t]; // 0/0 = NaN; Float32Array store = fl32 division
      }
      conf.push(c); ss.push(a); sel.push(b);
    }
    return { bins, T, grid, conf, stableSelected: ss, selected: sel, G };
  });
}

function calibrateGrid(cal: CutoffOutputs, epsilon: number, k: number, bins: number): TopKState {
  const tab = topkGridTable(cal, k, bins);
  const sigma = Math.fround(1 - epsilon);
  const beta: number[] = [], confidence: (number | null)[] = [], selected: number[] = [], fallback: boolean[] = [];
  for (let t = 0; t < tab.T; t++) {
    let m = 0;
    while (!(tab.conf[m][t] >= sigma)) m++; // terminates: last row is 1
    beta.push(tab.grid[m]);
    const s = tab.selected[m][t];
    selected.push(s);
    confidence.push(s > 0 ? tab.stableSelected[m][t] / s : null);
    fallback.push(m === bins - 1);
  }
  return { schema: "spikecut.cutoff-state/v1", policy: "topk", epsilon, k, mode: "grid", bins, max_gap: tab.G, beta, confidence, selected, fallback };
}

/**
 * Exact-mode table per (calibration, k), independent of ε: for each t the candidate thresholds (0, then every
 * distinct observed gap ascending), the selection counts, and the running maximum of the confidence so the
 * first candidate reaching 1 − ε is a binary search.
 */
interface ExactTable {
  beta: Float64Array[];
  nSel: Int32Array[];
  nStable: Int32Array[];
  prefixMaxConf: Float64Array[];
}

function exactTable(cal: CutoffOutputs, k: number): ExactTable {
  return memo(cal, `topk-exact-${k}`, () => {
    const sg = sortedGaps(cal, k);
    const out: ExactTable = { beta: [], nSel: [], nStable: [], prefixMaxConf: [] };
    for (let t = 0; t < sg.T; t++) {
      const gs = sg.gaps[t], ss = sg.stableGaps[t];
      const N = gs.length;
      const beta: number[] = [], nSel: number[] = [], nStable: number[] = [], pm: number[] = [];
      let i = upperBound(gs, 0), j = upperBound(ss, 0), candidate = 0, best = -Infinity;
      while (i < N) {
        const sel = N - i, st = ss.length - j;
        best = Math.max(best, st / sel);
        beta.push(candidate); nSel.push(sel); nStable.push(st); pm.push(best);
        candidate = gs[i];
        while (i < N && gs[i] <= candidate) i++;
        while (j < ss.length && ss[j] <= candidate) j++;
      }
      out.beta.push(Float64Array.from(beta));
      out.nSel.push(Int32Array.from(nSel));
      out.nStable.push(Int32Array.from(nStable));
      out.prefixMaxConf.push(Float64Array.from(pm));
    }
    return out;
  });
}

function calibrateExact(cal: CutoffOutputs, epsilon: number, k: number): TopKState {
  const G = sortedGaps(cal, k).G;
  const tab = exactTable(cal, k);
  const need = 1 - epsilon;
  const beta: number[] = [], confidence: (number | null)[] = [], selected: number[] = [], fallback: boolean[] = [];
  for (let t = 0; t < tab.beta.length; t++) {
    const pm = tab.prefixMaxConf[t];
    let lo = 0, hi = pm.length; // first index with pm >= need
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pm[mid] >= need) hi = mid; else lo = mid + 1;
    }
    if (lo === pm.length) { beta.push(G); selected.push(0); confidence.push(null); fallback.push(true); }
    else {
      beta.push(tab.beta[t][lo]);
      selected.push(tab.nSel[t][lo]);
      confidence.push(tab.nStable[t][lo] / tab.nSel[t][lo]);
      fallback.push(false);
    }
  }
  return { schema: "spikecut.cutoff-state/v1", policy: "topk", epsilon, k, mode: "exact", bins: 0, max_gap: G, beta, confidence, selected, fallback };
}

export const topkPolicy: CutoffPolicy<TopKState> = {
  name: "topk",
  requiresCalibration: true,
  calibrate(cal: CutoffOutputs | null, epsilon: number, options: CalibrateOptions = {}): TopKState {
    checkEpsilon(epsilon);
    if (!cal) throw new CutoffArgumentError("topk: calibration outputs are required");
    const k = options.k ?? 2;
    if (!Number.isInteger(k) || k < 2 || k > cal.K) throw new CutoffArgumentError(`topk: k must be an integer in [2, ${cal.K}], got ${k}`);
    const mode = options.mode ?? "grid";
    if (mode === "exact") return calibrateExact(cal, epsilon, k);
    if (mode !== "grid") throw new CutoffArgumentError(`topk: mode must be "grid" or "exact", got ${String(mode)}`);
    const bins = options.bins ?? 100;
    if (!Number.isInteger(bins) || bins < 1) throw new CutoffArgumentError(`topk: bins must be a positive integer, got ${bins}`);
    return calibrateGrid(cal, epsilon, k, bins);
  },
  fires(state, y, t) {
    return gapOfRow(y, state.k) > state.beta[t];
  },
  decide(state, out): StopTimes {
    if (state.beta.length !== out.T) throw new CutoffArgumentError(`topk: state calibrated for T=${state.beta.length}, outputs have T=${out.T}`);
    const g = gapTable(out, state.k);
    const N = out.N, beta = state.beta;
    return firstFiring(out.T, N, (t, n) => g[t * N + n] > beta[t]);
  },
};
