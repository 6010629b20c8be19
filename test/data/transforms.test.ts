import { describe, expect, it } from "vitest";
import { Rng } from "../../src/engine/random.js";
import {
  assembleFrameBatch, planFrameBatch, toFloat, randomCrop, randomHorizontalFlip, normalize, cutout, assembleEventBatch, planEventBatch,
  mixLabels, type FrameAugment,
} from "../../src/data/index.js";

describe("frame transforms", () => {
  const C = 3, H = 8, W = 8;
  const images = new Uint8Array(4 * C * H * W).map((_, i) => (i * 37) % 256);
  const norm = { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3] };
  const aug: FrameAugment = { crop: { padding: 2 }, hflip: 0.5, cutout: { size: 4 } };

  it("are deterministic under a seed and differ across seeds", () => {
    const run = (seed: number) => {
      const x = toFloat(images.subarray(0, C * H * W));
      const r = new Rng(seed);
      return cutout(normalize(randomHorizontalFlip(randomCrop(x, C, H, W, 2, r), C, H, W, r), C, norm), C, H, W, 4, r);
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it("the batch kernel equals crop -> flip -> normalise -> cutout applied one image at a time", () => {
    const plan = planFrameBatch(aug, 4, H, W, new Rng(3))!;
    const mean = Float32Array.from(norm.mean);
    const invStd = Float32Array.from(norm.std, (s) => 1 / s);
    const out = new Float32Array(4 * C * H * W);
    assembleFrameBatch(images, C, H, W, Int32Array.from([0, 1, 2, 3]), plan, 2, 4, mean, invStd, out);
    const r = new Rng(3);
    for (let b = 0; b < 4; b++) {
      const x = toFloat(images.subarray(b * C * H * W, (b + 1) * C * H * W));
      const y = cutout(normalize(randomHorizontalFlip(randomCrop(x, C, H, W, 2, r), C, H, W, r), C, norm), C, H, W, 4, r);
      const got = out.subarray(b * C * H * W, (b + 1) * C * H * W);
      for (let i = 0; i < y.length; i++) expect(got[i]).toBeCloseTo(y[i]!, 5);
    }
  });

  it("cutout zeroes a clipped 16 px square on all channels; crop pads with black", () => {
    const x = new Float32Array(2 * 32 * 32).fill(1);
    cutout(x, 2, 32, 32, 16, new Rng(1));
    const zeros = x.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
    expect(zeros % 2).toBe(0);
    expect(zeros / 2).toBeGreaterThan(0);
    expect(zeros / 2).toBeLessThanOrEqual(256);
    const c = randomCrop(new Float32Array(16).fill(1), 1, 4, 4, 4, new Rng(5));
    expect(c.some((v) => v === 0) || c.every((v) => v === 1)).toBe(true);
  });
});

describe("event augmentation", () => {
  const T = 2, H = 4, W = 4;
  const frames = new Float32Array(2 * T * 2 * H * W).map((_, i) => i);
  it("roll wraps around, shift fills with zeros, identically at every timestep", () => {
    const plan = new Int32Array(9);
    plan.set([0, 1, 0, 0, -1, 0, 0, 0, 0]); // dx = 1, roll
    const out = new Float32Array(T * 1 * 2 * H * W);
    assembleEventBatch(frames, T, H, W, Int32Array.from([0]), plan, out);
    for (let t = 0; t < T; t++) {
      const o = t * 2 * H * W;
      expect(out[o + 1]).toBe(frames[o + 0]);
      expect(out[o + 0]).toBe(frames[o + 3]); // wrapped
    }
    plan[3] = 1; // shift
    assembleEventBatch(frames, T, H, W, Int32Array.from([0]), plan, out);
    expect(out[0]).toBe(0);
    expect(out[1]).toBe(frames[0]);
  });

  it("is time-major, mixes only the same timestep, and gives label weights", () => {
    const plan = planEventBatch({ hflip: 0.5, translate: { max: 1 }, mix: { prob: 1 } }, 2, H, W, new Rng(2))!;
    expect(plan).toEqual(planEventBatch({ hflip: 0.5, translate: { max: 1 }, mix: { prob: 1 } }, 2, H, W, new Rng(2)));
    // no flip/translation, sample 0 takes a box from sample 1
    const p = new Int32Array(18);
    p.set([0, 0, 0, 0, 1, 0, 0, 2, 2], 0);
    p.set([0, 0, 0, 0, -1, 0, 0, 0, 0], 9);
    const out = new Float32Array(T * 2 * 2 * H * W);
    assembleEventBatch(frames, T, H, W, Int32Array.from([0, 1]), p, out);
    const S = T * 2 * H * W;
    for (let t = 0; t < T; t++) {
      const o0 = (t * 2 + 0) * 2 * H * W; // [t, b=0]
      expect(out[o0]).toBe(frames[S + t * 2 * H * W]); // box pixel from partner, same t
      expect(out[o0 + 3]).toBe(frames[t * 2 * H * W + 3]); // outside the box: own
      const o1 = (t * 2 + 1) * 2 * H * W; // [t, b=1]
      expect(out[o1 + 5]).toBe(frames[S + t * 2 * H * W + 5]);
    }
    const m = mixLabels(p, Int32Array.from([3, 8]), H, W)!;
    expect(Array.from(m.labels2)).toEqual([8, 8]);
    expect(m.lambda[0]).toBeCloseTo(1 - 4 / 16);
    expect(m.lambda[1]).toBe(1);
  });
});
