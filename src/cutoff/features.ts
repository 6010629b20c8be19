/**
 * Per-(t, n) quantities derived from accumulated outputs, computed once per outputs object and cached
 * (so an ε sweep never recomputes softmaxes or gaps). Every feature at (t, n) depends on Y(t) of sample n
 * only, which is what makes every policy built on them causal (no look-ahead).
 *
 * Each feature also has a single-row function (`gapOfRow`, `maxSoftmaxOfRow`, …) used by the online
 * `fires()` of the policies; the cached tables are computed with those same functions.
 */
import type { CutoffOutputs } from "./types.js";

const cache = new WeakMap<CutoffOutputs, Map<string, unknown>>();

function cached<V>(out: CutoffOutputs, key: string, make: () => V): V {
  let m = cache.get(out);
  if (!m) cache.set(out, (m = new Map()));
  if (!m.has(key)) m.set(key, make());
  return m.get(key) as V;
}

/** First index of the maximum (torch's tie rule). */
export function argmaxOfRow(y: ArrayLike<number>, off = 0, K = y.length - off): number {
  let best = 0, bv = y[off];
  for (let k = 1; k < K; k++) {
    const v = y[off + k];
    if (v > bv) { bv = v; best = k; }
  }
  return best;
}

/**
 * Top-K gap of one row: largest minus k-th largest value (k = 2: the paper's Y_gap), in float32 like the
 * reference (`topk(Y, 2)[0] - topk(Y, 2)[1]` on a float32 tensor).
 */
export function gapOfRow(y: ArrayLike<number>, k = 2, off = 0, K = y.length - off): number {
  if (k === 2) {
    let a = -Infinity, b = -Infinity;
    for (let i = 0; i < K; i++) {
      const v = y[off + i];
      if (v > a) { b = a; a = v; } else if (v > b) b = v;
    }
    return Math.fround(a - b);
  }
  // general k: keep the k largest in a small descending buffer
  const buf = new Float64Array(k).fill(-Infinity);
  for (let i = 0; i < K; i++) {
    const v = y[off + i];
    if (v <= buf[k - 1]) continue;
    let j = k - 1;
    while (j > 0 && buf[j - 1] < v) { buf[j] = buf[j - 1]; j--; }
    buf[j] = v;
  }
  return Math.fround(buf[0] - buf[k - 1]);
}

/**
 * Σ_k exp(y_k − m) in float64, in index order, skipping terms with y_k − m ≤ −40: they are below 4.3e−18
 * while the sum is ≥ 1 (the max term is exp(0)), so they cannot change it beyond the last bit, and skipping
 * them makes the common case (most classes far below the winner) several times faster.
 */
export function sumExpFrom(y: ArrayLike<number>, off: number, K: number, m: number): number {
  let s = 0;
  for (let i = 0; i < K; i++) {
    const d = y[off + i] - m;
    if (d > -40) s += Math.exp(d);
  }
  return s;
}

/** Largest softmax probability of a row (float64 softmax of the accumulated output). */
export function maxSoftmaxOfRow(y: ArrayLike<number>, off = 0, K = y.length - off): number {
  let m = -Infinity;
  for (let i = 0; i < K; i++) if (y[off + i] > m) m = y[off + i];
  return 1 / sumExpFrom(y, off, K, m);
}

/** SpikeCP nonconformity score of class c: −log(softmax(Y)_c + 1e−5). */
export function conformalScoreOfRow(y: ArrayLike<number>, c: number, off = 0, K = y.length - off): number {
  let m = -Infinity;
  for (let i = 0; i < K; i++) if (y[off + i] > m) m = y[off + i];
  return -Math.log(Math.exp(y[off + c] - m) / sumExpFrom(y, off, K, m) + 1e-5);
}

/**
 * Score of the class with the second-largest probability. Because the score is non-increasing in the
 * probability, the conformal prediction set {c : score_c < s_th} has at most one element iff this
 * score is >= s_th; this one number per (t, n) therefore decides the SpikeCP rule for any threshold.
 */
export function secondScoreOfRow(y: ArrayLike<number>, off = 0, K = y.length - off): number {
  let a = -Infinity, b = -Infinity;
  for (let i = 0; i < K; i++) {
    const v = y[off + i];
    if (v > a) { b = a; a = v; } else if (v > b) b = v;
  }
  return -Math.log(Math.exp(b - a) / sumExpFrom(y, off, K, a) + 1e-5);
}

function table(out: CutoffOutputs, f: (Y: Float32Array, off: number, K: number) => number, ctor: "f32" | "f64" | "i32"): Float32Array | Float64Array | Int32Array {
  const { T, N, K, Y } = out;
  const r = ctor === "f32" ? new Float32Array(T * N) : ctor === "f64" ? new Float64Array(T * N) : new Int32Array(T * N);
  for (let i = 0; i < T * N; i++) r[i] = f(Y, i * K, K);
  return r;
}

/** argmax of Y(t) for every (t, n): Int32Array [T, N]. */
export function argmaxTable(out: CutoffOutputs): Int32Array {
  return topTwo(out).arg;
}

/** 1 where argmax Y(t) equals the label: Uint8Array [T, N]. */
export function correctTable(out: CutoffOutputs): Uint8Array {
  return cached(out, "correct", () => {
    const a = argmaxTable(out);
    const { T, N, labels } = out;
    const c = new Uint8Array(T * N);
    for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) c[t * N + n] = a[t * N + n] === labels[n] ? 1 : 0;
    return c;
  });
}

/**
 * Stable-correct mask s[t, n] = Π_{τ ≥ t} c[τ, n] ("correct from t on", inclusive), without forcing s[T] = 1
 * (the Top-K calibration mask, spec §3.2).
 */
export function stableCorrectTable(out: CutoffOutputs): Uint8Array {
  return cached(out, "stable", () => {
    const { T, N } = out;
    const s = correctTable(out).slice();
    for (let t = T - 2; t >= 0; t--) for (let n = 0; n < N; n++) s[t * N + n] &= s[(t + 1) * N + n];
    return s;
  });
}

/**
 * One pass over Y computing, per (t, n), the largest value, its (first) index and the second-largest
 * value; and, lazily (only softmax-based policies need it), Σ_k exp(y_k − max).
 * The tables below are derived from these with exactly the arithmetic of the single-row functions above.
 */
interface TopTwo { top1: Float32Array; top2: Float32Array; arg: Int32Array }
function topTwo(out: CutoffOutputs): TopTwo {
  return cached(out, "toptwo", () => {
    const { T, N, K, Y } = out;
    const top1 = new Float32Array(T * N), top2 = new Float32Array(T * N), arg = new Int32Array(T * N);
    for (let i = 0, off = 0; i < T * N; i++, off += K) {
      let a = Y[off], b = -Infinity, ai = 0;
      for (let j = 1; j < K; j++) {
        const v = Y[off + j];
        if (v > a) { b = a; a = v; ai = j; } else if (v > b) b = v;
      }
      top1[i] = a; top2[i] = b; arg[i] = ai;
    }
    return { top1, top2, arg };
  });
}

function sumExpTable(out: CutoffOutputs): Float64Array {
  return cached(out, "sumexp", () => {
    const { T, N, K, Y } = out;
    const { top1 } = topTwo(out);
    const r = new Float64Array(T * N);
    for (let i = 0, off = 0; i < T * N; i++, off += K) r[i] = sumExpFrom(Y, off, K, top1[i]);
    return r;
  });
}

/** Top-K gap table [T, N] (float32). */
export function gapTable(out: CutoffOutputs, k = 2): Float32Array {
  if (k !== 2) return cached(out, `gap${k}`, () => table(out, (Y, o, K) => gapOfRow(Y, k, o, K), "f32") as Float32Array);
  return cached(out, "gap2", () => {
    const { top1, top2 } = topTwo(out);
    const g = new Float32Array(top1.length);
    for (let i = 0; i < g.length; i++) g[i] = Math.fround(top1[i] - top2[i]);
    return g;
  });
}

/** Max softmax table [T, N]. */
export function maxSoftmaxTable(out: CutoffOutputs): Float64Array {
  return cached(out, "maxsm", () => {
    const sumExp = sumExpTable(out);
    const r = new Float64Array(sumExp.length);
    for (let i = 0; i < r.length; i++) r[i] = 1 / sumExp[i];
    return r;
  });
}

/** Conformal score of the true label, [T, N]. */
export function labelScoreTable(out: CutoffOutputs): Float64Array {
  return cached(out, "labelscore", () => {
    const { T, N, K, Y, labels } = out;
    const { top1 } = topTwo(out);
    const sumExp = sumExpTable(out);
    const r = new Float64Array(T * N);
    for (let t = 0; t < T; t++) {
      for (let n = 0; n < N; n++) {
        const i = t * N + n;
        r[i] = -Math.log(Math.exp(Y[i * K + labels[n]] - top1[i]) / sumExp[i] + 1e-5);
      }
    }
    return r;
  });
}

/** Conformal score of the runner-up class, [T, N] (see secondScoreOfRow). */
export function secondScoreTable(out: CutoffOutputs): Float64Array {
  return cached(out, "second", () => {
    const { top1, top2 } = topTwo(out);
    const sumExp = sumExpTable(out);
    const r = new Float64Array(sumExp.length);
    for (let i = 0; i < r.length; i++) r[i] = -Math.log(Math.exp(top2[i] - top1[i]) / sumExp[i] + 1e-5);
    return r;
  });
}

/** Memoise an arbitrary derived value on an outputs object (used by calibrations). */
export function memo<V>(out: CutoffOutputs, key: string, make: () => V): V {
  return cached(out, key, make);
}

/**
 * First t (0-based) at which `fire(t, n)` holds, with the last step forced (stop at T when nothing fires).
 * Returns 1-based stop times. Scans t upwards and stops at the first firing step, so it never reads later steps.
 */
export function firstFiring(T: number, N: number, fire: (t: number, n: number) => boolean): Int32Array {
  const stops = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let t = 0;
    while (t < T - 1 && !fire(t, n)) t++;
    stops[n] = t + 1;
  }
  return stops;
}
