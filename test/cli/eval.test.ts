import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { command } from "../../src/cli/commands/eval.js";
import { command as cutoff } from "../../src/cli/commands/cutoff.js";
import { expectOneLineError, runCli, tinySnnCheckpoint } from "../inference/helpers.js";
import { makeTempDir } from "../helpers/tmp.js";

describe("spikecut eval", () => {
  let snn: string;
  const dir = makeTempDir("spikecut-eval-");
  beforeAll(async () => {
    snn = await tinySnnCheckpoint();
  });

  it("--help has usage and examples", async () => {
    const r = await runCli(command, ["--help"]);
    expect(r.stdout).toMatch(/usage: spikecut eval/);
    expect(r.stdout).toMatch(/examples:/);
  });

  it("every policy, ε sweep, OCT, acc(t), cost, report and outputs file that spikecut cutoff re-analyses identically", async () => {
    const report = join(dir, "report");
    const outputs = join(dir, "outputs.json");
    const r = await runCli(command, ["--checkpoint", snn, "--limit", "100", "--calibration-limit", "150", "--epsilon", "0.01", "--epsilon", "0.1", "--report", report, "--outputs", outputs, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.accuracy_per_timestep).toHaveLength(8);
    expect(j.calibration).toMatchObject({ samples: 150, dropout: 0.3 });
    expect(j.test.samples).toBe(100);
    expect(j.policies.map((p: { policy: string }) => p.policy)).toEqual(["topk", "confidence", "conformal", "timestep"]);
    const topk = j.policies[0].results;
    expect(topk.map((x: { epsilon: number }) => x.epsilon)).toEqual([0.01, 0.1]);
    expect(topk[0].speedup.vs_max_timestep).toBeCloseTo(8 / topk[0].mean_timestep, 10);
    expect(j.oct.accuracy).toBeCloseTo(j.accuracy_per_timestep[7], 12);
    expect(j.cost.totals.sops_per_sample.cutoff).toBeLessThanOrEqual(j.cost.totals.sops_per_sample.full);
    for (const f of ["report.json", "report.md", "report.html"]) expect(existsSync(join(report, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(report, "report.json"), "utf8")).cost).not.toBeNull();
    // the outputs file in the fixture's format: spikecut cutoff gives the same Top-K result
    const c = await runCli(cutoff, ["--input", outputs, "--policy", "topk", "--epsilon", "0.01", "--json"]);
    expect(c.code).toBe(0);
    const cj = JSON.parse(c.stdout);
    expect(cj.accuracy).toBe(topk[0].accuracy);
    expect(cj.mean_timestep).toBe(topk[0].mean_timestep);
  });

  it("text output", async () => {
    const r = await runCli(command, ["--checkpoint", snn, "--limit", "60", "--calibration-limit", "60", "--policy", "topk", "--policy", "timestep"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/acc\(t\), t=1\.\.8/);
    expect(r.stdout).toMatch(/OCT \(oracle\)/);
    expect(r.stdout).toMatch(/cost per sample at topk/);
  });

  it("bad input: missing file, invalid ε, --outputs not .json, bad T", async () => {
    expectOneLineError(await runCli(command, ["--checkpoint", join(dir, "none.safetensors")]), /none\.safetensors: no such file/);
    expectOneLineError(await runCli(command, ["--checkpoint", snn, "--epsilon", "1"]), /--epsilon: 1 is out of range, expected < 1/);
    expectOneLineError(await runCli(command, ["--checkpoint", snn, "--outputs", join(dir, "o.npz")]), /expected a \.json file name/);
    expectOneLineError(await runCli(command, ["--checkpoint", snn, "--T", "x"]), /--T: expected a number/);
    expectOneLineError(await runCli(command, ["--checkpoint", dir]), /is a directory/);
  });
});
