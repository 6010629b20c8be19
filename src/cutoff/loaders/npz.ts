/**
 * .npz outputs files (np.savez / np.savez_compressed): a zip of .npy arrays.
 * Test split: `outputs` (read per the accumulation flag), or `per_step`, or `accumulated`, shape [T, N, K],
 * float32/float64; `labels` [N] integer. Optional calibration split: `calibration_outputs` /
 * `calibration_per_step` / `calibration_accumulated` and `calibration_labels`. A `test_` prefix is accepted
 * for the test arrays.
 * Example: np.savez("out.npz", outputs=Y.astype(np.float32), labels=y, calibration_outputs=Yc, calibration_labels=yc)
 */
import type { Accumulation, CutoffOutputs, OutputsDataset } from "../types.js";
import { CutoffInputError } from "../errors.js";
import { checkCompatible, outputsFromFlat } from "../outputs.js";
import { parseNpy, type NpyArray } from "./npy.js";
import { readZipEntries, readZipEntry } from "./zip.js";

/** `labelsSource`: the labels file when the labels are not in `source` (a bare .npy + --labels FILE). */
export function npyToOutputs(arr: NpyArray, labels: NpyArray, source: string, field: string, labelField: string, accumulation: Accumulation, labelsSource?: string): CutoffOutputs {
  if (arr.shape.length !== 3) throw new CutoffInputError(source, field, "a 3-D array [T, N, K]", `shape (${arr.shape.join(", ")})`);
  if (!/f[48]$/.test(arr.dtype)) throw new CutoffInputError(source, field, "float32 or float64 values", `dtype ${arr.dtype}`);
  const [T, N, K] = arr.shape;
  if (labels.shape.length !== 1 || labels.shape[0] !== N) {
    const of = labelsSource === undefined ? field : `${field} in ${source}`;
    throw new CutoffInputError(labelsSource ?? source, labelField, `a 1-D array of ${N} labels (N of ${of})`, `shape (${labels.shape.join(", ")})`);
  }
  return outputsFromFlat(arr.data, [T, N, K], labels.data as ArrayLike<number>, { source, field, accumulation, labelsSource });
}

export function parseNpz(buf: Uint8Array, source: string, accumulation: Accumulation = "per-step"): OutputsDataset {
  const entries = readZipEntries(buf, source);
  const arrays = new Map<string, NpyArray>();
  const names = entries.map((e) => e.name.replace(/\.npy$/, ""));
  const get = (name: string): NpyArray | undefined => {
    const i = names.indexOf(name);
    if (i < 0) return undefined;
    if (!arrays.has(name)) arrays.set(name, parseNpy(readZipEntry(buf, entries[i], source), source, name));
    return arrays.get(name);
  };
  const find = (prefixes: string[]): { name: string; acc: Accumulation } | null => {
    for (const p of prefixes) {
      if (names.includes(`${p}per_step`)) return { name: `${p}per_step`, acc: "per-step" };
      if (names.includes(`${p}accumulated`)) return { name: `${p}accumulated`, acc: "accumulated" };
      if (names.includes(`${p}outputs`)) return { name: `${p}outputs`, acc: accumulation };
    }
    return null;
  };
  const t = find(["", "test_"]);
  if (!t) throw new CutoffInputError(source, "outputs", "an array named outputs, per_step or accumulated [T, N, K]", `arrays ${names.join(", ") || "(none)"}`);
  const tl = t.name.startsWith("test_") && names.includes("test_labels") ? "test_labels" : "labels";
  const tLabels = get(tl);
  if (!tLabels) throw new CutoffInputError(source, "labels", "an integer array named labels [N]", "nothing");
  const test = npyToOutputs(get(t.name)!, tLabels, source, t.name, tl, t.acc);
  let calibration: CutoffOutputs | null = null;
  const c = find(["calibration_"]);
  if (c) {
    const cl = get("calibration_labels");
    if (!cl) throw new CutoffInputError(source, "calibration_labels", "an integer array [N_cal] next to " + c.name, "nothing");
    calibration = npyToOutputs(get(c.name)!, cl, source, c.name, "calibration_labels", c.acc);
    checkCompatible(calibration, test, source, source);
  }
  return { source, calibration, test };
}
