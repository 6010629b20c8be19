import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { command } from "../../src/cli/commands/calibrate.js";
import { readCalibrationSlot } from "../../src/inference/index.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";
import { expectOneLineError, runCli } from "../inference/helpers.js";
import { itHasHelp, useTinyCheckpoints } from "./helpers.js";

describe("spikecut calibrate", () => {
  const tiny = useTinyCheckpoints();
  itHasHelp(command, "calibrate");

  it("fits topk and conformal at two ε and stores them in the checkpoint (weights unchanged)", async () => {
    const ck = join(tiny.snn + ".cal.safetensors");
    copyFileSync(tiny.snn, ck);
    const before = loadCheckpoint(ck);
    const r = await runCli(command, ["--checkpoint", ck, "--policy", "topk", "--policy", "conformal", "--epsilon", "0.01", "--epsilon", "0.1", "--limit", "150", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ schema: "spikecut.calibration/v1", T: 8, calibration_dropout: 0.3, samples: 150 });
    expect(j.policies.map((p: { policy: string; epsilon: number }) => `${p.policy}@${p.epsilon}`)).toEqual(["topk@0.01", "topk@0.1", "conformal@0.01", "conformal@0.1"]);
    const after = loadCheckpoint(ck);
    const slot = readCalibrationSlot(after)!;
    expect(slot.policies[0]!.state).toMatchObject({ policy: "topk", epsilon: 0.01 });
    expect((slot.policies[0]!.state as unknown as { beta: number[] }).beta).toHaveLength(8);
    for (const [k, t] of before.tensors) expect(Array.from(after.tensors.get(k)!.data)).toEqual(Array.from(t.data));
    expect(after.meta.extra.route).toBe("converted");
  });

  it("text output and --calibration-dropout 0", async () => {
    const ck = join(tiny.snn + ".cal2.safetensors");
    copyFileSync(tiny.snn, ck);
    const r = await runCli(command, ["--checkpoint", ck, "--calibration-dropout", "0", "--limit", "100"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/calibration dropout 0/);
    expect(r.stdout).toMatch(/topk\s+eps=0.01\s+beta\(t\) =/);
    expect(readCalibrationSlot(loadCheckpoint(ck))!.calibration_dropout).toBe(0);
  });

  it("bad input: missing file, ANN checkpoint, invalid ε, bad policy, bad dropout", async () => {
    expectOneLineError(await runCli(command, ["--checkpoint", "/nonexistent/a.safetensors"]), /no such file/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.ann]), /holds a QCFS ANN/, /spikecut convert/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.snn, "--epsilon", "1.5"]), /--epsilon: 1.5 is out of range, expected < 1/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.snn, "--epsilon", "abc"]), /--epsilon: expected a number, got "abc"/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.snn, "--policy", "magic"]), /--policy: expected one of topk, conformal, confidence, got "magic"/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.snn, "--calibration-dropout", "1"]), /--calibration-dropout: 1 is out of range/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.snn, "--data", "/nonexistent/dir"]), /--data \/nonexistent\/dir: no such file or directory/);
  });
});
