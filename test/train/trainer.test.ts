import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Tensor } from "../../src/engine/tensor.js";
import { BatchNorm1d, Dropout, Flatten, Linear, Module, Sequential } from "../../src/nn/index.js";
import { QCFS } from "../../src/snn/qcfs.js";
import { RcsCollector } from "../../src/snn/rcs.js";
import { loadBundledFashionMnist } from "../../src/data/bundled.js";
import { subsetFrames } from "../../src/data/frame-dataset.js";
import { validateConfig, type RunConfig } from "../../src/train/config.js";
import { frameSplit, NORMALISATION } from "../../src/train/data.js";
import { train, TrainingDivergedError, type TrainData, type TrainableModel } from "../../src/train/trainer.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";
import { makeTempDir } from "../helpers/tmp.js";

/** A tiny QCFS MLP standing in for a preset: [T,B,1,28,28] → [T,B,10]; dropout exercises the global RNG. */
class TinyNet extends Module implements TrainableModel {
  readonly rcs = new RcsCollector();
  readonly body: Sequential;
  constructor(poison = false) {
    super();
    const act = new QCFS({ L: 4, lambdaInit: 4 });
    act.rcs = this.rcs;
    act.layerName = "act";
    this.body = this.registerModule("body", new Sequential(new Flatten(), new Linear(784, 32), new BatchNorm1d(32), act, new Dropout(0.1), new Linear(32, 10)));
    if (poison) this.body.at(5).parameters()[0]!.data[0] = Number.NaN;
  }
  forward(x: Tensor): Tensor {
    const [T, B] = x.shape as [number, number];
    return this.body.call(x.reshape([T * B, ...x.shape.slice(2)])).reshape([T, B, 10]);
  }
}

let cached: TrainData | null = null;
function data(): TrainData {
  if (cached) return cached;
  const pick = (n: number, stride: number) => Int32Array.from({ length: n }, (_, i) => i * stride);
  const tr = subsetFrames(loadBundledFashionMnist("train"), pick(600, 10));
  const te = subsetFrames(loadBundledFashionMnist("test"), pick(200, 5));
  const normalise = NORMALISATION["fashion-mnist"]!;
  cached = { train: frameSplit(tr, { normalise, augment: { cropPad: 2, flip: true, cutout: 0 } }), test: frameSplit(te, { normalise }) };
  return cached;
}

function config(outDir: string, extra: Record<string, unknown> = {}): RunConfig {
  return validateConfig({
    dataset: { name: "fashion-mnist", bundled: true }, model: { preset: "vgg-small", route: "ann" },
    optimiser: { lr: 0.05 }, rcs: { alpha: 0.002 }, epochs: 2, batchSize: 64, logEvery: 3, seed: 5, outDir, ...extra,
  });
}

const tmp = () => makeTempDir("spikecut-train-");
const weights = (m: TrainableModel) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.data)]));

describe("trainer", () => {
  it("2 epochs straight equal 1 epoch + resume, and a mid-epoch interrupt + resume, bit for bit", async () => {
    const a = await train(config(tmp()), { data: data(), buildModel: () => new TinyNet(), progress: false });
    expect(a.interrupted).toBe(false);
    expect(a.epochsCompleted).toBe(2);

    // stop after epoch 1, resume
    const dirB = tmp();
    const b1 = await train(config(dirB), { data: data(), buildModel: () => new TinyNet(), progress: false, stopAfterSteps: 10 });
    expect(b1.interrupted).toBe(true);
    expect(b1.epochsCompleted).toBe(1);
    const b = await train(config(dirB), { data: data(), buildModel: () => new TinyNet(), progress: false, resume: true });
    expect(weights(b.model)).toEqual(weights(a.model));
    expect(b.history.map((h) => h.testAcc)).toEqual(a.history.map((h) => h.testAcc));

    // interrupt mid-epoch through the AbortSignal, resume
    const dirC = tmp();
    const ctl = new AbortController();
    let steps = 0;
    const c1 = await train(config(dirC), {
      data: data(), buildModel: () => new TinyNet(), progress: false, signal: ctl.signal,
      onEvent: (e) => { if (e.type === "step" && (steps = e.step) >= 6) ctl.abort(); },
    });
    expect(c1.interrupted).toBe(true);
    expect(c1.step).toBe(6);
    const meta = loadCheckpoint(c1.lastCheckpoint).meta;
    expect(meta).toMatchObject({ epoch: 0, step: 6, stepInEpoch: 6 });
    const c = await train(config(dirC), { data: data(), buildModel: () => new TinyNet(), progress: false, resume: join(dirC, "last.safetensors") });
    expect(weights(c.model)).toEqual(weights(a.model));
    expect(steps).toBe(6);

    // log lines and checkpoints
    const lines = readFileSync(join(dirC, "train.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === "epoch").length).toBe(2);
    expect(lines.some((l) => l.type === "interrupted")).toBe(true);
    expect(lines.filter((l) => l.type === "step").every((l) => Number.isFinite(l.loss) && l.lr > 0)).toBe(true);
    expect(existsSync(join(dirC, "best.safetensors"))).toBe(true);
    const best = loadCheckpoint(join(dirC, "best.safetensors")).meta;
    expect(best.bestAccuracy).toBe(Math.max(...c.history.map((h) => h.testAcc!)));
    expect(Object.keys(best.thresholds!)).toEqual(["body.3"]);
  });

  it("an abort from outside (a timer, a signal handler) is seen at the next step: the loop yields to the event loop", async () => {
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 0);
    const r = await train(config(tmp()), { data: data(), buildModel: () => new TinyNet(), progress: false, signal: ctl.signal });
    expect(r.interrupted).toBe(true);
    expect(r.step).toBe(1);
    expect(r.epochsCompleted).toBe(0);
  });

  it("stops on a NaN loss with a clear error and keeps the last good checkpoint", async () => {
    const dir = tmp();
    await train(config(dir, { epochs: 2 }), { data: data(), buildModel: () => new TinyNet(), progress: false, stopAfterSteps: 10 });
    const before = readFileSync(join(dir, "last.safetensors"));
    await expect(train(config(dir), { data: data(), buildModel: poisoned, progress: false, resume: true })).rejects.toThrow(TrainingDivergedError);
    await expect(train(config(dir), { data: data(), buildModel: () => poisonedFresh(), progress: false })).rejects.toThrow(/loss is NaN at epoch 1, step 1.*last good checkpoint is .*last\.safetensors/);
    expect(readFileSync(join(dir, "last.safetensors")).equals(before)).toBe(true);
  });
});

/** A model whose weights turn NaN after loading (so the resumed run diverges on its first step). */
function poisoned(): TrainableModel {
  const m = new TinyNet();
  const load = m.loadStateDict.bind(m);
  m.loadStateDict = (sd, o) => {
    load(sd, o);
    m.body.at(5).parameters()[0]!.data[0] = Number.NaN;
  };
  return m;
}
function poisonedFresh(): TrainableModel {
  return new TinyNet(true);
}
