import { describe, expect, it } from "vitest";
import { join } from "node:path";
import {
  FrameLoader, EventFrameLoader, loadBundledFashionMnist, subsetFrames, FASHION_MNIST_NORMALIZATION, emulateEvents, eventStats,
  emulateDataset, loadEventFolder, listEventFolder, type EventFrameDataset,
} from "../../src/data/index.js";
import { tmp } from "./helpers.js";

const ds = subsetFrames(loadBundledFashionMnist("test"), Int32Array.from({ length: 300 }, (_, i) => i));

async function collect(l: FrameLoader | EventFrameLoader, epoch = 0) {
  const out = [];
  for await (const b of l.batches(epoch)) out.push(b);
  return out;
}

describe("frame loader", () => {
  it("batches every sample once per epoch, shuffled under the seed", async () => {
    const l = new FrameLoader(ds, { batchSize: 64, seed: 5, workers: 0 });
    const e0 = await collect(l, 0);
    expect(e0.map((b) => b.labels.length)).toEqual([64, 64, 64, 64, 44]);
    expect(e0[0]!.shape).toEqual([64, 1, 28, 28]);
    const seen = e0.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(Array.from(e0[0]!.labels)).toEqual(Array.from(e0[0]!.indices, (i) => ds.labels[i]!));
    const again = await collect(new FrameLoader(ds, { batchSize: 64, seed: 5, workers: 0 }), 0);
    expect(again[0]!.indices).toEqual(e0[0]!.indices);
    const e1 = await collect(l, 1);
    expect(e1[0]!.indices).not.toEqual(e0[0]!.indices);
    const dl = new FrameLoader(ds, { batchSize: 64, dropLast: true, shuffle: false, workers: 0 });
    const plain = await collect(dl);
    expect(plain.length).toBe(4);
    expect(Array.from(plain[0]!.indices.subarray(0, 3))).toEqual([0, 1, 2]);
    // pixels scaled to [0, 1] by default
    expect(plain[0]!.x[28 * 14 + 14]).toBeCloseTo(ds.images[28 * 14 + 14]! / 255);
  });

  it("gives identical batches on the calling thread and in 1 or 2 worker threads, with prefetching", async () => {
    const opts = { batchSize: 50, seed: 9, normalize: FASHION_MNIST_NORMALIZATION, augment: { crop: { padding: 4 }, hflip: 0.5, cutout: { size: 8 } } };
    const ref = await collect(new FrameLoader(ds, { ...opts, workers: 0 }));
    for (const workers of [1, 2]) {
      const l = new FrameLoader(ds, { ...opts, workers, prefetch: 3 });
      try {
        const got = await collect(l);
        expect(got.length).toBe(ref.length);
        got.forEach((b, i) => {
          expect(b.indices).toEqual(ref[i]!.indices);
          expect(b.x).toEqual(ref[i]!.x);
        });
      } finally {
        await l.close();
      }
    }
  });

  it("prefetches: the next batch is already being assembled while the consumer works", async () => {
    const l = new FrameLoader(ds, { batchSize: 100, seed: 1, workers: 1, prefetch: 2 });
    try {
      const it = l.batches(0);
      await it.next();
      await new Promise((r) => setTimeout(r, 200)); // a "training step"
      const t0 = performance.now();
      const second = await it.next();
      expect(second.done).toBe(false);
      expect(performance.now() - t0).toBeLessThan(50);
      for await (const _ of it) void _;
    } finally {
      await l.close();
    }
  });
});

describe("emulation and event datasets", () => {
  it("emulates a saccade recording deterministically, sorted, with both polarities and the refractory period", () => {
    const img = ds.images.subarray(0, 784);
    const a = emulateEvents(img, 28, 28, { seed: 3 });
    const b = emulateEvents(img, 28, 28, { seed: 3 });
    expect(a.t).toEqual(b.t);
    const st = eventStats(a);
    expect(st.events).toBeGreaterThan(500);
    expect(st.on).toBeGreaterThan(st.events * 0.3);
    expect(st.off).toBeGreaterThan(st.events * 0.3);
    expect(st.durationUs).toBeGreaterThan(250_000);
    expect(st.durationUs).toBeLessThanOrEqual(300_000);
    expect([a.width, a.height]).toEqual([34, 34]);
    for (let i = 1; i < a.t.length; i++) expect(a.t[i]! >= a.t[i - 1]!).toBe(true);
    const refr = emulateEvents(img, 28, 28, { seed: 3, refractoryUs: 5000 });
    const last = new Map<number, number>();
    for (let i = 0; i < refr.t.length; i++) {
      const k = refr.y[i]! * 34 + refr.x[i]!;
      if (last.has(k)) expect(refr.t[i]! - last.get(k)!).toBeGreaterThanOrEqual(4999);
      last.set(k, refr.t[i]!);
    }
    expect(refr.t.length).toBeLessThan(a.t.length);
    expect(emulateEvents(new Uint8Array(784), 28, 28).t.length).toBe(0);
  });

  it("writes an emulated dataset, reads it back as integrated frames and batches it time-major", async () => {
    const d = tmp();
    const small = subsetFrames(ds, Int32Array.from({ length: 12 }, (_, i) => i));
    const sum = emulateDataset(small, join(d, "test"), { format: "aedat4", seed: 1 });
    expect(sum.samples).toBe(12);
    expect(listEventFolder(join(d, "test")).classes[0]).toBe("T-shirt/top");
    const ev: EventFrameDataset = loadEventFolder(join(d, "test"), { T: 4, cacheDir: join(d, "cache") });
    expect([ev.count, ev.T, ev.height, ev.width]).toEqual([12, 4, 34, 34]);
    const l = new EventFrameLoader(ev, { batchSize: 5, seed: 2, workers: 1, augment: { translate: { max: 3 }, hflip: 0.5, mix: { prob: 0.5 } } });
    try {
      const bs = await collect(l);
      expect(bs[0]!.shape).toEqual([4, 5, 2, 34, 34]);
      expect(bs.reduce((a, b) => a + b.labels.length, 0)).toBe(12);
      const ref = await collect(new EventFrameLoader(ev, { batchSize: 5, seed: 2, workers: 0, augment: { translate: { max: 3 }, hflip: 0.5, mix: { prob: 0.5 } } }));
      expect(bs[1]!.x).toEqual(ref[1]!.x);
    } finally {
      await l.close();
    }
  });
});
