/**
 * A tiny QCFS ANN trained for a few seconds on the bundled Fashion-MNIST subset (via src/train's `train`), shared
 * by the inference and CLI tests. Cached per test process.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateConfig, type RunConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";

export const TINY_SPEC = {
  name: "tiny-cnn",
  inputShape: [1, 28, 28],
  layers: [
    { type: "conv", out: 8, kernel: 3, padding: 1 }, { type: "bn" }, { type: "act" }, { type: "avgpool", kernel: 2 },
    { type: "conv", out: 16, kernel: 3, padding: 1 }, { type: "bn" }, { type: "act" }, { type: "avgpool", kernel: 2 },
    { type: "flatten" }, { type: "linear", out: 32 }, { type: "act" }, { type: "linear", out: "classes" },
  ],
};

export interface TinyAnn {
  dir: string;
  checkpoint: string;
  config: RunConfig;
  accuracy: number | null;
}

let cached: Promise<TinyAnn> | null = null;

/** Trains (once per process) the tiny ANN: 600 training images, 2 epochs of batch 32; tests on 200. */
export function tinyAnn(): Promise<TinyAnn> {
  if (!cached) {
    cached = (async () => {
      const dir = mkdtempSync(join(tmpdir(), "spikecut-tiny-"));
      const config = validateConfig({
        dataset: { name: "fashion-mnist", bundled: true, subset: { train: 600, test: 200 } },
        model: { spec: TINY_SPEC, route: "ann" },
        optimiser: { type: "sgd", lr: 0.1, momentum: 0.9 },
        schedule: { type: "cosine", per: "step" },
        epochs: 2, batchSize: 32, evalBatchSize: 200, seed: 1, outDir: join(dir, "run"), logEvery: 1000, T: 8,
      });
      const r = await train(config, { progress: false });
      return { dir, checkpoint: r.lastCheckpoint, config, accuracy: r.lastAccuracy };
    })();
  }
  return cached;
}
