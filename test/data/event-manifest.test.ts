/**
 * The sensor size of formats that do not record it (.npy, N-MNIST): the emulator's dataset.json, the --sensor flag,
 * and what `data info` / `data frames` report with and without them. Also the emulate flags and progress reports.
 */
import { readFileSync, writeFileSync, copyFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  emulateDataset, loadBundledFashionMnist, loadEventFolder, readEventManifest, readEvents, subsetFrames, writeEventManifest, encodeAedat2,
  MANIFEST_FILE, type EventStream,
} from "../../src/data/index.js";
import { runDataCommand, tmp } from "./helpers.js";

const run = runDataCommand;

const firstFile = (dir: string): string => {
  const cls = readdirSync(dir).filter((d) => /^\d+$/.test(d)).sort()[0]!;
  return join(dir, cls, readdirSync(join(dir, cls)).sort()[0]!);
};

describe("emulated .npy datasets keep their 34x34 sensor", () => {
  it("emulate writes dataset.json; info on the folder and on one file prints 34x34; frames integrate at 34x34", async () => {
    const d = tmp();
    await run("emulate", "--split", "test", "--limit", "12", "--format", "npy", "--out", d, "--json");
    const m = readEventManifest(join(d, "test"))!;
    expect(m).toMatchObject({ format: "npy", sensor: { width: 34, height: 34 }, recordings: 12 });
    expect(m.classes).toHaveLength(10);
    const folder = await run("info", d);
    expect(folder.out).toContain("sensor 34x34 (dataset.json)");
    const j = JSON.parse((await run("info", d, "--json")).out);
    expect(j.splits.test).toMatchObject({ sensor: [34, 34], format: "npy" });
    const rec = firstFile(join(d, "test"));
    const one = await run("info", rec);
    expect(one.out).toMatch(/sensor: 34x34 \(from .*dataset\.json\)/);
    const f = JSON.parse((await run("frames", rec, "-T", "3", "--json")).out);
    expect(f.shape).toEqual([3, 2, 34, 34]);
    expect(loadEventFolder(join(d, "test"), { T: 3 })).toMatchObject({ count: 12, height: 34, width: 34 });
  });

  it("a loose .npy file says its size is a guess; --sensor gives it, and rejects events off the sensor", async () => {
    const d = tmp();
    emulateDataset(subsetFrames(loadBundledFashionMnist("test"), [0]), join(d, "ds"), { format: "npy" });
    const loose = join(d, "loose.npy");
    copyFileSync(firstFile(join(d, "ds")), loose);
    const guess = await run("info", loose);
    expect(guess.out).toMatch(/sensor: \d+x\d+ \(not recorded in the file: largest coordinate; pass --sensor WxH\)/);
    expect((await run("info", loose, "--sensor", "34x34")).out).toContain("sensor: 34x34 (from --sensor)");
    await expect(run("info", loose, "--sensor", "10x10")).rejects.toThrow(/loose\.npy: event \d+ at \(\d+, \d+\) lies outside the 10x10 sensor given by --sensor/);
    await expect(run("info", loose, "--sensor", "34")).rejects.toThrow(/--sensor: expected WxH in pixels \(e\.g\. 34x34\), got "34"/);
    const f = JSON.parse((await run("frames", loose, "-T", "2", "--sensor", "40x36", "--json")).out);
    expect(f.shape).toEqual([2, 2, 36, 40]);
  });

  it("loadEventFolder takes the sensor from an option or a hand-written manifest; a bad manifest names the field", () => {
    const d = tmp();
    const ds = subsetFrames(loadBundledFashionMnist("test"), [0, 1, 2, 3]);
    emulateDataset(ds, d, { format: "npy", seed: 1 });
    writeFileSync(join(d, MANIFEST_FILE), "{}");
    expect(() => loadEventFolder(d, { T: 2 })).toThrow(/dataset\.json: field "kind": expected "spikecut-event-dataset", got nothing/);
    writeEventManifest(d, { format: "npy", sensor: { width: 48, height: 40 }, classes: ds.classes });
    expect(loadEventFolder(d, { T: 2 })).toMatchObject({ height: 40, width: 48 });
    expect(loadEventFolder(d, { T: 2, sensor: { width: 34, height: 34 } })).toMatchObject({ height: 34, width: 34 });
    const bad = JSON.parse(readFileSync(join(d, MANIFEST_FILE), "utf8"));
    bad.sensor = { width: 0, height: 34 };
    writeFileSync(join(d, MANIFEST_FILE), JSON.stringify(bad));
    expect(() => loadEventFolder(d, { T: 2 })).toThrow(/dataset\.json: field "sensor": expected \{ width, height \} in pixels/);
  });

  it("readEvents applies a sensor size and checks every event against it", () => {
    const d = tmp();
    emulateDataset(subsetFrames(loadBundledFashionMnist("test"), [0]), d, { format: "nmnist" });
    const rec = firstFile(d);
    const s: EventStream = readEvents(rec, undefined, { sensor: { width: 64, height: 50, from: "test" } });
    expect([s.width, s.height]).toEqual([64, 50]);
  });
});

describe("data emulate options and progress", () => {
  it("--threshold-noise, --mismatch and --compression reach the emulator and the writer", async () => {
    const base = ["emulate", "--split", "test", "--limit", "3", "--json"];
    const a = JSON.parse((await run(...base, "--out", tmp())).out);
    const quiet = JSON.parse((await run(...base, "--threshold-noise", "0", "--mismatch", "0", "--out", tmp())).out);
    expect(quiet.test.events.total).not.toBe(a.test.events.total);
    const d = tmp();
    await run(...base, "--format", "aedat4", "--compression", "zstd", "--out", d);
    const rec = firstFile(join(d, "test"));
    expect(readEvents(rec).meta.compression).toBe("zstd");
    expect(JSON.parse(readFileSync(join(d, "test", "emulation.json"), "utf8")).options).toMatchObject({ compression: "zstd", format: "aedat4" });
    await expect(run(...base, "--compression", "zstd")).rejects.toThrow(/--compression: only AEDAT 4 packets are compressed; --format is nmnist/);
    await expect(run(...base, "--format", "aedat4", "--compression", "gzip")).rejects.toThrow(/--compression: expected lz4, zstd or none, got "gzip"/);
    await expect(run(...base, "--threshold-noise", "-1")).rejects.toThrow(/--threshold-noise/);
  });

  it("emulateDataset and loadEventFolder report progress to a callback", () => {
    const d = tmp();
    const calls: [number, number][] = [];
    emulateDataset(subsetFrames(loadBundledFashionMnist("test"), [0, 1, 2]), d, { format: "npy", progress: (done, total) => calls.push([done, total]) });
    expect(calls).toEqual([[1, 3], [2, 3], [3, 3]]);
    const seen: number[] = [];
    loadEventFolder(d, { T: 2, progress: (done) => seen.push(done) });
    expect(seen).toEqual([1, 2, 3]);
  });

  it("a cut AEDAT 2 header makes data info fail (exit 1) instead of reporting 0 events", async () => {
    const d = tmp();
    const p = join(d, "cut.aedat");
    writeFileSync(p, encodeAedat2({ x: new Uint16Array(0), y: new Uint16Array(0), t: new Float64Array(0), p: new Uint8Array(0), width: 128, height: 128, meta: { format: "aedat2" } }).subarray(0, 40));
    await expect(run("info", p)).rejects.toThrow(/cut\.aedat: truncated header/);
  });
});
