import { describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { command } from "../../src/cli/commands/data.js";
import { UserError } from "../../src/cli/command.js";
import { writeAedat4, writeIdx, bundledDir } from "../../src/data/index.js";
import { randomStream, runDataCommand, tmp } from "./helpers.js";

const run = runDataCommand;

describe("spikecut data", () => {
  it("info on an event recording: events, ON/OFF, duration, rate, sensor", async () => {
    const d = tmp();
    const s = randomStream(1000, 346, 260);
    const p = join(d, "rec.aedat4");
    writeAedat4(p, s, { compression: "zstd" });
    const { code, out } = await run("info", p);
    expect(code).toBe(0);
    expect(out).toContain("format: aedat4 (zstd packets)");
    expect(out).toContain("sensor: 346x260");
    expect(out).toMatch(/events: 1000 \(ON \d+, OFF \d+\)/);
    expect(out).toMatch(/duration: [\d.]+ ms/);
    expect(out).toMatch(/event rate: [\d.]+ kev\/s/);
    const j = JSON.parse((await run("info", p, "--json")).out);
    expect(j).toMatchObject({ format: "aedat4", events: 1000, width: 346, height: 260, compression: "zstd" });
    expect(j.on + j.off).toBe(1000);
  });

  it("info on a dataset folder and on a single IDX file, --format overrides detection", async () => {
    const { out } = await run("info", bundledDir());
    expect(out).toContain("dataset: Fashion-MNIST");
    expect(out).toContain("train: 6000 images, shape [1, 28, 28], 10 classes");
    const d = tmp();
    writeIdx(join(d, "labels.dat"), new Uint8Array([0, 1, 1, 2]), [4]);
    const j = JSON.parse((await run("info", join(d, "labels.dat"), "--format", "idx", "--json")).out);
    expect(j).toMatchObject({ format: "idx", shape: [4], classes: 3, perClass: [1, 2, 1] });
  });

  it("emulate + frames + info on the emulated folder", async () => {
    const d = tmp();
    const e = JSON.parse((await run("emulate", "--split", "test", "--limit", "3", "--format", "npy", "--out", d, "--json")).out);
    expect(e.test.samples).toBe(3);
    const info = await run("info", d);
    expect(info.out).toMatch(/test: 3 recordings in 10 classes/);
    const rec = join(d, "test", "9", "00000.npy");
    expect(existsSync(rec)).toBe(true);
    const png = join(d, "f.png");
    const f = JSON.parse((await run("frames", rec, "-T", "4", "--size", "17", "--png", png, "--json")).out);
    expect(f.shape).toEqual([4, 2, 17, 17]);
    expect(f.perFrame).toHaveLength(4);
    expect(existsSync(png)).toBe(true);
  });

  it("user errors are one line and name the problem", async () => {
    const d = tmp();
    writeFileSync(join(d, "bad.aedat4"), "#!AER-DAT4.0\r\n\x05\x00");
    await expect(run("info", join(d, "bad.aedat4"))).rejects.toThrow(UserError);
    await expect(run("info", join(d, "bad.aedat4"))).rejects.toThrow(/bad\.aedat4: truncated: no IOHeader after the magic/);
    await expect(run("info", join(d, "missing"))).rejects.toThrow(/missing: no such file or directory/);
    await expect(run("info", "x", "--format", "jpeg")).rejects.toThrow(/--format: expected one of idx, cifar, nmnist/);
    await expect(run("frob")).rejects.toThrow(/unknown subcommand "frob"/);
    await expect(run("emulate", "--format", "idx")).rejects.toThrow(/--format: expected an event format/);
    await expect(run("frames", join(d, "bad.aedat4"), "--mode", "x")).rejects.toThrow(/--mode: expected time or count/);
    expect(command.usage).toContain("examples:");
  });
});
