/**
 * Batching with seeded shuffling and prefetching in worker threads.
 *
 * The dataset is copied once into a SharedArrayBuffer that every worker reads. For each batch the main
 * thread draws the order (a seeded permutation per epoch) and the augmentation parameters (a "plan"), and
 * a worker fills a fresh Float32Array, which is transferred back (no copy). `prefetch` batches are kept
 * in flight, so the next batch is ready when the training step ends. Results are identical with 0, 1 or
 * more workers: all randomness is drawn on the main thread, in batch order.
 *
 * Output: { x: Float32Array, shape, labels: Int32Array } — frames [B,C,H,W]; event frames [T,B,2,H,W]
 * (time-major) with optional mixing weights.
 */
import { Worker } from "node:worker_threads";
import { Rng } from "../engine/random.js";
import { assembleFrameBatch, planFrameBatch, type FrameAugment, type Normalization } from "./transforms.js";
import { assembleEventBatch, mixLabels, planEventBatch, type EventAugment } from "./event-augment.js";
import type { FrameDataset } from "./frame-dataset.js";

export interface Batch {
  x: Float32Array;
  shape: number[];
  labels: Int32Array;
  /** Dataset rows in this batch. */
  indices: Int32Array;
  /** Present when event mixing was applied: partner labels and the weight of the own label. */
  mix?: { labels2: Int32Array; lambda: Float32Array };
}

export interface LoaderOptions {
  batchSize: number;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
  /** Worker threads (default 1; 0 = assemble on the calling thread). */
  workers?: number;
  /** Batches kept in flight (default 2). */
  prefetch?: number;
}

/** Integrated event frames for a whole dataset: float32 [N, T, 2, H, W]. */
export interface EventFrameDataset {
  name: string;
  frames: Float32Array;
  labels: Int32Array;
  count: number;
  T: number;
  height: number;
  width: number;
  classes: string[];
  source: string;
}

type Job = { id: number; indices: Int32Array; plan: Int32Array | null; size: number };

const WORKER_SOURCE = () => `
const { parentPort, workerData } = require("node:worker_threads");
const __name = (f) => f;
${assembleFrameBatch.toString()}
${assembleEventBatch.toString()}
const d = workerData;
const mean = Float32Array.from(d.mean || []);
const invStd = Float32Array.from(d.invStd || []);
const data = d.kind === "frame" ? new Uint8Array(d.sab) : new Float32Array(d.sab);
parentPort.on("message", (m) => {
  try {
    const out = new Float32Array(m.size);
    if (d.kind === "frame") assembleFrameBatch(data, d.C, d.H, d.W, m.indices, m.plan, d.pad, d.cut, mean, invStd, out);
    else assembleEventBatch(data, d.T, d.H, d.W, m.indices, m.plan, out);
    parentPort.postMessage({ id: m.id, out }, [out.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.stack || e) });
  }
});
`;

function toShared<T extends Uint8Array | Float32Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const sab = new SharedArrayBuffer(a.byteLength);
  const c = (a instanceof Uint8Array ? new Uint8Array(sab) : new Float32Array(sab)) as T;
  c.set(a as never);
  return c;
}

abstract class BaseLoader {
  protected readonly opts: Required<LoaderOptions>;
  private workers: Worker[] = [];
  private busy: number[] = [];
  private pending = new Map<number, { resolve: (x: Float32Array) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private rr = 0;

  constructor(readonly count: number, opts: LoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`loader: batchSize must be a positive integer, got ${opts.batchSize}`);
    this.opts = { shuffle: true, seed: 0, dropLast: false, workers: 1, prefetch: 2, ...opts };
  }

  protected abstract workerData(): Record<string, unknown>;
  protected abstract assemble(indices: Int32Array, plan: Int32Array | null, out: Float32Array): void;
  protected abstract plan(n: number, rng: Rng): Int32Array | null;
  protected abstract makeBatch(x: Float32Array, indices: Int32Array, plan: Int32Array | null): Batch;
  protected abstract batchSize(n: number): number;

  get numBatches(): number {
    return this.opts.dropLast ? Math.floor(this.count / this.opts.batchSize) : Math.ceil(this.count / this.opts.batchSize);
  }

  /** Sample order of an epoch (a seeded permutation, or 0..N−1 without shuffling). */
  order(epoch: number): Int32Array {
    if (!this.opts.shuffle) return Int32Array.from({ length: this.count }, (_, i) => i);
    return new Rng((this.opts.seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0).permutation(this.count);
  }

  private ensureWorkers(): void {
    if (this.workers.length > 0 || this.opts.workers <= 0) return;
    const src = WORKER_SOURCE();
    const wd = this.workerData();
    for (let i = 0; i < this.opts.workers; i++) {
      const w = new Worker(src, { eval: true, workerData: wd });
      const k = i;
      w.on("message", (m: { id: number; out?: Float32Array; error?: string }) => {
        // an idle worker must not keep the process alive; a busy one must
        if (--this.busy[k]! === 0) w.unref();
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error) p.reject(new Error(`data loader worker: ${m.error}`));
        else p.resolve(m.out!);
      });
      w.on("error", (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      w.unref();
      this.workers.push(w);
      this.busy.push(0);
    }
  }

  private run(job: Job): Promise<Float32Array> {
    if (this.opts.workers <= 0) {
      const out = new Float32Array(job.size);
      this.assemble(job.indices, job.plan, out);
      return Promise.resolve(out);
    }
    this.ensureWorkers();
    const k = this.rr++ % this.workers.length;
    const w = this.workers[k]!;
    if (this.busy[k]!++ === 0) w.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject });
      w.postMessage(job);
    });
  }

  /** The batches of one epoch, prefetched. */
  async *batches(epoch = 0): AsyncGenerator<Batch> {
    const order = this.order(epoch);
    const planRng = new Rng((this.opts.seed ^ Math.imul(epoch + 1, 0x85ebca6b) ^ 0x5bd1e995) >>> 0);
    const bs = this.opts.batchSize;
    const nb = this.numBatches;
    const jobs: { indices: Int32Array; plan: Int32Array | null; promise: Promise<Float32Array> }[] = [];
    let next = 0;
    const launch = () => {
      const a = next * bs;
      const indices = order.slice(a, Math.min(this.count, a + bs));
      const plan = this.plan(indices.length, planRng);
      const id = this.nextId++;
      jobs.push({ indices, plan, promise: this.run({ id, indices, plan, size: this.batchSize(indices.length) }) });
      next++;
    };
    while (next < nb && jobs.length < Math.max(1, this.opts.prefetch)) launch();
    while (jobs.length > 0) {
      const j = jobs.shift()!;
      const x = await j.promise;
      if (next < nb) launch();
      yield this.makeBatch(x, j.indices, j.plan);
    }
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    this.busy = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

export interface FrameLoaderOptions extends LoaderOptions {
  augment?: FrameAugment;
  /** Default: mean 0, std 1 (pixels scaled to [0, 1]). */
  normalize?: Normalization;
}

export class FrameLoader extends BaseLoader {
  private readonly images: Uint8Array;
  private readonly mean: Float32Array;
  private readonly invStd: Float32Array;

  constructor(readonly ds: FrameDataset, private readonly fopts: FrameLoaderOptions) {
    super(ds.count, fopts);
    this.images = fopts.workers === 0 ? ds.images : toShared(ds.images);
    const C = ds.channels;
    const n = fopts.normalize ?? { mean: [0], std: [1] };
    this.mean = Float32Array.from({ length: C }, (_, c) => n.mean[c] ?? n.mean[0]!);
    this.invStd = Float32Array.from({ length: C }, (_, c) => 1 / (n.std[c] ?? n.std[0]!));
  }
  protected workerData() {
    const d = this.ds;
    return { kind: "frame", sab: this.images.buffer, C: d.channels, H: d.height, W: d.width, pad: this.fopts.augment?.crop?.padding ?? 0, cut: this.fopts.augment?.cutout?.size ?? 0, mean: [...this.mean], invStd: [...this.invStd] };
  }
  protected assemble(indices: Int32Array, plan: Int32Array | null, out: Float32Array): void {
    const d = this.ds;
    assembleFrameBatch(this.images, d.channels, d.height, d.width, indices, plan, this.fopts.augment?.crop?.padding ?? 0, this.fopts.augment?.cutout?.size ?? 0, this.mean, this.invStd, out);
  }
  protected plan(n: number, rng: Rng) {
    return planFrameBatch(this.fopts.augment, n, this.ds.height, this.ds.width, rng);
  }
  protected batchSize(n: number) {
    return n * this.ds.channels * this.ds.height * this.ds.width;
  }
  protected makeBatch(x: Float32Array, indices: Int32Array): Batch {
    const d = this.ds;
    return { x, shape: [indices.length, d.channels, d.height, d.width], labels: Int32Array.from(indices, (i) => d.labels[i]!), indices };
  }
}

export interface EventLoaderOptions extends LoaderOptions {
  augment?: EventAugment;
}

export class EventFrameLoader extends BaseLoader {
  private readonly frames: Float32Array;

  constructor(readonly ds: EventFrameDataset, private readonly eopts: EventLoaderOptions) {
    super(ds.count, eopts);
    this.frames = eopts.workers === 0 ? ds.frames : toShared(ds.frames);
  }
  protected workerData() {
    return { kind: "event", sab: this.frames.buffer, T: this.ds.T, H: this.ds.height, W: this.ds.width };
  }
  protected assemble(indices: Int32Array, plan: Int32Array | null, out: Float32Array): void {
    assembleEventBatch(this.frames, this.ds.T, this.ds.height, this.ds.width, indices, plan, out);
  }
  protected plan(n: number, rng: Rng) {
    return planEventBatch(this.eopts.augment, n, this.ds.height, this.ds.width, rng);
  }
  protected batchSize(n: number) {
    return this.ds.T * n * 2 * this.ds.height * this.ds.width;
  }
  protected makeBatch(x: Float32Array, indices: Int32Array, plan: Int32Array | null): Batch {
    const d = this.ds;
    const labels = Int32Array.from(indices, (i) => d.labels[i]!);
    const b: Batch = { x, shape: [d.T, indices.length, 2, d.height, d.width], labels, indices };
    const mix = mixLabels(plan, labels, d.height, d.width);
    if (mix) b.mix = mix;
    return b;
  }
}
