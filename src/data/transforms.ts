/**
 * Image transforms, deterministic under a seed. Each random transform draws its parameters from an
 * `Rng` (src/engine/random.ts) in a fixed order, so a run replays exactly. The batch kernels below are
 * self-contained functions (no imports, no closures) so the loader can also run them in worker threads;
 * the random parameters are always drawn on the main thread ("plans"), so results never depend on which
 * thread ran them.
 *
 * Conventions (torchvision, spec §8.1): RandomCrop pads with 0 (black) before cropping; horizontal flip
 * with probability p; Normalize (x/255 − mean)/std per channel; Cutout zeroes the square
 * [cy − s/2, cy + s/2) × [cx − s/2, cx + s/2) clipped to the image, all channels, after normalisation,
 * centre uniform over the image.
 */
import type { Rng } from "../engine/random.js";

export interface Normalization {
  mean: number[];
  std: number[];
}

export interface FrameAugment {
  /** Random crop back to the original size after zero padding by `padding` pixels. */
  crop?: { padding: number };
  /** Horizontal flip probability. */
  hflip?: number;
  /** Cutout square size (px). */
  cutout?: { size: number };
}

export const CIFAR10_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };
export const CIFAR100_NORMALIZATION: Normalization = { mean: [129.3 / 255, 124.1 / 255, 112.4 / 255], std: [68.2 / 255, 65.4 / 255, 70.4 / 255] };
export const FASHION_MNIST_NORMALIZATION: Normalization = { mean: [0.286], std: [0.353] };

/** Values per sample in a frame plan: crop dy, crop dx, flip (0/1), cutout cy, cutout cx (−1 = none). */
export const FRAME_PLAN = 5;

/** Draws the random parameters for one sample, in the fixed order crop → flip → cutout. */
export function drawFramePlan(aug: FrameAugment, H: number, W: number, rng: Rng, out: Int32Array, o: number): void {
  const pad = aug.crop?.padding ?? 0;
  out[o] = aug.crop ? rng.int(2 * pad + 1) : pad;
  out[o + 1] = aug.crop ? rng.int(2 * pad + 1) : pad;
  out[o + 2] = aug.hflip !== undefined && aug.hflip > 0 ? (rng.uniform() < aug.hflip ? 1 : 0) : 0;
  if (aug.cutout) {
    out[o + 3] = rng.int(H);
    out[o + 4] = rng.int(W);
  } else {
    out[o + 3] = -1;
    out[o + 4] = -1;
  }
}

export function planFrameBatch(aug: FrameAugment | undefined, n: number, H: number, W: number, rng: Rng): Int32Array | null {
  if (!aug || (!aug.crop && !aug.hflip && !aug.cutout)) return null;
  const plan = new Int32Array(n * FRAME_PLAN);
  for (let i = 0; i < n; i++) drawFramePlan(aug, H, W, rng, plan, i * FRAME_PLAN);
  return plan;
}

/**
 * Gathers images[indices] (uint8 [N,C,H,W]) into out (float32 [B,C,H,W]) applying, per sample, the crop
 * with zero padding `pad`, the flip, the normalisation ((v/255 − mean[c]) · invStd[c]) and the cutout of
 * side `cut`, as given by `plan` (null: no augmentation). Self-contained: runs in worker threads too.
 */
export function assembleFrameBatch(
  images: Uint8Array, C: number, H: number, W: number, indices: Int32Array, plan: Int32Array | null,
  pad: number, cut: number, mean: Float32Array, invStd: Float32Array, out: Float32Array,
): void {
  const HW = H * W;
  const size = C * HW;
  for (let b = 0; b < indices.length; b++) {
    const src = indices[b]! * size;
    const dst = b * size;
    if (plan === null) {
      for (let c = 0; c < C; c++) {
        const m = mean[c]!;
        const s = invStd[c]! / 255;
        const ms = m * invStd[c]!;
        const so = src + c * HW;
        const d0 = dst + c * HW;
        for (let i = 0; i < HW; i++) out[d0 + i] = images[so + i]! * s - ms;
      }
      continue;
    }
    const p = b * 5;
    const dy = plan[p]! - pad;
    const dx = plan[p + 1]! - pad;
    const flip = plan[p + 2]! === 1;
    const cy = plan[p + 3]!;
    const cx = plan[p + 4]!;
    for (let c = 0; c < C; c++) {
      const zero = -mean[c]! * invStd[c]!;
      const s = invStd[c]! / 255;
      const so = src + c * HW;
      for (let y = 0; y < H; y++) {
        const sy = y + dy;
        const row = dst + c * HW + y * W;
        if (sy < 0 || sy >= H) {
          for (let x = 0; x < W; x++) out[row + x] = zero;
          continue;
        }
        for (let x = 0; x < W; x++) {
          // crop first (output x maps to padded-source x + dx), flip applies to the cropped image
          const xx = flip ? W - 1 - x : x;
          const sx = xx + dx;
          out[row + x] = sx < 0 || sx >= W ? zero : images[so + sy * W + sx]! * s + zero;
        }
      }
      if (cy >= 0) {
        const h = cut >> 1;
        const y0 = Math.max(0, cy - h);
        const y1 = Math.min(H, cy + cut - h);
        const x0 = Math.max(0, cx - h);
        const x1 = Math.min(W, cx + cut - h);
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out[dst + c * HW + y * W + x] = 0;
      }
    }
  }
}

// ---- single-image transforms on float32 [C,H,W] ------------------------------------------------------

export function toFloat(img: Uint8Array): Float32Array {
  const o = new Float32Array(img.length);
  for (let i = 0; i < img.length; i++) o[i] = img[i]! / 255;
  return o;
}

/** (x − mean[c]) / std[c] in place; x in [0, 1]. */
export function normalize(x: Float32Array, C: number, norm: Normalization): Float32Array {
  const HW = x.length / C;
  for (let c = 0; c < C; c++) {
    const m = norm.mean[c] ?? norm.mean[0]!;
    const s = norm.std[c] ?? norm.std[0]!;
    for (let i = c * HW; i < (c + 1) * HW; i++) x[i] = (x[i]! - m) / s;
  }
  return x;
}

/** Pads by `padding` with `fill` and crops a random H×W window (returns a new array). */
export function randomCrop(x: Float32Array, C: number, H: number, W: number, padding: number, rng: Rng, fill = 0): Float32Array {
  const dy = rng.int(2 * padding + 1) - padding;
  const dx = rng.int(2 * padding + 1) - padding;
  const o = new Float32Array(x.length);
  for (let c = 0; c < C; c++)
    for (let y = 0; y < H; y++)
      for (let xx = 0; xx < W; xx++) {
        const sy = y + dy;
        const sx = xx + dx;
        o[c * H * W + y * W + xx] = sy < 0 || sy >= H || sx < 0 || sx >= W ? fill : x[c * H * W + sy * W + sx]!;
      }
  return o;
}

/** Flips left-right with probability p (in place). */
export function randomHorizontalFlip(x: Float32Array, C: number, H: number, W: number, rng: Rng, p = 0.5): Float32Array {
  if (!(rng.uniform() < p)) return x;
  for (let r = 0; r < C * H; r++) {
    const o = r * W;
    for (let a = 0, b = W - 1; a < b; a++, b--) {
      const t = x[o + a]!;
      x[o + a] = x[o + b]!;
      x[o + b] = t;
    }
  }
  return x;
}

/** Zeroes a size×size square centred uniformly over the image (in place). */
export function cutout(x: Float32Array, C: number, H: number, W: number, size: number, rng: Rng): Float32Array {
  const cy = rng.int(H);
  const cx = rng.int(W);
  const h = size >> 1;
  for (let c = 0; c < C; c++)
    for (let y = Math.max(0, cy - h); y < Math.min(H, cy + size - h); y++)
      for (let xx = Math.max(0, cx - h); xx < Math.min(W, cx + size - h); xx++) x[c * H * W + y * W + xx] = 0;
  return x;
}
