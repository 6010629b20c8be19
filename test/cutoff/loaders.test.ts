/** Loader round trips (files written by the test) and the accumulation flag. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import {
  formatOutputsCsv, loadOutputsFile, outputsFromFlat, parseNpy, readZipEntries, writeNpy, writeZip,
} from "../../src/cutoff/index.js";
import { synthetic } from "./helpers.js";
import { makeTempDir } from "../helpers/tmp.js";

const dir = makeTempDir("spikecut-loaders-");
const T = 5, N = 12, K = 4;
const cal = synthetic(7, T, 9, K);
const te = synthetic(8, T, N, K);
const ref = outputsFromFlat(te.perStep, [T, N, K], te.labels);
const refCal = outputsFromFlat(cal.perStep, [T, 9, K], cal.labels);

function accumulate(per: Float32Array, n: number): Float32Array {
  const y = new Float32Array(per.length);
  for (let i = 0; i < per.length; i++) y[i] = i < n * K ? per[i] : y[i - n * K] + per[i];
  return y;
}

describe("npy", () => {
  test("float32 outputs + int64 labels round trip", () => {
    writeFileSync(join(dir, "o32.npy"), writeNpy(te.perStep, [T, N, K], "<f4"));
    writeFileSync(join(dir, "l64.npy"), writeNpy(BigInt64Array.from(Array.from(te.labels, BigInt)), [N], "<i8"));
    const d = loadOutputsFile(join(dir, "o32.npy"), { labelsPath: join(dir, "l64.npy") });
    expect(d.test.Y).toEqual(ref.Y);
    expect(d.test.labels).toEqual(ref.labels);
    expect(d.calibration).toBeNull();
  });
  test("float64 outputs + int32 labels + text labels", () => {
    writeFileSync(join(dir, "o64.npy"), writeNpy(Float64Array.from(te.perStep), [T, N, K], "<f8"));
    writeFileSync(join(dir, "l32.npy"), writeNpy(te.labels, [N], "<i4"));
    writeFileSync(join(dir, "labels.txt"), Array.from(te.labels).join("\n"));
    expect(loadOutputsFile(join(dir, "o64.npy"), { labelsPath: join(dir, "l32.npy") }).test.Y).toEqual(ref.Y);
    expect(loadOutputsFile(join(dir, "o64.npy"), { labelsPath: join(dir, "labels.txt") }).test.labels).toEqual(ref.labels);
  });
  test("header parsing: shape and dtype", () => {
    const a = parseNpy(writeNpy(new Float32Array(6), [2, 3], "<f4"), "x");
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe("<f4");
    const b = parseNpy(writeNpy(new Int32Array([1, 2, 3]), [3], "<i4"), "x");
    expect(Array.from(b.data as number[])).toEqual([1, 2, 3]);
  });
  test("accumulated flag: accumulated file equals per-step file", () => {
    writeFileSync(join(dir, "acc.npy"), writeNpy(accumulate(te.perStep, N), [T, N, K], "<f4"));
    const d = loadOutputsFile(join(dir, "acc.npy"), { labelsPath: join(dir, "l32.npy"), accumulation: "accumulated" });
    expect(d.test.Y).toEqual(ref.Y);
  });
});

describe("npz", () => {
  for (const method of [0, 8] as const) {
    test(`${method === 0 ? "stored" : "deflate"} entries with a calibration split`, () => {
      const zip = writeZip([
        { name: "outputs.npy", data: writeNpy(te.perStep, [T, N, K], "<f4") },
        { name: "labels.npy", data: writeNpy(te.labels, [N], "<i4") },
        { name: "calibration_outputs.npy", data: writeNpy(Float64Array.from(cal.perStep), [T, 9, K], "<f8") },
        { name: "calibration_labels.npy", data: writeNpy(cal.labels, [9], "<i4") },
      ], method);
      const p = join(dir, `m${method}.npz`);
      writeFileSync(p, zip);
      expect(readZipEntries(zip, p).map((e) => e.method)).toEqual([method, method, method, method]);
      const d = loadOutputsFile(p);
      expect(d.test.Y).toEqual(ref.Y);
      expect(d.calibration!.Y).toEqual(refCal.Y);
      expect(d.calibration!.labels).toEqual(refCal.labels);
    });
  }
  test("accumulated array name", () => {
    const p = join(dir, "acc.npz");
    writeFileSync(p, writeZip([
      { name: "accumulated.npy", data: writeNpy(accumulate(te.perStep, N), [T, N, K], "<f4") },
      { name: "labels.npy", data: writeNpy(te.labels, [N], "<i4") },
    ], 8));
    expect(loadOutputsFile(p).test.Y).toEqual(ref.Y);
  });
  // Debian's interpreter (CI installs python3-numpy); the python3 first on PATH may be another one
  const PY = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  let hasNumpy = false;
  try { execFileSync(PY, ["-c", "import numpy"], { stdio: "ignore" }); hasNumpy = true; } catch { /* no numpy */ }
  test.skipIf(!hasNumpy)("files written by NumPy itself (np.savez, np.savez_compressed, np.save)", () => {
    const py = `
import numpy as np, sys
d = sys.argv[1]
rng = np.random.default_rng(0)
Y = rng.normal(size=(${T}, ${N}, ${K})).astype(np.float32)
y = rng.integers(0, ${K}, size=${N})
np.savez(d + "/np.npz", outputs=Y, labels=y)
np.savez_compressed(d + "/npc.npz", outputs=Y.astype(np.float64), labels=y, calibration_outputs=Y, calibration_labels=y)
np.save(d + "/np.npy", Y); np.save(d + "/npl.npy", y)
np.save(d + "/big.npy", Y.astype(">f4"))
Ya = Y.cumsum(0, dtype=np.float32)
np.save(d + "/ref.npy", Ya)
`;
    execFileSync(PY, ["-c", py, dir]);
    const refAcc = parseNpy(new Uint8Array(readFileSync(join(dir, "ref.npy"))), "ref").data as Float32Array;
    const a = loadOutputsFile(join(dir, "np.npz"));
    const b = loadOutputsFile(join(dir, "npc.npz"));
    const c = loadOutputsFile(join(dir, "np.npy"), { labelsPath: join(dir, "npl.npy") });
    const e = loadOutputsFile(join(dir, "big.npy"), { labelsPath: join(dir, "npl.npy") });
    for (const x of [a.test, b.test, b.calibration!, c.test, e.test]) expect(x.Y).toEqual(refAcc);
    expect(a.test.labels).toEqual(b.test.labels);
  });
});

describe("csv", () => {
  test("long format with calibration and test splits", () => {
    const text = formatOutputsCsv([
      { split: "calibration", T, N: 9, K, values: cal.perStep, labels: cal.labels },
      { split: "test", T, N, K, values: te.perStep, labels: te.labels },
    ]);
    const p = join(dir, "o.csv");
    writeFileSync(p, text);
    const d = loadOutputsFile(p);
    expect(d.test.Y).toEqual(ref.Y);
    expect(d.calibration!.Y).toEqual(refCal.Y);
  });
  test("rows in any order, no split column", () => {
    const text = formatOutputsCsv([{ split: "test", T, N, K, values: te.perStep, labels: te.labels }]).trim().split("\n");
    const body = text.slice(1).map((l) => l.split(",").slice(1).join(",")).reverse();
    const p = join(dir, "o2.csv");
    writeFileSync(p, [text[0].split(",").slice(1).join(","), ...body].join("\n"));
    expect(loadOutputsFile(p).test.Y).toEqual(ref.Y);
  });
});
