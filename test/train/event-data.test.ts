/**
 * Event data for training: an emulated .npy dataset (whose files record no sensor size) loads and trains like
 * the other formats through its dataset.json; the in-memory emulation is cached in dataset.cacheDir.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { emulateDataset, loadBundledFashionMnist, loadEventFolder, subsetFrames, MANIFEST_FILE } from "../../src/data/index.js";
import { validateConfig } from "../../src/train/config.js";
import { loadConfigData } from "../../src/train/data-loading.js";
import { train } from "../../src/train/trainer.js";
import { makeTempDir } from "../helpers/tmp.js";

const tmp = () => makeTempDir("spikecut-events-");
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function emulated(format: "npy" | "nmnist", root: string): void {
  for (const split of ["train", "test"] as const) {
    const ds = subsetFrames(loadBundledFashionMnist(split), Int32Array.from({ length: split === "train" ? 24 : 8 }, (_, i) => i * 7));
    emulateDataset(ds, join(root, split), { format, seed: 3 });
  }
}

describe("emulated event datasets for training", () => {
  it("an .npy dataset from the emulator integrates exactly like the N-MNIST one, at the 34x34 sensor", () => {
    const npy = tmp();
    const bin = tmp();
    emulated("npy", npy);
    emulated("nmnist", bin);
    const a = loadEventFolder(join(npy, "train"), { T: 4 });
    const b = loadEventFolder(join(bin, "train"), { T: 4 });
    expect([a.count, a.height, a.width]).toEqual([24, 34, 34]);
    expect(same(a.frames, b.frames)).toBe(true);
    expect(a.labels).toEqual(b.labels);
    // without its manifest the .npy files imply different sensors, and the error says what to do
    rmSync(join(npy, "train", MANIFEST_FILE));
    expect(() => loadEventFolder(join(npy, "train"), { T: 4 })).toThrow(/integrates to \[4, 2, \d+, \d+\], unlike the first recording .* give it \(sensor option, --sensor WxH, or a dataset\.json/);
    expect(same(loadEventFolder(join(npy, "train"), { T: 4, sensor: { width: 34, height: 34 } }).frames, a.frames)).toBe(true);
  });

  it("trains on an emulated .npy folder (dataset.path), with worker threads, augmentation and the frame cache", async () => {
    const root = tmp();
    emulated("npy", root);
    const cacheDir = join(root, "cache");
    const config = validateConfig({
      dataset: { name: "fashion-mnist-events", path: root, workers: 2, cacheDir },
      model: { preset: "vgg-small", route: "snn" }, T: 2, neuron: { type: "lif" }, tebn: true, loss: { type: "tet" },
      augmentation: { flip: true, roll: 2, mix: 0.5 }, epochs: 1, batchSize: 8, evalBatchSize: 8, seed: 1, outDir: join(root, "run"), logEvery: 1,
    });
    const r = await train(config, { progress: false });
    expect(r.step).toBe(3);
    expect(r.lastAccuracy).not.toBeNull();
    expect(readdirSync(cacheDir).filter((f) => f.endsWith(".frames")).length).toBe(32);
  });

  it("caches the in-memory emulation in dataset.cacheDir and reads it back identically", async () => {
    const cacheDir = tmp();
    const config = validateConfig({
      dataset: { name: "fashion-mnist-events", bundled: true, subset: { train: 20, test: 10 }, cacheDir },
      model: { preset: "vgg-small", route: "snn" }, T: 3, seed: 2,
    });
    const first = await loadConfigData(config);
    const files = readdirSync(cacheDir);
    expect(files.filter((f) => /^emulated-(train|test)-[0-9a-f]+\.frames$/.test(f)).length).toBe(2);
    const again = await loadConfigData(config);
    const idx = Array.from({ length: 20 }, (_, i) => i);
    expect(same(again.train.batch(idx, null).x, first.train.batch(idx, null).x)).toBe(true);
    expect(again.inputShape).toEqual([2, 34, 34]);
    // another seed is another emulation: a new cache entry
    await loadConfigData({ ...config, seed: 3 });
    expect(readdirSync(cacheDir).length).toBe(4);
    expect(existsSync(join(cacheDir, files[0]!))).toBe(true);
  });
});
