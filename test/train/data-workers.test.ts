/**
 * Training batches from worker threads: the same batches, losses, weights and checkpoints whatever the worker
 * count, prefetching along the trainer's order, bit-identical resume, and worker threads that never keep the
 * process alive.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/engine/random.js";
import { Tensor } from "../../src/engine/tensor.js";
import { BatchNorm1d, Flatten, Linear, Module, Sequential, Dropout } from "../../src/nn/index.js";
import { QCFS } from "../../src/snn/qcfs.js";
import { RcsCollector } from "../../src/snn/rcs.js";
import { loadBundledFashionMnist } from "../../src/data/bundled.js";
import { subsetFrames } from "../../src/data/frame-dataset.js";
import { emulateEvents, integrateEvents, type EventFrameDataset } from "../../src/data/index.js";
import { writeCifar } from "../../src/data/cifar.js";
import { validateConfig, type RunConfig } from "../../src/train/config.js";
import { loadConfigData } from "../../src/train/data-loading.js";
import { eventSplit, frameSplit, NORMALISATION, type BatchSchedule, type SplitSource } from "../../src/train/data.js";
import { epochPermutation, train, type TrainData, type TrainableModel } from "../../src/train/trainer.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";
import { makeTempDir, trackChild } from "../helpers/tmp.js";

const tmp = () => makeTempDir("spikecut-workers-");
const pick = (n: number, stride: number) => Int32Array.from({ length: n }, (_, i) => i * stride);
const trainImages = subsetFrames(loadBundledFashionMnist("train"), pick(600, 10));
const testImages = subsetFrames(loadBundledFashionMnist("test"), pick(200, 5));
const normalise = NORMALISATION["fashion-mnist"]!;
const augment = { cropPad: 2, flip: true, cutout: 4 };

function schedule(count: number, batchSize: number, epochs: number, seed: number): BatchSchedule {
  return { count, batchSize, epochs, stepsPerEpoch: Math.ceil(count / batchSize), permutation: (e) => epochPermutation(seed, e, count) };
}

/** Asks a split for batches in the trainer's order, as the trainer does (one RNG for the whole run). */
function drive(split: SplitSource, s: BatchSchedule, rng: Rng, from = 0, to = s.epochs * s.stepsPerEpoch) {
  const out: { x: Float32Array; labels: Int32Array; shape: number[] }[] = [];
  for (let step = from; step < to; step++) {
    const e = Math.floor(step / s.stepsPerEpoch);
    const lo = (step % s.stepsPerEpoch) * s.batchSize;
    out.push(split.batch(s.permutation(e).subarray(lo, Math.min(lo + s.batchSize, s.count)), rng, step));
  }
  return out;
}

/** A tiny QCFS MLP: [T,B,1,28,28] → [T,B,10] (dropout draws from the global RNG). */
class TinyNet extends Module implements TrainableModel {
  readonly rcs = new RcsCollector();
  readonly body: Sequential;
  constructor() {
    super();
    const act = new QCFS({ L: 4, lambdaInit: 4 });
    act.rcs = this.rcs;
    this.body = this.registerModule("body", new Sequential(new Flatten(), new Linear(784, 32), new BatchNorm1d(32), act, new Dropout(0.1), new Linear(32, 10)));
  }
  forward(x: Tensor): Tensor {
    const [T, B] = x.shape as [number, number];
    return this.body.call(x.reshape([T * B, ...x.shape.slice(2)])).reshape([T, B, 10]);
  }
}

/** Bit equality of two float arrays (toEqual on 50 000-element arrays takes seconds). */
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const weights = (m: TrainableModel) => Object.fromEntries(Object.entries(m.stateDict()).map(([k, t]) => [k, Array.from(t.data)]));
const stepLosses = (dir: string) => readFileSync(join(dir, "train.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.type === "step").map((l) => l.loss);

describe("training splits in worker threads", () => {
  it("frame batches and the RNG state are identical with 0 and 2 workers; prefetched batches are used", async () => {
    const s = schedule(trainImages.count, 64, 2, 11);
    const ref = drive(frameSplit(trainImages, { normalise, augment }), s, new Rng(3));
    const split = frameSplit(trainImages, { normalise, augment, workers: 2, prefetch: 3, schedule: s });
    try {
      const rng = new Rng(3);
      const got = drive(split, s, rng);
      expect(got.length).toBe(ref.length);
      got.forEach((b, i) => {
        expect(b.shape).toEqual(ref[i]!.shape);
        expect(b.labels).toEqual(ref[i]!.labels);
        expect(same(b.x, ref[i]!.x)).toBe(true);
      });
      const refRng = new Rng(3);
      drive(frameSplit(trainImages, { normalise, augment }), s, refRng);
      expect(rng.getState()).toEqual(refRng.getState());
      // every batch after the first came from the prefetch queue
      expect(split.stats!()).toEqual({ prefetched: ref.length - 1, onDemand: 1 });
    } finally {
      await split.close!();
    }
  });

  it("finds its place again after a jump (a resume mid-epoch) and after an order it cannot predict", async () => {
    const s = schedule(trainImages.count, 50, 3, 5);
    const refRng = new Rng(9);
    const ref = drive(frameSplit(trainImages, { normalise, augment }), s, refRng);
    const split = frameSplit(trainImages, { normalise, augment, workers: 2, schedule: s });
    try {
      const rng = new Rng(9);
      drive(frameSplit(trainImages, { normalise, augment }), s, rng, 0, 17); // the "first run", elsewhere
      const got = drive(split, s, rng, 17);
      got.forEach((b, i) => expect(same(b.x, ref[17 + i]!.x)).toBe(true));
      expect(split.stats!().onDemand).toBe(1);
      // indices that are not the schedule's: still right, just assembled on demand
      const odd = split.batch([5, 3, 1], new Rng(1));
      const plain = frameSplit(trainImages, { normalise, augment }).batch([5, 3, 1], new Rng(1));
      expect(same(odd.x, plain.x)).toBe(true);
    } finally {
      await split.close!();
    }
  });

  it("event batches with flip, roll and mixing are identical with 0 and 2 workers, sample-major, hard labels", async () => {
    const T = 3;
    const n = 40;
    const sample = T * 2 * 34 * 34;
    const frames = new Float32Array(n * sample);
    for (let i = 0; i < n; i++) frames.set(integrateEvents(emulateEvents(trainImages.images.subarray(i * 784, (i + 1) * 784), 28, 28, { seed: i }), { T }).data, i * sample);
    const ds: EventFrameDataset = { name: "ev", frames, labels: trainImages.labels.subarray(0, n), count: n, T, height: 34, width: 34, classes: [], source: "test" };
    const evAug = { cropPad: 0, flip: true, cutout: 0, roll: 3, mix: 0.5 };
    const s = schedule(n, 8, 2, 4);
    const ref = drive(eventSplit(ds, { augment: evAug }), s, new Rng(2));
    const split = eventSplit(ds, { augment: evAug, workers: 2, schedule: s });
    try {
      const got = drive(split, s, new Rng(2));
      got.forEach((b, i) => {
        expect(b.shape).toEqual([8, T, 2, 34, 34]);
        expect(same(b.x, ref[i]!.x)).toBe(true);
        expect(b.labels).toEqual(ref[i]!.labels);
      });
      // augmentation changed something, and mixing changed some labels to the partner's
      const plain = drive(eventSplit(ds), s, new Rng(2));
      expect(plain.some((b, i) => b.x.some((v, j) => v !== ref[i]!.x[j]))).toBe(true);
      expect(plain.some((b, i) => b.labels.some((l, j) => l !== ref[i]!.labels[j]))).toBe(true);
      // without augmentation the event split is a plain gather in [B, T, 2, H, W]
      expect(Array.from(plain[0]!.x.subarray(0, sample))).toEqual(Array.from(frames.subarray(s.permutation(0)[0]! * sample, (s.permutation(0)[0]! + 1) * sample)));
    } finally {
      await split.close!();
    }
  });

  it("training with 0 and 2 workers gives the same losses and weights, and resume stays bit-identical", async () => {
    const cfg = (outDir: string): RunConfig =>
      validateConfig({
        dataset: { name: "fashion-mnist", bundled: true }, model: { preset: "vgg-small", route: "ann" },
        optimiser: { lr: 0.05 }, rcs: { alpha: 0.002 }, epochs: 2, batchSize: 64, logEvery: 1, seed: 7, outDir,
      });
    const data = (workers: number): TrainData => ({
      train: frameSplit(trainImages, { normalise, augment, workers, prefetch: 2, schedule: schedule(trainImages.count, 64, 2, 7) }),
      test: frameSplit(testImages, { normalise }),
    });
    const opts = { buildModel: () => new TinyNet(), progress: false };
    const dirA = tmp();
    const a = await train(cfg(dirA), { ...opts, data: data(0) });
    const dirB = tmp();
    const dataB = data(2);
    const b = await train(cfg(dirB), { ...opts, data: dataB });
    expect(stepLosses(dirB)).toEqual(stepLosses(dirA));
    expect(weights(b.model)).toEqual(weights(a.model));
    expect(dataB.train.stats!().prefetched).toBeGreaterThan(15);
    // interrupted mid-epoch with 2 workers, resumed with 2 workers: as the straight 0-worker run
    const dirC = tmp();
    await train(cfg(dirC), { ...opts, data: data(2), stopAfterSteps: 13 });
    expect(loadCheckpoint(join(dirC, "last.safetensors")).meta).toMatchObject({ epoch: 1, stepInEpoch: 3 });
    const c = await train(cfg(dirC), { ...opts, data: data(2), resume: true });
    expect(weights(c.model)).toEqual(weights(a.model));
    expect(c.history.map((h) => h.testAcc)).toEqual(a.history.map((h) => h.testAcc));
  });
});

describe("data keys of the run config", () => {
  it("dataset.workers / prefetch are optional: existing configs resolve exactly as before", () => {
    const base = { dataset: { name: "fashion-mnist" }, model: { preset: "vgg-small", route: "ann" } };
    const c = validateConfig(base);
    expect("workers" in c.dataset || "prefetch" in c.dataset || "roll" in c.augmentation || "mix" in c.augmentation).toBe(false);
    expect(validateConfig({ ...base, dataset: { name: "fashion-mnist", workers: 2, prefetch: 4 } }).dataset).toMatchObject({ workers: 2, prefetch: 4 });
    expect(() => validateConfig({ ...base, dataset: { name: "fashion-mnist", workers: -1 } })).toThrow(/"dataset\.workers": number -1 is too small/);
    expect(() => validateConfig({ ...base, augmentation: { roll: 2 } })).toThrow(/"augmentation\.roll": is for event data \(dataset fashion-mnist-events\), not fashion-mnist/);
    expect(() => validateConfig({ ...base, dataset: { name: "fashion-mnist-events" }, augmentation: { cropPad: 2 } })).toThrow(/"augmentation\.cropPad": is not applied to event frames: use augmentation\.roll/);
    expect(() => validateConfig({ ...base, dataset: { name: "fashion-mnist-events" }, augmentation: { mix: 2 } })).toThrow(/"augmentation\.mix": number 2 is too large/);
    expect(() => validateConfig({ ...base, dataset: { name: "fashion-mnist", labels: "coarse" } })).toThrow(/"dataset\.labels": selects CIFAR-100's fine or coarse labels/);
    expect(() => validateConfig({ ...base, dataset: { name: "cifar100", labels: "coarse" }, model: { preset: "vgg-small", route: "ann", numClasses: 100 } })).toThrow(/"model\.numClasses": is 100, but CIFAR-100's coarse labels have 20 classes/);
  });

  it("dataset.labels: coarse trains CIFAR-100 on its 20 superclasses", async () => {
    const d = tmp();
    for (const file of ["train.bin", "test.bin"]) {
      const labels = Int32Array.from({ length: 60 }, (_, i) => i % 100);
      writeCifar(join(d, file), { variant: "cifar100", images: new Uint8Array(60 * 3072), labels, coarseLabels: Int32Array.from(labels, (l) => l % 20) });
    }
    const base = { dataset: { name: "cifar100", path: d }, model: { preset: "vgg-small", route: "ann", numClasses: 100 } };
    const fine = await loadConfigData(validateConfig(base));
    const coarse = await loadConfigData(validateConfig({ ...base, dataset: { ...base.dataset, labels: "coarse" }, model: { ...base.model, numClasses: 20 } }));
    const idx = Array.from({ length: 60 }, (_, i) => i);
    expect(Math.max(...fine.train.batch(idx, null).labels)).toBe(59);
    expect(Array.from(coarse.train.batch(idx, null).labels.subarray(18, 23))).toEqual([18, 19, 0, 1, 2]);
  });

  it("the train command's process exits when training with worker threads ends", async () => {
    const BIN = resolve("dist/src/cli/main.js");
    expect(existsSync(BIN), `${BIN} missing: run npm run build`).toBe(true);
    const out = tmp();
    const r = await new Promise<{ code: number | null; stderr: string; ms: number }>((done) => {
      const t0 = Date.now();
      const child = trackChild(spawn(process.execPath, [BIN, "train", "--preset", "vgg-small", "--route", "ann", "--bundled", "--subset", "256", "--epochs", "1",
        "--batch-size", "64", "--max-steps-per-epoch", "2", "--set", "dataset.workers=2", "--set", "augmentation.flip=true", "--out", out, "--json"], { stdio: ["ignore", "ignore", "pipe"] }));
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        done({ code, stderr, ms: Date.now() - t0 });
      });
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
