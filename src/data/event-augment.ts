/**
 * Augmentation of integrated event frames used for DVS training, deterministic under a seed:
 * random horizontal flip, random translation by (dx, dy) ∈ U{−max..max}² applied identically to every
 * timestep — "roll" wraps around (torch.roll, the older reference code), "shift" fills with zeros
 * (torchvision affine, spec §8.2) — and mixing: a rectangle of another sample's frames is pasted at the
 * same timesteps (frame t only ever mixes with frame t of the partner: the timestep grid is shared), with
 * the label weight λ = 1 − box area / image area (CutMix on the frame grid).
 * Random parameters are drawn on the main thread ("plans"); the kernel is self-contained for workers.
 */
import type { Rng } from "../engine/random.js";

export interface EventAugment {
  hflip?: number;
  translate?: { max: number; mode?: "roll" | "shift" };
  /** Probability of mixing a sample with another sample of the batch. */
  mix?: { prob: number; beta?: number };
}

/** Per sample: flip, dx, dy, translate mode (0 roll, 1 shift), partner (−1 none), x0, y0, x1, y1. */
export const EVENT_PLAN = 9;

function betaSample(rng: Rng, a: number): number {
  // Beta(a, a) via two Gamma(a) draws (Marsaglia–Tsang, with the a < 1 boost)
  const gamma = (k: number): number => {
    if (k < 1) return gamma(k + 1) * Math.pow(rng.uniform() || 1e-12, 1 / k);
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const z = rng.normal();
      const v = Math.pow(1 + c * z, 3);
      if (v <= 0) continue;
      const u = rng.uniform();
      if (Math.log(u || 1e-300) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  const x = gamma(a);
  const y = gamma(a);
  return x / (x + y);
}

/** Draws the plan for a batch of n samples; partners are other positions in the same batch. */
export function planEventBatch(aug: EventAugment | undefined, n: number, H: number, W: number, rng: Rng): Int32Array | null {
  if (!aug || (!aug.hflip && !aug.translate && !aug.mix)) return null;
  const plan = new Int32Array(n * EVENT_PLAN);
  for (let b = 0; b < n; b++) {
    const o = b * EVENT_PLAN;
    plan[o] = aug.hflip ? (rng.uniform() < aug.hflip ? 1 : 0) : 0;
    const m = aug.translate?.max ?? 0;
    plan[o + 1] = aug.translate ? rng.int(2 * m + 1) - m : 0;
    plan[o + 2] = aug.translate ? rng.int(2 * m + 1) - m : 0;
    plan[o + 3] = aug.translate?.mode === "shift" ? 1 : 0;
    plan[o + 4] = -1;
    if (aug.mix && n > 1 && rng.uniform() < aug.mix.prob) {
      let partner = rng.int(n - 1);
      if (partner >= b) partner++;
      const lam = betaSample(rng, aug.mix.beta ?? 1);
      const r = Math.sqrt(1 - lam);
      const bw = Math.floor(W * r);
      const bh = Math.floor(H * r);
      const cx = rng.int(W);
      const cy = rng.int(H);
      plan[o + 4] = partner;
      plan[o + 5] = Math.max(0, cx - (bw >> 1));
      plan[o + 6] = Math.max(0, cy - (bh >> 1));
      plan[o + 7] = Math.min(W, cx + bw - (bw >> 1));
      plan[o + 8] = Math.min(H, cy + bh - (bh >> 1));
    }
  }
  return plan;
}

/**
 * Gathers frames[indices] (float32 [N,T,2,H,W]) into a time-major batch out [T,B,2,H,W] (or sample-major
 * [B,T,2,H,W] with timeMajor false, the trainer's layout), applying the plan's flip/translation to each sample
 * and pasting partners' boxes (the partner's un-augmented frames at the same timestep). Self-contained: runs in
 * worker threads too.
 */
export function assembleEventBatch(frames: Float32Array, T: number, H: number, W: number, indices: Int32Array, plan: Int32Array | null, out: Float32Array, timeMajor = true): void {
  const B = indices.length;
  const HW = H * W;
  const sample = T * 2 * HW;
  for (let b = 0; b < B; b++) {
    const src = indices[b]! * sample;
    const o = b * 9;
    const flip = plan !== null && plan[o]! === 1;
    const dx = plan === null ? 0 : plan[o + 1]!;
    const dy = plan === null ? 0 : plan[o + 2]!;
    const shift = plan !== null && plan[o + 3]! === 1;
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < 2; c++) {
        const s0 = src + (t * 2 + c) * HW;
        const d0 = ((timeMajor ? t * B + b : b * T + t) * 2 + c) * HW;
        if (!flip && dx === 0 && dy === 0) {
          for (let i = 0; i < HW; i++) out[d0 + i] = frames[s0 + i]!;
          continue;
        }
        for (let y = 0; y < H; y++) {
          let sy = y - dy;
          if (shift) {
            if (sy < 0 || sy >= H) {
              for (let x = 0; x < W; x++) out[d0 + y * W + x] = 0;
              continue;
            }
          } else sy = ((sy % H) + H) % H;
          for (let x = 0; x < W; x++) {
            let sx = (flip ? W - 1 - x : x) - dx;
            if (shift) {
              if (sx < 0 || sx >= W) {
                out[d0 + y * W + x] = 0;
                continue;
              }
            } else sx = ((sx % W) + W) % W;
            out[d0 + y * W + x] = frames[s0 + sy * W + sx]!;
          }
        }
      }
    }
  }
  if (plan === null) return;
  for (let b = 0; b < B; b++) {
    const o = b * 9;
    const partner = plan[o + 4]!;
    if (partner < 0) continue;
    const psrc = indices[partner]! * sample;
    const x0 = plan[o + 5]!;
    const y0 = plan[o + 6]!;
    const x1 = plan[o + 7]!;
    const y1 = plan[o + 8]!;
    for (let t = 0; t < T; t++)
      for (let c = 0; c < 2; c++) {
        const s0 = psrc + (t * 2 + c) * HW;
        const d0 = ((timeMajor ? t * B + b : b * T + t) * 2 + c) * HW;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out[d0 + y * W + x] = frames[s0 + y * W + x]!;
      }
  }
}

/** Label weights for a planned batch: labels2 (partner's label, or own) and λ (weight of the own label). */
export function mixLabels(plan: Int32Array | null, labels: Int32Array, H: number, W: number): { labels2: Int32Array; lambda: Float32Array } | undefined {
  if (!plan) return undefined;
  const B = labels.length;
  let any = false;
  const labels2 = Int32Array.from(labels);
  const lambda = new Float32Array(B).fill(1);
  for (let b = 0; b < B; b++) {
    const o = b * EVENT_PLAN;
    const partner = plan[o + 4]!;
    if (partner < 0) continue;
    any = true;
    labels2[b] = labels[partner]!;
    lambda[b] = 1 - ((plan[o + 7]! - plan[o + 5]!) * (plan[o + 8]! - plan[o + 6]!)) / (H * W);
  }
  return any ? { labels2, lambda } : undefined;
}

/**
 * One hard label per sample for a planned batch: the label covering the larger part of the frame (own when
 * λ ≥ 0.5, else the partner's). For losses that take class indices only; mixLabels gives the exact weights.
 */
export function dominantLabels(plan: Int32Array | null, labels: Int32Array, H: number, W: number): Int32Array {
  const mix = mixLabels(plan, labels, H, W);
  if (!mix) return labels;
  return Int32Array.from(labels, (l, b) => (mix.lambda[b]! >= 0.5 ? l : mix.labels2[b]!));
}
