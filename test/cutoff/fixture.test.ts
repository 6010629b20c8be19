/**
 * The contract test of issue 4: every policy and ε in the shared fixture's `expected` section, through
 * the library, the CLI command's run(), and (when built) the spikecut binary.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import {
  accuracyPerTimestep, evaluatePolicy, getPolicy, loadOutputsFile, oct, outputsFromNested, type OutputsDataset,
} from "../../src/cutoff/index.js";
import { command as cutoffCommand } from "../../src/cli/commands/cutoff.js";
import { command as octCommand } from "../../src/cli/commands/oct.js";
import { FIXTURE, expectedCases, fixture, runCommand } from "./helpers.js";
import { makeTempDir } from "../helpers/tmp.js";

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);

function checkAgainst(got: any, e: any, policy: string) {
  expect(rel(got.accuracy, e.accuracy)).toBeLessThan(1e-6);
  expect(rel(got.mean_timestep, e.mean_timestep)).toBeLessThan(1e-6);
  expect(got.timesteps).toEqual(e.timesteps);
  if (policy === "topk") {
    expect(got.beta).toHaveLength(e.beta.length);
    got.beta.forEach((b: number, i: number) => expect(rel(b, e.beta[i])).toBeLessThan(1e-6));
  }
  if (policy === "conformal") {
    expect(got.thresholds).toHaveLength(e.thresholds.length);
    got.thresholds.forEach((b: number, i: number) => expect(Math.abs(b - e.thresholds[i])).toBeLessThan(1e-6));
  }
}

describe("shared fixture through the library", () => {
  const f = fixture();
  const data: OutputsDataset = {
    source: "fixture",
    calibration: outputsFromNested(f.calibration.per_step, f.calibration.labels),
    test: outputsFromNested(f.test.per_step, f.test.labels),
  };
  test("loader agrees with the nested builder", () => {
    const d = loadOutputsFile(FIXTURE);
    expect(d.test.Y).toEqual(data.test.Y);
    expect(d.calibration!.N).toBe(600);
  });
  test("accuracy per timestep", () => {
    const acc = accuracyPerTimestep(data.test);
    f.expected.accuracy_per_timestep.forEach((a: number, i: number) => expect(rel(acc[i], a)).toBeLessThan(1e-6));
  });
  test("OCT", () => {
    const o = oct(data.test);
    checkAgainst(o, f.expected.oct, "oct");
  });
  for (const c of expectedCases()) {
    test(`${c.key}`, () => {
      const r = evaluatePolicy(c.policy, data, c.epsilon);
      const st = r.state as any;
      checkAgainst({ ...r, beta: st.beta, thresholds: st.thresholds }, c.e, c.policy);
      // the saved state survives JSON and gives the same decisions
      const pol = getPolicy(c.policy);
      const again = pol.decide(JSON.parse(JSON.stringify(r.state)), data.test);
      expect(Array.from(again)).toEqual(c.e.timesteps);
    });
  }
});

describe("shared fixture through the CLI command run()", () => {
  for (const c of expectedCases()) {
    test(`cutoff --policy ${c.policy} --epsilon ${c.epsilon} --json`, async () => {
      const r = await runCommand(cutoffCommand, ["--input", FIXTURE, "--policy", c.policy, "--epsilon", String(c.epsilon), "--json"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.policy).toBe(c.policy);
      expect(j.epsilon).toBe(c.epsilon);
      checkAgainst(j, c.e, c.policy);
      if (c.policy !== "topk") expect(j.beta).toBeUndefined();
    });
  }
  test("sweep: several --epsilon values give one result per ε", async () => {
    const cases = expectedCases().filter((c) => c.policy === "topk");
    const args = ["--input", FIXTURE, "--policy", "topk", "--json", ...cases.flatMap((c) => ["--epsilon", String(c.epsilon)])];
    const r = await runCommand(cutoffCommand, args);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.results).toHaveLength(cases.length);
    cases.forEach((c, i) => checkAgainst(j.results[i], c.e, "topk"));
    expect(j.frontier).toHaveLength(cases.length);
  });
  test("timestep policy prints accuracy_per_timestep", async () => {
    const r = await runCommand(cutoffCommand, ["--input", FIXTURE, "--policy", "timestep", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const e = fixture().expected.accuracy_per_timestep;
    expect(j.accuracy_per_timestep).toHaveLength(e.length);
    j.accuracy_per_timestep.forEach((a: number, i: number) => expect(rel(a, e[i])).toBeLessThan(1e-6));
    expect(j.mean_timestep).toBe(8);
  });
  test("oct --json", async () => {
    const r = await runCommand(octCommand, ["--input", FIXTURE, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j).sort()).toEqual(["accuracy", "mean_timestep", "timesteps"]);
    checkAgainst(j, fixture().expected.oct, "oct");
  });
});

const BIN = "dist/src/cli/main.js";
describe.skipIf(!existsSync(BIN))("shared fixture through the built binary", () => {
  for (const c of expectedCases()) {
    test(`node ${BIN} cutoff --policy ${c.policy} --epsilon ${c.epsilon}`, () => {
      const out = execFileSync(process.execPath, [BIN, "cutoff", "--input", FIXTURE, "--policy", c.policy, "--epsilon", String(c.epsilon), "--json"], { encoding: "utf8" });
      checkAgainst(JSON.parse(out), c.e, c.policy);
    });
  }
  test(`node ${BIN} oct`, () => {
    const out = execFileSync(process.execPath, [BIN, "oct", "--input", FIXTURE, "--json"], { encoding: "utf8" });
    checkAgainst(JSON.parse(out), fixture().expected.oct, "oct");
  });
});

describe("shared fixture with calibration given other ways", () => {
  const f = fixture();
  const dir = makeTempDir("spikecut-fixture-");
  // one split holding the 600 calibration samples followed by the 400 test samples
  const joined = join(dir, "joined.json");
  writeFileSync(joined, JSON.stringify({
    per_step: f.calibration.per_step.map((c, t) => [...c, ...f.test.per_step[t]]),
    labels: [...f.calibration.labels, ...f.test.labels],
  }));
  const calFile = join(dir, "cal.json");
  const testFile = join(dir, "test.json");
  writeFileSync(calFile, JSON.stringify(f.calibration));
  writeFileSync(testFile, JSON.stringify({ test: f.test }));
  for (const c of expectedCases()) {
    test(`${c.key} via --calibration-split 600 and via --calibration FILE`, async () => {
      const a = await runCommand(cutoffCommand, ["--input", joined, "--calibration-split", "600", "--policy", c.policy, "--epsilon", String(c.epsilon), "--json"]);
      expect(a.code).toBe(0);
      checkAgainst(JSON.parse(a.stdout), c.e, c.policy);
      const b = await runCommand(cutoffCommand, ["--input", testFile, "--calibration", calFile, "--policy", c.policy, "--epsilon", String(c.epsilon), "--json"]);
      expect(b.code).toBe(0);
      checkAgainst(JSON.parse(b.stdout), c.e, c.policy);
    });
  }
});
