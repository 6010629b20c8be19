import { copyFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { command } from "../../src/cli/commands/infer.js";
import { command as calibrate } from "../../src/cli/commands/calibrate.js";
import { expectOneLineError, runCli } from "../inference/helpers.js";
import { itHasHelp, useTinyCheckpoints } from "./helpers.js";

describe("spikecut infer", () => {
  const tiny = useTinyCheckpoints();
  itHasHelp(command, "infer");

  it("uses the stored Top-K state; stops early; reports both wall-clocks", async () => {
    const ck = tiny.snn + ".inf.safetensors";
    copyFileSync(tiny.snn, ck);
    expect((await runCli(calibrate, ["--checkpoint", ck, "--epsilon", "0.05", "--limit", "150"])).code).toBe(0);
    const r = await runCli(command, ["--checkpoint", ck, "--epsilon", "0.05", "--limit", "120", "--batch-size", "64", "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const j = JSON.parse(r.stdout);
    expect(j.policy_source).toMatch(/stored in/);
    expect(j).toMatchObject({ samples: 120, T: 8, policy: "topk", epsilon: 0.05 });
    expect(j.mean_timestep).toBeLessThan(8);
    expect(j.sample_steps).toBe(j.timesteps.reduce((a: number, b: number) => a + b, 0));
    expect(j.all_T.sample_steps).toBe(120 * 8);
    expect(j.wall_clock_speedup).toBeGreaterThan(0);
    expect(j.accuracy).toBeGreaterThan(0.3);
    expect(j.spikes_per_sample).toBeLessThan(j.all_T.spikes_per_sample);
    expect(j.refill).toBe(true);
    // without refill: the same predictions, stop times and counts
    const n = await runCli(command, ["--checkpoint", ck, "--epsilon", "0.05", "--limit", "120", "--batch-size", "64", "--no-refill", "--no-baseline", "--json"]);
    const k = JSON.parse(n.stdout);
    expect(k.refill).toBe(false);
    expect(k.timesteps).toEqual(j.timesteps);
    expect(k.predictions).toEqual(j.predictions);
    expect(k.spikes_per_sample).toBe(j.spikes_per_sample);
  });

  it("calibrates on the fly when the checkpoint holds no state, saying so; ANN converted on the fly", async () => {
    const r = await runCli(command, ["--checkpoint", tiny.snn, "--limit", "80", "--no-baseline"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/calibrating on the fly/);
    expect(r.stdout).toMatch(/accuracy\s+\d+\.\d+ %/);
    expect(r.stdout).toMatch(/mean timestep/);
    const a = await runCli(command, ["--checkpoint", tiny.ann, "--policy", "confidence", "--epsilon", "0.2", "--limit", "60", "--T", "4"]);
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/converting it to an IF SNN with T=4 on the fly/);
    expect(a.stdout).toMatch(/wall-clock .* ms vs .* ms for all 4 steps/);
  });

  it("bad input: missing file, invalid ε, bad policy, bad limit", async () => {
    expectOneLineError(await runCli(command, ["--checkpoint", "missing.safetensors"]), /--checkpoint missing\.safetensors: no such file/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.snn, "--epsilon=-0.1"]), /--epsilon: -0.1 is out of range, expected >= 0/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.snn, "--policy", "oct"]), /--policy: expected one of topk, conformal, confidence, timestep, got "oct"/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.snn, "--limit", "2.5"]), /--limit: expected an integer/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.snn, "--unknown"]), /Unknown option '--unknown'/);
  });
});
