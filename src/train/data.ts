/**
 * The trainer's view of data: a split is a source of batches addressed by sample indices, so the trainer owns the
 * (seeded) order and the augmentation RNG and can resume mid-epoch bit-identically.
 *
 * `frameSplit` is the adapter from an in-memory FrameDataset (src/data) to that view: uint8 → [0,1] → per-channel
 * normalisation, then optional random crop (zero padding), horizontal flip and cutout, drawn from the given RNG
 * in a fixed order (crop, flip, cutout per sample). Event splits give frames [B, T, C, H, W] (`timeMajor: false`).
 */
import type { Rng } from "../engine/random.js";
import type { FrameDataset } from "../data/frame-dataset.js";

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

/** Per-channel mean/std of the known datasets (computed on their training splits). */
export const NORMALISATION: Record<string, { mean: number[]; std: number[] }> = {
  "fashion-mnist": { mean: [0.286], std: [0.353] },
  mnist: { mean: [0.1307], std: [0.3081] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] },
  cifar100: { mean: [129.3 / 255, 124.1 / 255, 112.4 / 255], std: [68.2 / 255, 65.4 / 255, 70.4 / 255] },
};

export function frameSplit(ds: FrameDataset, opts: { normalise?: { mean: number[]; std: number[] } | null; augment?: Augmentation | null } = {}): SplitSource {
  const { channels: C, height: H, width: W } = ds;
  const S = H * W;
  const norm = opts.normalise ?? null;
  const aug = opts.augment ?? null;
  const lut: Float32Array[] = [];
  for (let c = 0; c < C; c++) {
    const l = new Float32Array(256);
    const m = norm ? norm.mean[c] ?? norm.mean[0]! : 0;
    const s = norm ? norm.std[c] ?? norm.std[0]! : 1;
    for (let v = 0; v < 256; v++) l[v] = (v / 255 - m) / s;
    lut.push(l);
  }
  // value of a zero-padded / cut-out pixel after normalisation (torchvision pads the raw image with 0)
  const zero = lut.map((l) => l[0]!);
  return {
    count: ds.count,
    temporal: false,
    batch(indices, rng) {
      const B = indices.length;
      const x = new Float32Array(B * C * S);
      const labels = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        const i = indices[b]!;
        labels[b] = ds.labels[i]!;
        let dy = 0;
        let dx = 0;
        let flip = false;
        let cy = -1;
        let cx = -1;
        if (aug && rng) {
          if (aug.cropPad > 0) {
            dy = rng.int(2 * aug.cropPad + 1) - aug.cropPad;
            dx = rng.int(2 * aug.cropPad + 1) - aug.cropPad;
          }
          if (aug.flip) flip = rng.uniform() < 0.5;
          if (aug.cutout > 0) {
            cy = rng.int(H);
            cx = rng.int(W);
          }
        }
        for (let c = 0; c < C; c++) {
          const src = ds.images.subarray((i * C + c) * S, (i * C + c + 1) * S);
          const dst = x.subarray((b * C + c) * S, (b * C + c + 1) * S);
          const l = lut[c]!;
          for (let y = 0; y < H; y++) {
            const sy = y + dy;
            for (let xx = 0; xx < W; xx++) {
              const ox = flip ? W - 1 - xx : xx;
              const sx = ox + dx;
              dst[y * W + xx] = sy >= 0 && sy < H && sx >= 0 && sx < W ? l[src[sy * W + sx]!]! : zero[c]!;
            }
          }
          if (cy >= 0) {
            const half = aug!.cutout >> 1;
            for (let y = Math.max(0, cy - half); y < Math.min(H, cy + aug!.cutout - half); y++) {
              for (let xx = Math.max(0, cx - half); xx < Math.min(W, cx + aug!.cutout - half); xx++) dst[y * W + xx] = 0;
            }
          }
        }
      }
      return { x, shape: [B, C, H, W], labels };
    },
  };
}
