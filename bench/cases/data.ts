/**
 * Data-layer bench cases: reading + batching the full Fashion-MNIST training set (images/s; the loader
 * must sustain ≥ 20 000 images/s from memory) and integrating events into frames (events/s).
 * The `_batch128` cases time the batch kernel on the calling thread; `_loader_2workers_crop_flip` runs the
 * real FrameLoader (2 worker threads, prefetch 2, crop + flip) over the whole set, so worker start-up is
 * outside the timing but the message passing, the transfers and the waiting are in it. Reading the gzipped
 * IDX files is timed once in setup and reported as `read_ms`.
 */
import type { BenchCase } from "./types.js";
import {
  loadDataset, loadBundledFashionMnist, assembleFrameBatch, planFrameBatch, integrateEvents, makeStream, FrameLoader, FASHION_MNIST_NORMALIZATION,
  type FrameDataset,
} from "../../src/data/index.js";
import { Rng } from "../../src/engine/random.js";

async function fashionTrain(): Promise<{ ds: FrameDataset; readMs: number; source: string }> {
  const t0 = performance.now();
  try {
    const ds = await loadDataset("fashion-mnist", "train", { download: false });
    return { ds, readMs: performance.now() - t0, source: ds.source };
  } catch {
    const ds = loadBundledFashionMnist("train");
    return { ds, readMs: performance.now() - t0, source: "bundled subset (full set not found)" };
  }
}

function batchingCase(augment: boolean): BenchCase {
  return {
    name: `data_fashion_mnist_train_batch128${augment ? "_crop_flip" : ""}`,
    kind: "memory",
    work: 60000 * 784 * 5,
    async setup() {
      const { ds, readMs, source } = await fashionTrain();
      const mean = Float32Array.from(FASHION_MNIST_NORMALIZATION.mean);
      const invStd = Float32Array.from(FASHION_MNIST_NORMALIZATION.std, (s) => 1 / s);
      const out = new Float32Array(128 * 784);
      const rng = new Rng(0);
      const order = rng.permutation(ds.count);
      const aug = augment ? { crop: { padding: 2 }, hflip: 0.5 } : undefined;
      return {
        level: "op" as const,
        extra: { images: ds.count, read_ms: Math.round(readMs), source, note: "images/s = images / (ours_ms / 1000)" },
        run: () => {
          for (let a = 0; a < ds.count; a += 128) {
            const idx = order.subarray(a, Math.min(ds.count, a + 128));
            const plan = planFrameBatch(aug, idx.length, 28, 28, rng);
            assembleFrameBatch(ds.images, 1, 28, 28, idx, plan, 2, 0, mean, invStd, out);
          }
        },
      };
    },
  };
}

function loaderCase(): BenchCase {
  const workers = 2;
  return {
    name: `data_fashion_mnist_train_loader_${workers}workers_crop_flip`,
    kind: "memory",
    work: 60000 * 784 * 5,
    async setup() {
      const { ds, readMs, source } = await fashionTrain();
      const loader = new FrameLoader(ds, { batchSize: 128, seed: 0, workers, prefetch: 2, normalize: FASHION_MNIST_NORMALIZATION, augment: { crop: { padding: 2 }, hflip: 0.5 } });
      let epoch = 0;
      const pass = () => {
        let n = 0;
        for (const b of loader.batchesSync(epoch++)) n += b.labels.length;
        if (n !== ds.count) throw new Error(`loader bench: an epoch gave ${n} images, expected ${ds.count}`);
      };
      pass(); // starts the workers (idle workers are unref'd: they never hold the bench process open)
      return {
        level: "op" as const,
        extra: { images: ds.count, workers, prefetch: 2, read_ms: Math.round(readMs), source, note: "images/s = images / (ours_ms / 1000); FrameLoader.batchesSync, 2 worker threads" },
        run: pass,
      };
    },
  };
}

function integrationCase(mode: "time" | "count", down: boolean): BenchCase {
  const n = 1_000_000;
  return {
    name: `data_integrate_1M_events_128_T10_${mode}${down ? "_to48" : ""}`,
    kind: "memory",
    work: n * 13,
    setup() {
      const r = new Rng(1);
      const s = makeStream(n, 128, 128, { format: "npy" });
      let t = 0;
      for (let i = 0; i < n; i++) {
        t += r.int(3);
        s.x[i] = r.int(128);
        s.y[i] = r.int(128);
        s.t[i] = t;
        s.p[i] = r.int(2);
      }
      return {
        level: "op" as const,
        extra: { events: n, note: "events/s = events / (ours_ms / 1000)" },
        run: () => void integrateEvents(s, { T: 10, mode, outWidth: down ? 48 : undefined, outHeight: down ? 48 : undefined }),
      };
    },
  };
}

export const cases: BenchCase[] = [batchingCase(false), batchingCase(true), loaderCase(), integrationCase("time", false), integrationCase("count", false), integrationCase("time", true)];
