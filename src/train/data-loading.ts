/**
 * The config's dataset → the trainer's splits, through src/data. Static frame datasets become `frameSplit`s
 * (normalised; the training split augmented as configured). `subset` keeps the first n samples of each split.
 */
import { loadBundledFashionMnist } from "../data/bundled.js";
import { loadDataset, type DatasetName } from "../data/datasets.js";
import type { FrameDataset } from "../data/frame-dataset.js";
import { subsetFrames } from "../data/frame-dataset.js";
import type { RunConfig } from "./config.js";
import { frameSplit, NORMALISATION } from "./data.js";
import type { TrainData } from "./trainer.js";

function take(ds: FrameDataset, n: number | undefined): FrameDataset {
  if (n === undefined || n >= ds.count) return ds;
  return subsetFrames(ds, Int32Array.from({ length: n }, (_, i) => i));
}

export async function loadConfigData(config: RunConfig): Promise<TrainData> {
  const d = config.dataset;
  if (d.name === "fashion-mnist-events") {
    throw new Error('dataset "fashion-mnist-events": the event emulator of src/data is not available in this build');
  }
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
  const train = take(await load("train"), nTrain);
  const test = take(await load("test"), nTest);
  const normalise = NORMALISATION[d.name] ?? null;
  const a = config.augmentation;
  const augment = a.cropPad > 0 || a.flip || a.cutout > 0 ? a : null;
  return { train: frameSplit(train, { normalise, augment }), test: frameSplit(test, { normalise }) };
}
