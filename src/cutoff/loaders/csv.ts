/**
 * CSV outputs files, long format, one row per (sample, timestep):
 * ```
 * split,t,sample,label,y0,y1,...,y{K-1}
 * calibration,1,0,3,0.12,-0.5,...
 * test,1,0,7,...
 * ```
 * `t` is 1-based (1..T); `sample` is 0-based within its split; `split` is optional (default: all rows are
 * test) and takes `calibration` or `test`; the class columns are every column after `label`. Every
 * (split, t, sample) must appear exactly once and a sample's label must be the same at every t.
 * Values are per-step outputs unless the accumulation flag says they are already accumulated.
 */
import type { Accumulation, CutoffOutputs, OutputsDataset } from "../types.js";
import { CutoffInputError } from "../errors.js";
import { checkCompatible, outputsFromFlat } from "../outputs.js";

interface Rows { t: number[]; n: number[]; label: number[]; values: number[][]; lines: number[] }

export function parseOutputsCsv(text: string, source: string, accumulation: Accumulation = "per-step"): OutputsDataset {
  const lines = text.split(/\r?\n/);
  let li = 0;
  while (li < lines.length && lines[li].trim() === "") li++;
  if (li >= lines.length) throw new CutoffInputError(source, "(header)", "a header line split,t,sample,label,y0,...", "an empty file");
  const header = lines[li].split(",").map((s) => s.trim());
  const col = (name: string): number => header.indexOf(name);
  const ci = { split: col("split"), t: col("t"), n: col("sample"), label: col("label") };
  for (const k of ["t", "sample", "label"] as const) {
    if (col(k) < 0) throw new CutoffInputError(source, "(header)", `a column named "${k}" (header split,t,sample,label,y0,...)`, header.join(",").slice(0, 60));
  }
  const firstClass = Math.max(ci.split, ci.t, ci.n, ci.label) + 1;
  const K = header.length - firstClass;
  if (K < 2) throw new CutoffInputError(source, "(header)", "at least two class columns after label", `${K}`);
  const bySplit = new Map<string, Rows>();
  for (let i = li + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    const cells = line.split(",");
    const where = `line ${i + 1}`;
    if (cells.length !== header.length) throw new CutoffInputError(source, where, `${header.length} comma-separated cells`, `${cells.length}`);
    const split = ci.split >= 0 ? cells[ci.split].trim() : "test";
    if (split !== "test" && split !== "calibration") throw new CutoffInputError(source, `${where} split`, '"calibration" or "test"', JSON.stringify(split));
    const num = (j: number, name: string, integer: boolean): number => {
      const s = cells[j].trim();
      const v = s === "" ? NaN : Number(s);
      if (!Number.isFinite(v) || (integer && !Number.isInteger(v))) throw new CutoffInputError(source, `${where} ${name}`, integer ? "an integer" : "a finite number", JSON.stringify(s));
      return v;
    };
    let r = bySplit.get(split);
    if (!r) bySplit.set(split, (r = { t: [], n: [], label: [], values: [], lines: [] }));
    r.t.push(num(ci.t, "t", true));
    r.n.push(num(ci.n, "sample", true));
    r.label.push(num(ci.label, "label", true));
    const vals: number[] = [];
    for (let k = 0; k < K; k++) vals.push(num(firstClass + k, header[firstClass + k] || `class ${k}`, false));
    r.values.push(vals);
    r.lines.push(i + 1);
  }
  const build = (name: string, r: Rows): CutoffOutputs => {
    const T = Math.max(...r.t), N = Math.max(...r.n) + 1;
    for (let i = 0; i < r.t.length; i++) {
      if (r.t[i] < 1) throw new CutoffInputError(source, `line ${r.lines[i]} t`, "a 1-based timestep (>= 1)", String(r.t[i]));
      if (r.n[i] < 0) throw new CutoffInputError(source, `line ${r.lines[i]} sample`, "a 0-based sample index (>= 0)", String(r.n[i]));
    }
    if (r.t.length !== T * N) throw new CutoffInputError(source, `${name} rows`, `T*N = ${T}*${N} = ${T * N} rows (one per timestep and sample)`, `${r.t.length}`);
    const flat = new Float64Array(T * N * K);
    const seen = new Uint8Array(T * N);
    const labels = new Array<number>(N).fill(-1);
    for (let i = 0; i < r.t.length; i++) {
      const t = r.t[i] - 1, n = r.n[i];
      if (seen[t * N + n]) throw new CutoffInputError(source, `line ${r.lines[i]}`, `one row per (${name}, t, sample)`, `a duplicate of t=${t + 1}, sample=${n}`);
      seen[t * N + n] = 1;
      if (labels[n] === -1) labels[n] = r.label[i];
      else if (labels[n] !== r.label[i]) throw new CutoffInputError(source, `line ${r.lines[i]} label`, `the same label for sample ${n} at every t (${labels[n]})`, String(r.label[i]));
      flat.set(r.values[i], (t * N + n) * K);
    }
    return outputsFromFlat(flat, [T, N, K], labels, { source, field: name, accumulation });
  };
  const testRows = bySplit.get("test");
  if (!testRows) throw new CutoffInputError(source, "split", "at least one test row", "none");
  const test = build("test", testRows);
  const calRows = bySplit.get("calibration");
  const calibration = calRows ? build("calibration", calRows) : null;
  if (calibration) checkCompatible(calibration, test, source, source);
  return { source, calibration, test };
}

/** Write outputs as the long CSV format above (per-step values must be supplied by the caller). */
export function formatOutputsCsv(splits: { split: "calibration" | "test"; T: number; N: number; K: number; values: ArrayLike<number>; labels: ArrayLike<number> }[]): string {
  const K = splits[0].K;
  const lines = [["split", "t", "sample", "label", ...Array.from({ length: K }, (_, k) => `y${k}`)].join(",")];
  for (const s of splits) {
    for (let t = 0; t < s.T; t++) {
      for (let n = 0; n < s.N; n++) {
        const o = (t * s.N + n) * K;
        const vals: string[] = [];
        for (let k = 0; k < K; k++) vals.push(String(s.values[o + k]));
        lines.push([s.split, t + 1, n, s.labels[n], ...vals].join(","));
      }
    }
  }
  return lines.join("\n") + "\n";
}
