/**
 * Load an outputs file by extension: .json, .npy (+ labels file), .npz, .csv.
 */
import { readFileSync, statSync } from "node:fs";
import type { Accumulation, OutputsDataset } from "../types.js";
import { CutoffInputError } from "../errors.js";
import { parseOutputsJson } from "./json.js";
import { parseNpy } from "./npy.js";
import { npyToOutputs, parseNpz } from "./npz.js";
import { parseOutputsCsv } from "./csv.js";

export { parseOutputsJson } from "./json.js";
export { parseNpy, writeNpy, type NpyArray } from "./npy.js";
export { parseNpz, npyToOutputs } from "./npz.js";
export { parseOutputsCsv, formatOutputsCsv } from "./csv.js";
export { readZipEntries, readZipEntry, writeZip, crc32, type ZipEntry } from "./zip.js";

export interface LoadOptions {
  /** Whether the file holds per-step outputs (default) or accumulated ones (ignored when the file says). */
  accumulation?: Accumulation;
  /** Labels for a bare .npy outputs file: a .npy integer array, or a text/CSV file of integers. */
  labelsPath?: string;
}

function readBytes(path: string, field = "(file)"): Buffer {
  try {
    if (statSync(path).isDirectory()) throw new CutoffInputError(path, field, "a file", "a directory");
    return readFileSync(path);
  } catch (e) {
    if (e instanceof CutoffInputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CutoffInputError(path, field, "a readable file", code === "ENOENT" ? "no such file" : code ?? (e as Error).message);
  }
}

function u8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function loadLabels(path: string) {
  const b = readBytes(path, "labels");
  if (path.endsWith(".npy")) return parseNpy(u8(b), path, "labels");
  const text = b.toString("utf8");
  const cells = text.split(/[\s,]+/).filter((s) => s.length > 0);
  const data = cells.map((s) => Number(s));
  const bad = data.findIndex((v) => !Number.isInteger(v));
  if (bad >= 0) throw new CutoffInputError(path, `labels[${bad}]`, "an integer", JSON.stringify(cells[bad]));
  return { shape: [data.length], dtype: "<i8", data };
}

/** Load an outputs file. Throws CutoffInputError (one line: file, field, expectation) on bad input. */
export function loadOutputsFile(path: string, opts: LoadOptions = {}): OutputsDataset {
  const acc = opts.accumulation ?? "per-step";
  const lower = path.toLowerCase();
  if (lower.endsWith(".json")) return parseOutputsJson(readBytes(path).toString("utf8"), path, acc);
  if (lower.endsWith(".npz")) return parseNpz(u8(readBytes(path)), path, acc);
  if (lower.endsWith(".csv")) return parseOutputsCsv(readBytes(path).toString("utf8"), path, acc);
  if (lower.endsWith(".npy")) {
    const arr = parseNpy(u8(readBytes(path)), path, "outputs");
    if (!opts.labelsPath) throw new CutoffInputError(path, "labels", "a labels file for a bare .npy (pass --labels FILE), or use .npz with a labels array", "none");
    const labels = loadLabels(opts.labelsPath);
    return { source: path, calibration: null, test: npyToOutputs(arr, labels, path, "outputs", "labels", acc, opts.labelsPath) };
  }
  throw new CutoffInputError(path, "(file name)", "a .json, .npz, .npy or .csv outputs file", JSON.stringify(path.split("/").pop()));
}
