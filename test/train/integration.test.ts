import { describe, expect, it } from "vitest";
import { getBackend } from "../../src/engine/backends.js";
import { PRESET_NAMES } from "../../src/models/presets.js";
import { PRESETS, validateConfig } from "../../src/train/config.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";
import { train } from "../../src/train/trainer.js";
import { makeTempDir } from "../helpers/tmp.js";

describe("training on real data", () => {
  it("config presets are the presets of src/models", () => {
    expect([...PRESETS].sort()).toEqual([...PRESET_NAMES].sort());
  });

  it("vgg-small QCFS ANN learns the bundled Fashion-MNIST subset", async () => {
    const outDir = makeTempDir("spikecut-int-");
    const config = validateConfig({
      dataset: { name: "fashion-mnist", bundled: true, subset: { train: 6000, test: 500 } },
      model: { preset: "vgg-small", route: "ann" },
      optimiser: { lr: 0.05 }, schedule: { type: "cosine", per: "step" }, rcs: { alpha: 0.002 },
      epochs: 1, batchSize: 64, maxStepsPerEpoch: 30, evalBatchSize: 250, augmentation: { flip: true }, seed: 1, outDir, logEvery: 10,
    });
    const t0 = performance.now();
    const r = await train(config, { progress: false });
    const secs = (performance.now() - t0) / 1000;
    console.log(`integration: ${getBackend().description}, 30 steps x 64 + eval 500 in ${secs.toFixed(1)} s, test acc ${r.lastAccuracy}`);
    expect(r.lastAccuracy!).toBeGreaterThan(0.45); // chance is 0.1; 30 steps reach ~0.6
    const meta = loadCheckpoint(r.lastCheckpoint).meta;
    expect(Object.keys(meta.thresholds!).length).toBe(5);
  });
});
