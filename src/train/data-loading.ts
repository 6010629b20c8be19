/**
 * The config's dataset → the trainer's splits, through src/data. Static frame datasets become `frameSplit`s
 * (normalised; the training split augmented as configured). `subset` keeps the first n samples of each split.
 */
import { loadBundledFashionMnist } from "../data/bundled.js";
import { loadDataset, type DatasetName } from "../data/datasets.js";
import type { FrameDataset } from "../data/frame-dataset.js";
import { subsetFrames } from "../data/frame-dataset.js";
import type { RunConfig } from "./config.js";
import { eventSplit, frameSplit, NORMALISATION } from "./data.js";
import { join } from "node:path";
import { emulateEvents } from "../data/emulate.js";
import { integrateEvents } from "../data/integrate.js";
import { loadEventFolder } from "../data/event-dataset.js";
import type { EventFrameDataset } from "../data/loader.js";
import type { TrainData } from "./trainer.js";

function take(ds: FrameDataset, n: number | undefined): FrameDataset {
  if (n === undefined || n >= ds.count) return ds;
  return subsetFrames(ds, Int32Array.from({ length: n }, (_, i) => i));
}

export async function loadConfigData(config: RunConfig): Promise<TrainData> {
  const d = config.dataset;
  const load = async (split: "train" | "test"): Promise<FrameDataset> => {
    if (d.bundled) {
      if (d.name !== "fashion-mnist") throw new Error(`dataset.bundled: only fashion-mnist is bundled, not ${d.name}`);
      return loadBundledFashionMnist(split);
    }
    return loadDataset(d.name as DatasetName, split, { path: d.path });
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
  return { train: frameSplit(train, { normalise, augment }), test: frameSplit(test, { normalise }), inputShape: [train.channels, train.height, train.width] };
}

/**
 * Emulated-event Fashion-MNIST: `dataset.path` names a folder written by `spikecut data emulate` (train/ and test/
 * inside); without it the images (bundled or system Fashion-MNIST) are emulated in memory (src/data's N-MNIST-style
 * saccade emulator, 34×34 sensor, seed = config seed + index) and integrated into T frames.
 */
async function loadEvents(config: RunConfig, nTrain?: number, nTest?: number): Promise<TrainData> {
  const d = config.dataset;
  const T = config.T;
  let train: EventFrameDataset;
  let test: EventFrameDataset;
  if (d.path) {
    train = loadEventFolder(join(d.path, "train"), { T });
    test = loadEventFolder(join(d.path, "test"), { T });
  } else {
    const src = async (split: "train" | "test") => (d.bundled ? loadBundledFashionMnist(split) : loadDataset("fashion-mnist", split));
    train = emulateInMemory(take(await src("train"), nTrain), T, config.seed);
    test = emulateInMemory(take(await src("test"), nTest), T, config.seed + 1_000_000);
  }
  const cut = (ds: EventFrameDataset, n?: number): EventFrameDataset =>
    n === undefined || n >= ds.count ? ds : { ...ds, count: n, labels: ds.labels.subarray(0, n), frames: ds.frames.subarray(0, n * ds.T * 2 * ds.height * ds.width) };
  train = cut(train, nTrain);
  test = cut(test, nTest);
  return { train: eventSplit(train), test: eventSplit(test), inputShape: [2, train.height, train.width] };
}

function emulateInMemory(ds: FrameDataset, T: number, seed: number): EventFrameDataset {
  const size = ds.height * ds.width;
  let frames: Float32Array | null = null;
  let H = 0;
  let W = 0;
  for (let i = 0; i < ds.count; i++) {
    const ev = emulateEvents(ds.images.subarray(i * size, (i + 1) * size), ds.width, ds.height, { seed: seed + i });
    const f = integrateEvents(ev, { T });
    if (!frames) {
      [, , H, W] = f.shape;
      frames = new Float32Array(ds.count * f.data.length);
    }
    frames.set(f.data, i * f.data.length);
  }
  return { name: `${ds.name}-events`, frames: frames ?? new Float32Array(0), labels: ds.labels, count: ds.count, T, height: H, width: W, classes: ds.classes, source: `emulated from ${ds.source}` };
}
