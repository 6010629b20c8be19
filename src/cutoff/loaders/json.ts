/**
 * JSON outputs files, as `shared/fixtures/cutoff-reference.json`:
 * ```
 * { "T": 8, "classes": 10,                                   // optional, checked when present
 *   "calibration": { "per_step": [T][N][K], "labels": [N] },  // optional
 *   "test":        { "per_step": [T][N][K], "labels": [N] } }
 * ```
 * A split may hold `accumulated` (already summed Y(t)) instead of `per_step`, or `outputs` (read according
 * to the accumulation flag). A file with no `test`/`calibration` keys may hold one split at the top level.
 * Other keys (e.g. `expected`, `note`) are ignored.
 */
import type { Accumulation, CutoffOutputs, OutputsDataset } from "../types.js";
import { CutoffInputError, describeValue } from "../errors.js";
import { checkCompatible, outputsFromNested } from "../outputs.js";

function splitFrom(obj: unknown, name: string, source: string, accumulation: Accumulation): CutoffOutputs {
  const prefix = name ? `${name}.` : "";
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    throw new CutoffInputError(source, name || "(top level)", "an object with per_step (or accumulated/outputs) and labels", describeValue(obj));
  }
  const o = obj as Record<string, unknown>;
  let key: string, acc: Accumulation;
  if ("per_step" in o) { key = "per_step"; acc = "per-step"; }
  else if ("accumulated" in o) { key = "accumulated"; acc = "accumulated"; }
  else if ("outputs" in o) { key = "outputs"; acc = accumulation; }
  else throw new CutoffInputError(source, `${prefix}per_step`, "a [T][N][K] array of outputs (or \"accumulated\" / \"outputs\")", "nothing");
  if (!("labels" in o)) throw new CutoffInputError(source, `${prefix}labels`, "an array of integer class labels", "nothing");
  return outputsFromNested(o[key], o.labels, { source, field: `${prefix}${key}`, accumulation: acc });
}

/** Parse the text of a JSON outputs file. */
export function parseOutputsJson(text: string, source: string, accumulation: Accumulation = "per-step"): OutputsDataset {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CutoffInputError(source, "(file)", "valid JSON", (e as Error).message.split("\n")[0]);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new CutoffInputError(source, "(top level)", "a JSON object", describeValue(doc));
  const d = doc as Record<string, unknown>;
  let calibration: CutoffOutputs | null = null;
  let test: CutoffOutputs;
  if ("test" in d || "calibration" in d) {
    if (!("test" in d)) throw new CutoffInputError(source, "test", "a test split next to the calibration split", "nothing");
    test = splitFrom(d.test, "test", source, accumulation);
    if ("calibration" in d && d.calibration !== null) {
      calibration = splitFrom(d.calibration, "calibration", source, accumulation);
      if (calibration.T !== test.T) throw new CutoffInputError(source, "calibration.per_step", `T=${test.T} timesteps like the test split`, `T=${calibration.T}`);
      checkCompatible(calibration, test, source, source);
    }
  } else {
    test = splitFrom(d, "", source, accumulation);
  }
  if ("T" in d && d.T !== test.T) throw new CutoffInputError(source, "T", `${test.T} (the number of timesteps in the outputs)`, describeValue(d.T));
  if ("classes" in d && d.classes !== test.K) throw new CutoffInputError(source, "classes", `${test.K} (the number of classes in the outputs)`, describeValue(d.classes));
  return { source, calibration, test };
}
