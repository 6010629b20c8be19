/**
 * Building and validating `CutoffOutputs` from raw arrays (per-step or accumulated), splitting.
 */
import type { Accumulation, CutoffOutputs } from "./types.js";
import { CutoffInputError } from "./errors.js";

export interface FromArraysOptions {
  /** How `values` should be read: per-step outputs (default) or already accumulated. */
  accumulation?: Accumulation;
  /** File name for error messages. */
  source?: string;
  /** Field name prefix for error messages (e.g. "calibration"). */
  field?: string;
  /**
   * File the labels came from, when it is not `source` (a bare .npy with a separate labels file): label
   * errors must name the file the user has to fix.
   */
  labelsSource?: string;
}

/**
 * Build validated outputs from a flat `[T, N, K]` array (row-major, time-major) and labels.
 * Per-step values are accumulated in float32, sequentially (Y(t) = fl32(Y(t-1) + O_t)), as the reference does.
 * Throws CutoffInputError for NaN/Inf, labels out of range, fewer than two classes, or shape mismatches.
 */
export function outputsFromFlat(
  values: ArrayLike<number>,
  shape: readonly [number, number, number],
  labels: ArrayLike<number>,
  opts: FromArraysOptions = {},
): CutoffOutputs {
  const src = opts.source ?? "<input>";
  const field = opts.field ?? "outputs";
  const [T, N, K] = shape;
  if (!(Number.isInteger(T) && T >= 1)) throw new CutoffInputError(src, field, "at least one timestep (shape [T, N, K])", `T=${T}`);
  if (!(Number.isInteger(N) && N >= 1)) throw new CutoffInputError(src, field, "at least one sample (shape [T, N, K])", `N=${N}`);
  if (!(Number.isInteger(K) && K >= 2)) throw new CutoffInputError(src, field, "at least two classes (shape [T, N, K])", `K=${K}`);
  if (values.length !== T * N * K) {
    throw new CutoffInputError(src, field, `${T * N * K} values for shape [${T}, ${N}, ${K}]`, `${values.length}`);
  }
  const labelSrc = opts.labelsSource ?? src;
  const labelField = opts.labelsSource === undefined ? labelFieldOf(field) : "labels";
  if (labels.length !== N) throw new CutoffInputError(labelSrc, labelField, `${N} labels (one per sample${opts.labelsSource === undefined ? "" : ` of ${src}`})`, `${labels.length}`);
  const lab = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    const v = labels[n];
    if (!(typeof v === "number" && Number.isInteger(v) && v >= 0 && v < K)) {
      throw new CutoffInputError(labelSrc, `${labelField}[${n}]`, `an integer class index in [0, ${K - 1}]`, String(v));
    }
    lab[n] = v;
  }
  const Y = new Float32Array(T * N * K);
  const NK = N * K;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      const t = Math.floor(i / NK), n = Math.floor((i % NK) / K), k = i % K;
      throw new CutoffInputError(src, `${field}[${t}][${n}][${k}]`, "a finite number", String(v));
    }
  }
  if ((opts.accumulation ?? "per-step") === "per-step") {
    for (let i = 0; i < NK; i++) Y[i] = values[i];
    for (let t = 1; t < T; t++) {
      const o = t * NK, p = o - NK;
      for (let i = 0; i < NK; i++) Y[o + i] = Y[p + i] + values[o + i]; // float32 store rounds
    }
    for (let i = 0; i < Y.length; i++) {
      if (!Number.isFinite(Y[i])) throw new CutoffInputError(src, field, "outputs whose float32 running sum stays finite", "overflow");
    }
  } else {
    Y.set(values);
    for (let i = 0; i < Y.length; i++) {
      if (!Number.isFinite(Y[i])) throw new CutoffInputError(src, field, "values representable in float32", "overflow");
    }
  }
  return { T, N, K, Y, labels: lab };
}

/** Build outputs from nested `[T][N][K]` arrays (the JSON fixture layout). */
export function outputsFromNested(
  nested: unknown,
  labels: unknown,
  opts: FromArraysOptions = {},
): CutoffOutputs {
  const src = opts.source ?? "<input>";
  const field = opts.field ?? "per_step";
  if (!Array.isArray(nested) || nested.length === 0) throw new CutoffInputError(src, field, "a non-empty [T][N][K] array of numbers", nested === undefined ? "nothing" : describe(nested));
  const T = nested.length;
  const first = nested[0];
  if (!Array.isArray(first) || first.length === 0) throw new CutoffInputError(src, `${field}[0]`, "a non-empty [N][K] array", describe(first));
  const N = first.length;
  const row0 = first[0];
  if (!Array.isArray(row0)) throw new CutoffInputError(src, `${field}[0][0]`, "an array of K class outputs", describe(row0));
  const K = row0.length;
  if (K < 2) throw new CutoffInputError(src, `${field}[0][0]`, "at least two classes", `${K}`);
  const flat = new Float64Array(T * N * K);
  let i = 0;
  for (let t = 0; t < T; t++) {
    const a = nested[t];
    if (!Array.isArray(a) || a.length !== N) throw new CutoffInputError(src, `${field}[${t}]`, `an array of ${N} samples (shape [T, N, K] with N=${N})`, describe(a));
    for (let n = 0; n < N; n++) {
      const r = a[n];
      if (!Array.isArray(r) || r.length !== K) throw new CutoffInputError(src, `${field}[${t}][${n}]`, `an array of ${K} class outputs`, describe(r));
      for (let k = 0; k < K; k++) {
        const v = r[k];
        if (typeof v !== "number" || !Number.isFinite(v)) throw new CutoffInputError(src, `${field}[${t}][${n}][${k}]`, "a finite number", v === null ? "null (NaN/Inf in JSON)" : String(v));
        flat[i++] = v;
      }
    }
  }
  if (!Array.isArray(labels)) throw new CutoffInputError(src, labelFieldOf(field), `an array of ${N} integer labels`, labels === undefined ? "nothing" : describe(labels));
  return outputsFromFlat(flat, [T, N, K], labels as number[], { ...opts, source: src, field });
}

function labelFieldOf(field: string): string {
  const base = field.replace(/\.?(per_step|outputs|accumulated)$/, "");
  return base ? `${base}.labels` : "labels";
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return typeof v === "object" ? "an object" : `${typeof v} ${String(v).slice(0, 30)}`;
}

/** Take samples [from, to) of a split (used by --calibration-split). */
export function sliceSamples(out: CutoffOutputs, from: number, to: number): CutoffOutputs {
  const { T, N, K } = out;
  const n = to - from;
  const Y = new Float32Array(T * n * K);
  for (let t = 0; t < T; t++) Y.set(out.Y.subarray((t * N + from) * K, (t * N + to) * K), t * n * K);
  return { T, N: n, K, Y, labels: out.labels.slice(from, to) };
}

/** Split the first `nCal` samples off as calibration data; the rest is the test split. */
export function splitCalibration(out: CutoffOutputs, nCal: number, source = "<input>"): { calibration: CutoffOutputs; test: CutoffOutputs } {
  if (!Number.isInteger(nCal) || nCal < 1 || nCal >= out.N) {
    throw new CutoffInputError(source, "--calibration-split", `an integer in [1, ${out.N - 1}] (the file has ${out.N} samples)`, String(nCal));
  }
  return { calibration: sliceSamples(out, 0, nCal), test: sliceSamples(out, nCal, out.N) };
}

/** Check two splits are compatible (same T and K). */
export function checkCompatible(cal: CutoffOutputs, test: CutoffOutputs, calSource: string, testSource: string): void {
  if (cal.T !== test.T) {
    throw new CutoffInputError(calSource, "calibration", `T=${test.T} timesteps to match the test outputs of ${testSource}`, `T=${cal.T}`);
  }
  if (cal.K !== test.K) {
    throw new CutoffInputError(calSource, "calibration", `K=${test.K} classes to match the test outputs of ${testSource}`, `K=${cal.K}`);
  }
}

/** Accumulated output row Y(t) of sample n (a view, no copy). */
export function row(out: CutoffOutputs, t: number, n: number): Float32Array {
  const o = (t * out.N + n) * out.K;
  return out.Y.subarray(o, o + out.K);
}

/** Build outputs from an already-accumulated Float32Array without copying (no validation beyond shape). */
export function outputsFromAccumulated(Y: Float32Array, T: number, N: number, K: number, labels: Int32Array): CutoffOutputs {
  if (Y.length !== T * N * K) throw new RangeError(`outputsFromAccumulated: Y has ${Y.length} values, expected ${T * N * K}`);
  if (labels.length !== N) throw new RangeError(`outputsFromAccumulated: ${labels.length} labels, expected ${N}`);
  return { T, N, K, Y, labels };
}
