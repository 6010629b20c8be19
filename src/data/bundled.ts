/**
 * The Fashion-MNIST subset shipped in the repository (data/fashion-mnist-subset): 6000 training and 1000
 * test images, class-balanced, so the demo runs offline anywhere. See data/fashion-mnist-subset/README.md.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadIdxPair } from "./datasets.js";
import { FASHION_MNIST_CLASSES, type FrameDataset } from "./frame-dataset.js";

/** Directory of the bundled subset (works from src/ under vitest and from dist/ after a build). */
export function bundledDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const rel of ["../../data/fashion-mnist-subset", "../../../data/fashion-mnist-subset"]) {
    const d = join(here, rel);
    if (existsSync(join(d, "train-images-idx3-ubyte.gz"))) return d;
  }
  throw new Error(`the bundled Fashion-MNIST subset is missing (looked under ${join(here, "../../data")}); reinstall spikecut or run scripts/make-bundled-subset.mjs`);
}

export function loadBundledFashionMnist(split: "train" | "test"): FrameDataset {
  const dir = bundledDir();
  const p = split === "train" ? "train" : "t10k";
  const ds = loadIdxPair(join(dir, `${p}-images-idx3-ubyte.gz`), join(dir, `${p}-labels-idx1-ubyte.gz`), "fashion-mnist-subset", FASHION_MNIST_CLASSES);
  return { ...ds, source: "bundled" };
}
