/**
 * The config's dataset → the trainer's splits, through src/data. Static frame datasets become `frameSplit`s
 * (normalised; the training split augmented as configured), emulated-event Fashion-MNIST becomes `eventSplit`s.
 * `subset` keeps the first n samples of each split. The training split is assembled in `dataset.workers` worker
 * threads (default 0) along the trainer's own batch order, so it can prefetch; results do not depend on it.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadBundledFashionMnist } from "../data/bundled.js";
import { loadDataset, type DatasetName } from "../data/datasets.js";
import type { FrameDataset } from "../data/frame-dataset.js";
import { subsetFrames } from "../data/frame-dataset.js";
import { emulateFrames } from "../data/emulate-frames.js";
import { encodeFramesParts, readFramesFile } from "../data/integrate.js";
import { loadEventFolder } from "../data/event-dataset.js";
import { writeFileAtomic } from "../data/fsutil.js";
import type { EventFrameDataset } from "../data/loader.js";
import { progressBar } from "../io/progress.js";
import type { RunConfig } from "./config.js";
import { eventSplit, frameSplit, NORMALISATION, type BatchSchedule, type LoaderSettings } from "./data.js";
import { epochPermutation, type TrainData } from "./trainer.js";

/** Documented defaults of the optional dataset keys (config.ts). */
const DEFAULT_WORKERS = 0;
const DEFAULT_PREFETCH = 2;

function take(ds: FrameDataset, n: number | undefined): FrameDataset {
  if (n === undefined || n >= ds.count) return ds;
  return subsetFrames(ds, Int32Array.from({ length: n }, (_, i) => i));
}

/** The trainer's batch order for a training split of `count` samples (trainer.ts: epochPermutation, stepsFor). */
function trainerSchedule(config: RunConfig, count: number): BatchSchedule {
  const full = Math.ceil(count / config.batchSize);
  return {
    count,
    batchSize: config.batchSize,
    stepsPerEpoch: config.maxStepsPerEpoch > 0 ? Math.min(full, config.maxStepsPerEpoch) : full,
    epochs: config.epochs,
    permutation: (epoch) => epochPermutation(config.seed, epoch, count),
  };
}

function loaderSettings(config: RunConfig, count: number): LoaderSettings {
  const workers = config.dataset.workers ?? DEFAULT_WORKERS;
  return workers > 0 ? { workers, prefetch: config.dataset.prefetch ?? DEFAULT_PREFETCH, schedule: trainerSchedule(config, count) } : {};
}

export async function loadConfigData(config: RunConfig): Promise<TrainData> {
  const d = config.dataset;
  const load = async (split: "train" | "test"): Promise<FrameDataset> => {
    if (d.bundled) {
      if (d.name !== "fashion-mnist") throw new Error(`dataset.bundled: only fashion-mnist is bundled, not ${d.name}`);
      return loadBundledFashionMnist(split);
    }
    return loadDataset(d.name as DatasetName, split, { path: d.path, ...(d.labels ? { labels: d.labels } : {}) });
  };
  const sub = d.subset;
  const nTrain = typeof sub === "number" ? sub : sub?.train;
  const nTest = typeof sub === "number" ? sub : sub?.test;
  if (d.name === "fashion-mnist-events") return loadEvents(config, nTrain, nTest);
  const train = take(await load("train"), nTrain);
  const test = take(await load("test"), nTest);
  const normalise = NORMALISATION[d.name] ?? null;
  const a = config.augmentation;
  const augment = a.cropPad > 0 || a.flip || a.cutout > 0 ? a : null;
  return {
    train: frameSplit(train, { normalise, augment, ...loaderSettings(config, train.count) }),
    test: frameSplit(test, { normalise }),
    inputShape: [train.channels, train.height, train.width],
  };
}

/**
 * Emulated-event Fashion-MNIST: `dataset.path` names a folder written by `spikecut data emulate` (train/ and test/
 * inside, each with its dataset.json); without it the images (bundled or system Fashion-MNIST) are emulated in
 * memory (src/data's N-MNIST-style saccade emulator, 34×34 sensor, seed = config seed + index) and integrated into
 * T frames. Both show a progress bar on a terminal and use `dataset.cacheDir` when set.
 */
async function loadEvents(config: RunConfig, nTrain?: number, nTest?: number): Promise<TrainData> {
  const d = config.dataset;
  const T = config.T;
  let train: EventFrameDataset;
  let test: EventFrameDataset;
  if (d.path) {
    const folder = (split: "train" | "test", limit?: number) =>
      loadEventFolder(join(d.path!, split), { T, limit, progress: progressBar(`integrating ${split}`), ...(d.cacheDir ? { cacheDir: d.cacheDir } : {}) });
    train = folder("train", nTrain);
    test = folder("test", nTest);
  } else {
    const src = async (split: "train" | "test") => (d.bundled ? loadBundledFashionMnist(split) : loadDataset("fashion-mnist", split));
    train = await emulateInMemory(take(await src("train"), nTrain), T, config.seed, "train", d.cacheDir);
    test = await emulateInMemory(take(await src("test"), nTest), T, config.seed + 1_000_000, "test", d.cacheDir);
  }
  const cut = (ds: EventFrameDataset, n?: number): EventFrameDataset =>
    n === undefined || n >= ds.count ? ds : { ...ds, count: n, labels: ds.labels.subarray(0, n), frames: ds.frames.subarray(0, n * ds.T * 2 * ds.height * ds.width) };
  train = cut(train, nTrain);
  test = cut(test, nTest);
  return {
    train: eventSplit(train, { augment: config.augmentation, ...loaderSettings(config, train.count) }),
    test: eventSplit(test),
    inputShape: [2, train.height, train.width],
  };
}

/**
 * Emulates and integrates every image (about 9 ms each, on one worker thread per CPU). With a cache folder the whole split's frames are kept in
 * one file keyed by the images, labels, T, seed and emulator version, so a second run loads them in a moment.
 */
async function emulateInMemory(ds: FrameDataset, T: number, seed: number, split: string, cacheDir?: string): Promise<EventFrameDataset> {
  const out = (frames: Float32Array, H: number, W: number): EventFrameDataset => ({
    name: `${ds.name}-events`, frames, labels: ds.labels, count: ds.count, T, height: H, width: W, classes: ds.classes, source: `emulated from ${ds.source}`,
  });
  const cacheFile = cacheDir ? join(cacheDir, `emulated-${split}-${emulationKey(ds, T, seed)}.frames`) : null;
  if (cacheFile && existsSync(cacheFile)) {
    try {
      const f = readFramesFile(cacheFile, { shared: true });
      if (f.shape[0] === ds.count * T) return out(f.data, f.shape[2], f.shape[3]);
    } catch {
      /* a corrupt cache file is recomputed below */
    }
  }
  const report = progressBar(`emulating ${split}`);
  const { frames, H, W } = await emulateFrames(ds.images, ds.count, ds.width, ds.height, T, seed, { onProgress: report });
  if (cacheFile && ds.count > 0) writeFileAtomic(cacheFile, encodeFramesParts({ data: frames, shape: [ds.count * T, 2, H, W] }));
  return out(frames, H, W);
}

/** Bump when the emulator or the integration changes what they produce for the same inputs. */
const EMULATION_VERSION = 1;

function emulationKey(ds: FrameDataset, T: number, seed: number): string {
  return createHash("sha256")
    .update(JSON.stringify({ v: EMULATION_VERSION, T, seed, count: ds.count, h: ds.height, w: ds.width }))
    .update(ds.images.subarray(0, ds.count * ds.height * ds.width))
    .update(new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength))
    .digest("hex")
    .slice(0, 24);
}
