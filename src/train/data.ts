/**
 * The trainer's view of data: a split is a source of batches addressed by sample indices, so the trainer owns the
 * (seeded) order and the augmentation RNG and can resume mid-epoch bit-identically.
 *
 * `frameSplit` adapts an in-memory FrameDataset (src/data) to that view with src/data's batch transforms
 * (normalisation, random crop with zero padding, horizontal flip, cutout; parameters drawn from the given RNG in
 * src/data's fixed order). Event splits give frames [B, T, C, H, W] (`temporal: true`).
 */
import type { Rng } from "../engine/random.js";
import type { FrameDataset } from "../data/frame-dataset.js";
import { assembleFrameBatch, planFrameBatch, CIFAR10_NORMALIZATION, CIFAR100_NORMALIZATION, FASHION_MNIST_NORMALIZATION, type FrameAugment } from "../data/transforms.js";

export interface Batch {
  x: Float32Array;
  /** [B, C, H, W] for static images, [B, T, C, H, W] for event frames. */
  shape: number[];
  labels: Int32Array;
}

export interface SplitSource {
  count: number;
  /** True when each sample already carries T frames ([B, T, C, H, W]). */
  temporal: boolean;
  batch(indices: ArrayLike<number>, rng: Rng | null): Batch;
}

export interface Augmentation {
  cropPad: number;
  flip: boolean;
  cutout: number;
}

/** Per-channel mean/std of the known datasets (src/data's constants; MNIST's the usual 0.1307/0.3081). */
export const NORMALISATION: Record<string, { mean: number[]; std: number[] }> = {
  "fashion-mnist": FASHION_MNIST_NORMALIZATION,
  mnist: { mean: [0.1307], std: [0.3081] },
  cifar10: CIFAR10_NORMALIZATION,
  cifar100: CIFAR100_NORMALIZATION,
};

export function frameSplit(ds: FrameDataset, opts: { normalise?: { mean: number[]; std: number[] } | null; augment?: Augmentation | null } = {}): SplitSource {
  const { channels: C, height: H, width: W } = ds;
  const norm = opts.normalise ?? { mean: [0], std: [1] };
  const mean = Float32Array.from({ length: C }, (_, c) => norm.mean[c] ?? norm.mean[0]!);
  const invStd = Float32Array.from({ length: C }, (_, c) => 1 / (norm.std[c] ?? norm.std[0]!));
  const a = opts.augment ?? null;
  const aug: FrameAugment | undefined = a
    ? { ...(a.cropPad > 0 ? { crop: { padding: a.cropPad } } : {}), ...(a.flip ? { hflip: 0.5 } : {}), ...(a.cutout > 0 ? { cutout: { size: a.cutout } } : {}) }
    : undefined;
  return {
    count: ds.count,
    temporal: false,
    batch(indices, rng) {
      const idx = Int32Array.from(indices);
      const B = idx.length;
      const x = new Float32Array(B * C * H * W);
      const plan = rng ? planFrameBatch(aug, B, H, W, rng) : null;
      assembleFrameBatch(ds.images, C, H, W, idx, plan, aug?.crop?.padding ?? 0, aug?.cutout?.size ?? 0, mean, invStd, x);
      const labels = new Int32Array(B);
      for (let b = 0; b < B; b++) labels[b] = ds.labels[idx[b]!]!;
      return { x, shape: [B, C, H, W], labels };
    },
  };
}

/** An event-frame dataset (float32 [N, T, 2, H, W], src/data's EventFrameDataset) as a temporal split. */
export function eventSplit(ds: { frames: Float32Array; labels: Int32Array; count: number; T: number; height: number; width: number }): SplitSource {
  const per = ds.T * 2 * ds.height * ds.width;
  return {
    count: ds.count,
    temporal: true,
    batch(indices) {
      const B = indices.length;
      const x = new Float32Array(B * per);
      const labels = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        const i = indices[b]!;
        x.set(ds.frames.subarray(i * per, (i + 1) * per), b * per);
        labels[b] = ds.labels[i]!;
      }
      return { x, shape: [B, ds.T, 2, ds.height, ds.width], labels };
    },
  };
}
