/**
 * Bad input: one-line error naming the file, the field and what was expected; exit code 1; no stack
 * trace; no report directory or partial report written.
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { writeNpy, writeZip } from "../../src/cutoff/index.js";
import { command as cutoffCommand } from "../../src/cli/commands/cutoff.js";
import { command as octCommand } from "../../src/cli/commands/oct.js";
import { runCommand } from "./helpers.js";
import { makeTempDir } from "../helpers/tmp.js";

const dir = makeTempDir("spikecut-bad-");
const good = (T = 3, N = 4, K = 3) => ({
  per_step: Array.from({ length: T }, (_, t) => Array.from({ length: N }, (_, n) => Array.from({ length: K }, (_, k) => ((t + n + k) % 5) / 4))),
  labels: Array.from({ length: N }, (_, n) => n % K),
});
function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === "string" || content instanceof Uint8Array ? content : JSON.stringify(content));
  return p;
}

async function expectUserError(args: string[], ...patterns: RegExp[]) {
  const report = join(dir, `report-${Math.random().toString(36).slice(2)}`);
  const r = await runCommand(cutoffCommand, [...args, "--report", report]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  const msg = r.stderr.trimEnd();
  expect(msg.split("\n")).toHaveLength(1);
  expect(msg).not.toMatch(/\n\s+at /);
  for (const p of patterns) expect(msg).toMatch(p);
  expect(existsSync(report)).toBe(false);
}

describe("bad input files", () => {
  test("wrong shape (ragged sample row)", async () => {
    const g = good();
    g.per_step[1][2] = [1, 2];
    const p = file("ragged.json", { calibration: good(), test: g });
    await expectUserError(["--input", p, "--policy", "topk"], /ragged\.json/, /test\.per_step\[1\]\[2\]/, /expected an array of 3 class outputs/);
  });
  test("wrong number of samples at one timestep", async () => {
    const g = good();
    g.per_step[2].pop();
    const p = file("shortT.json", { test: g });
    await expectUserError(["--input", p, "--policy", "confidence"], /shortT\.json/, /test\.per_step\[2\]/, /4 samples/);
  });
  test("NaN / Inf outputs (JSON null, CSV NaN, npy inf)", async () => {
    const g = good();
    (g.per_step[0][1] as unknown[])[2] = null;
    await expectUserError(["--input", file("nan.json", { test: g }), "--policy", "confidence"], /nan\.json/, /test\.per_step\[0\]\[1\]\[2\]/, /finite number/);
    const csv = "t,sample,label,y0,y1\n1,0,0,0.5,NaN\n";
    await expectUserError(["--input", file("nan.csv", csv), "--policy", "confidence"], /nan\.csv/, /line 2 y1/, /finite number/);
    const y = new Float32Array(2 * 2 * 2).fill(0.5);
    y[5] = Infinity;
    const z = writeZip([{ name: "outputs.npy", data: writeNpy(y, [2, 2, 2]) }, { name: "labels.npy", data: writeNpy(new Int32Array([0, 1]), [2], "<i4") }]);
    await expectUserError(["--input", file("inf.npz", z), "--policy", "confidence"], /inf\.npz/, /outputs\[1\]\[0\]\[1\]/, /finite number/, /Infinity/);
  });
  test("labels out of range / not integers / wrong count", async () => {
    const g = good();
    g.labels[3] = 7;
    await expectUserError(["--input", file("lab.json", { test: g }), "--policy", "confidence"], /lab\.json/, /test\.labels\[3\]/, /integer class index in \[0, 2\]/, /got 7/);
    const h = good();
    (h.labels as unknown[])[0] = 1.5;
    await expectUserError(["--input", file("lab2.json", { test: h }), "--policy", "confidence"], /test\.labels\[0\]/);
    const i = good();
    i.labels.pop();
    await expectUserError(["--input", file("lab3.json", { test: i }), "--policy", "confidence"], /test\.labels/, /4 labels/);
  });
  test("a separate labels file (.npy input + --labels) is the file named in label errors", async () => {
    const outputs = file("ok.npy", writeNpy(new Float32Array(3 * 4 * 3).fill(0.5), [3, 4, 3], "<f4"));
    const labelFiles = [
      file("bad.txt", "0 1 5 2"),
      file("badl.npy", writeNpy(new Int32Array([0, 1, -1, 2]), [4], "<i4")),
    ];
    for (const [cmd, extra] of [[cutoffCommand, ["--policy", "confidence"]], [octCommand, []]] as const) {
      for (const labels of labelFiles) {
        const r = await runCommand(cmd, ["--input", outputs, "--labels", labels, ...extra]);
        expect(r.code).toBe(1);
        expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
        expect(r.stderr).toContain(`${labels}: field "labels[2]": expected an integer class index in [0, 2]`);
        expect(r.stderr).not.toContain("ok.npy: field");
      }
    }
    await expectUserError(["--input", outputs, "--labels", file("short.txt", "0 1"), "--policy", "confidence"], /short\.txt: field "labels"/, /4 labels/, /ok\.npy/);
  });
  test("fewer than two classes", async () => {
    await expectUserError(["--input", file("k1.json", { test: good(3, 4, 1) }), "--policy", "confidence"], /k1\.json/, /test\.per_step\[0\]\[0\]/, /at least two classes/);
    const z = writeZip([{ name: "outputs.npy", data: writeNpy(new Float32Array(4), [2, 2, 1]) }, { name: "labels.npy", data: writeNpy(new Int32Array([0, 0]), [2], "<i4") }]);
    await expectUserError(["--input", file("k1.npz", z), "--policy", "confidence"], /k1\.npz/, /outputs/, /at least two classes/);
  });
  test("epsilon outside [0, 1)", async () => {
    const p = file("ok.json", { calibration: good(), test: good() });
    for (const e of ["1", "-0.1", "2", "abc", "1e-9x"]) await expectUserError(["--input", p, "--policy", "topk", `--epsilon=${e}`], /--epsilon/);
  });
  test("a negative value as a separate argument gets the range message, not parseArgs' ambiguity hint", async () => {
    const p = file("okneg.json", { calibration: good(), test: good() });
    const rangeError = /^--epsilon: -0\.1 is out of range, expected >= 0$/;
    await expectUserError(["--input", p, "--policy", "topk", "--epsilon", "-0.1"], rangeError);
    await expectUserError(["--input", p, "--policy", "topk", "-e", "-0.1"], rangeError);
    await expectUserError(["--input", p, "--policy", "topk", "--epsilon", "0.1", "--epsilon", "-.5"], /^--epsilon: -0\.5 is out of range/);
    await expectUserError(["--input", p, "--policy", "topk", "--pj-ac", "-1"], /^--pj-ac: -1 is out of range, expected >= 0$/);
  });
  test("T mismatch between calibration and test (same file and separate file)", async () => {
    await expectUserError(["--input", file("tm.json", { calibration: good(4), test: good(3) }), "--policy", "topk"], /tm\.json/, /calibration/, /T=3/);
    const cal = file("cal5.json", { test: good(5) });
    await expectUserError(["--input", file("t3.json", { test: good(3) }), "--calibration", cal, "--policy", "topk"], /cal5\.json/, /calibration/, /T=3/, /got T=5/);
  });
  test("no calibration for a calibrated policy", async () => {
    await expectUserError(["--input", file("nocal.json", { test: good() }), "--policy", "conformal"], /nocal\.json/, /calibration/);
  });
  test("missing file, bad JSON, unknown extension, bad npy", async () => {
    await expectUserError(["--input", join(dir, "missing.json"), "--policy", "topk"], /missing\.json/, /no such file/);
    await expectUserError(["--input", file("bad.json", "{not json"), "--policy", "topk"], /bad\.json/, /valid JSON/);
    await expectUserError(["--input", file("x.txt", "1,2"), "--policy", "topk"], /x\.txt/, /\.json, \.npz, \.npy or \.csv/);
    await expectUserError(["--input", file("bad.npz", "PK not really"), "--policy", "topk"], /bad\.npz/, /zip/);
    await expectUserError(["--input", file("x.npy", new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])), "--labels", file("l.txt", "0"), "--policy", "confidence"], /x\.npy/, /NPY|npy/);
    const i8 = writeNpy(new Int32Array(8), [2, 2, 2], "<i4");
    await expectUserError(["--input", file("int.npy", i8), "--labels", file("l2.txt", "0 1"), "--policy", "confidence"], /int\.npy/, /float32 or float64/);
  });
  test("flag errors", async () => {
    const p = file("ok2.json", { calibration: good(), test: good() });
    await expectUserError(["--input", p, "--policy", "magic"], /--policy/);
    await expectUserError(["--input", p, "--policy", "topk", "--k", "9"], /--k/);
    await expectUserError(["--input", p, "--policy", "topk", "--mode", "fuzzy"], /--mode/);
    await expectUserError(["--input", p, "--policy", "timestep", "--timestep", "99"], /--timestep/);
    await expectUserError(["--policy", "topk"], /--input/);
    await expectUserError(["--input", p, "--policy", "topk", "--calibration-split", "2"], /calibration section/);
  });
  test("bad cost file", async () => {
    const p = file("ok3.json", { calibration: good(), test: good() });
    const c = file("cost.json", { layers: [{ name: "l1", neurons: 10, fanOut: 2 }], spikes: [[[1]]] });
    await expectUserError(["--input", p, "--policy", "topk", "--cost", c], /cost\.json/, /spikes/, /shape \[3, 4, L\]/);
  });
  test("oct: bad input is one line too", async () => {
    const g = good();
    g.labels[0] = -1;
    const r = await runCommand(octCommand, ["--input", file("octbad.json", { test: g })]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/octbad\.json: field "test\.labels\[0\]"/);
  });
  test("a failed run leaves no temporary files behind", () => {
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
