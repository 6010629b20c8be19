import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { command } from "../../src/cli/commands/convert.js";
import { loadModelCheckpoint } from "../../src/inference/index.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";
import { expectOneLineError, runCli, tinyAnn, type TinyAnn } from "../inference/helpers.js";

describe("spikecut convert", () => {
  let tiny: TinyAnn;
  beforeAll(async () => {
    tiny = await tinyAnn();
  });

  it("--help has usage and examples", async () => {
    const r = await runCli(command, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: spikecut convert/);
    expect(r.stdout).toMatch(/examples:/);
  });

  it("QCFS ANN -> IF SNN checkpoint: route converted, thresholds = λ, T", async () => {
    const out = join(tiny.dir, "conv.safetensors");
    const r = await runCli(command, ["--checkpoint", tiny.checkpoint, "--out", out, "--T", "6", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ route: "converted", T: 6, fold_bn: false, layers: 3 });
    const ann = loadCheckpoint(tiny.checkpoint);
    const lambdas = Object.values(ann.meta.thresholds!);
    expect(Object.values(j.thresholds)).toEqual(lambdas);
    const snn = loadModelCheckpoint(out);
    expect(snn.kind).toBe("converted");
    expect(snn.model.options).toMatchObject({ route: "snn", neuron: "if", T: 6 });
    expect(snn.ckpt.meta.extra.route).toBe("converted");
    expect(Object.values(snn.ckpt.meta.thresholds!)).toEqual(lambdas);
  });

  it("--fold-bn writes a checkpoint that rebuilds", async () => {
    const out = join(tiny.dir, "conv-fold.safetensors");
    const r = await runCli(command, ["--checkpoint", tiny.checkpoint, "--out", out, "--fold-bn"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/BN folded/);
    expect(loadModelCheckpoint(out).model.options.foldBatchNorm).toBe(true);
  });

  it("bad input: missing file, SNN checkpoint, not a checkpoint, bad T, missing --out", async () => {
    expectOneLineError(await runCli(command, ["--checkpoint", join(tiny.dir, "nope.safetensors"), "--out", join(tiny.dir, "x.safetensors")]), /nope\.safetensors: no such file/);
    const snn = join(tiny.dir, "conv2.safetensors");
    expect((await runCli(command, ["--checkpoint", tiny.checkpoint, "--out", snn])).code).toBe(0);
    expectOneLineError(await runCli(command, ["--checkpoint", snn, "--out", join(tiny.dir, "y.safetensors")]), /holds an SNN \(route "converted"\), not a QCFS ANN/);
    const junk = join(tiny.dir, "junk.safetensors");
    writeFileSync(junk, "not a safetensors file at all");
    expectOneLineError(await runCli(command, ["--checkpoint", junk, "--out", join(tiny.dir, "z.safetensors")]), /junk\.safetensors/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.checkpoint, "--out", join(tiny.dir, "w.safetensors"), "--T", "0"]), /--T: 0 is out of range/);
    expectOneLineError(await runCli(command, ["--checkpoint", tiny.checkpoint]), /missing required flag --out/);
    expect(existsSync(join(tiny.dir, "w.safetensors"))).toBe(false);
  });
});
