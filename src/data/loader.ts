/**
 * Batching with seeded shuffling and prefetching in worker threads (batch-workers.ts).
 *
 * The dataset is copied once into a SharedArrayBuffer that every worker reads. For each batch the main
 * thread draws the order (a seeded permutation per epoch) and the augmentation parameters (a "plan"), and
 * a worker fills a fresh Float32Array, which is transferred back (no copy). `prefetch` batches are kept
 * in flight, so the next batch is ready when the training step ends. Results are identical with 0, 1 or
 * more workers: all randomness is drawn on the main thread, in batch order.
 *
 * Consumers: `batches(epoch)` (async), `batchesSync(epoch)` (a synchronous loop, e.g. a benchmark), or
 * `planBatch` / `start` / `finishSync` for a caller that owns the order and the RNG (the trainer's splits).
 *
 * Output: { x: Float32Array, shape, labels: Int32Array } — frames [B,C,H,W]; event frames [T,B,2,H,W]
 * (time-major, or [B,T,2,H,W] with layout "sample-major") with optional mixing weights.
 */
import { Rng } from "../engine/random.js";
import { BatchWorkers, type BatchWorkerData } from "./batch-workers.js";
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

/**
 * Whole-dataset event frames, allocated shared from the start: a worker-thread loader then reads them in place,
 * where a private array would have to be copied (2.2 GB for Fashion-MNIST at T = 4).
 */
export function allocSharedFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(4 * n));
}

function toShared<T extends Uint8Array | Float32Array>(a: T): T {
  // the workers get the whole buffer, so a view into the middle of one is copied out
  if (a.buffer instanceof SharedArrayBuffer && a.byteOffset === 0) return a;
  const sab = new SharedArrayBuffer(a.byteLength);
  const c = (a instanceof Uint8Array ? new Uint8Array(sab) : new Float32Array(sab)) as T;
  c.set(a as never);
  return c;
}

/** A batch being assembled: by a worker (`job`), or already done on the calling thread (`x`). */
export interface PendingBatch {
  indices: Int32Array;
  plan: Int32Array | null;
  job: number | null;
  x: Float32Array | null;
}

abstract class BaseLoader {
  protected readonly opts: Required<LoaderOptions>;
  private pool: BatchWorkers | null = null;

  constructor(readonly count: number, opts: LoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`loader: batchSize must be a positive integer, got ${opts.batchSize}`);
    this.opts = { shuffle: true, seed: 0, dropLast: false, workers: 1, prefetch: 2, ...opts };
  }

  protected abstract workerData(): BatchWorkerData;
  protected abstract assemble(indices: Int32Array, plan: Int32Array | null, out: Float32Array): void;
  protected abstract plan(n: number, rng: Rng): Int32Array | null;
  protected abstract makeBatch(x: Float32Array, indices: Int32Array, plan: Int32Array | null): Batch;
  protected abstract batchSize(n: number): number;

  get numBatches(): number {
    return this.opts.dropLast ? Math.floor(this.count / this.opts.batchSize) : Math.ceil(this.count / this.opts.batchSize);
  }

  /** Worker threads (0: batches are assembled on the calling thread). */
  get workers(): number {
    return this.opts.workers;
  }

  /** Sample order of an epoch (a seeded permutation, or 0..N−1 without shuffling). */
  order(epoch: number): Int32Array {
    if (!this.opts.shuffle) return Int32Array.from({ length: this.count }, (_, i) => i);
    return new Rng((this.opts.seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0).permutation(this.count);
  }

  /** Draws the augmentation plan of a batch of n samples from `rng` (the same draws whoever assembles it). */
  planBatch(n: number, rng: Rng): Int32Array | null {
    return this.plan(n, rng);
  }

  /** Starts assembling a batch: in a worker, or (0 workers) right here. */
  start(indices: Int32Array, plan: Int32Array | null): PendingBatch {
    if (this.opts.workers <= 0) return { indices, plan, job: null, x: this.assembleHere(indices, plan) };
    this.pool ??= new BatchWorkers(this.opts.workers, this.workerData());
    return { indices, plan, job: this.pool.submit(indices, plan, this.batchSize(indices.length)), x: null };
  }

  /** The started batch, waiting for it on this thread (blocking) if a worker is still on it. */
  finishSync(p: PendingBatch): Batch {
    return this.makeBatch(p.x ?? this.poolFor(p).takeSync(p.job!), p.indices, p.plan);
  }

  async finish(p: PendingBatch): Promise<Batch> {
    return this.makeBatch(p.x ?? (await this.poolFor(p).take(p.job!)), p.indices, p.plan);
  }

  /** Gives up a started batch (its result is discarded when it arrives). */
  cancel(p: PendingBatch): void {
    if (p.job !== null) this.pool?.drop(p.job);
  }

  /** Assembles a batch on the calling thread (the kernel the workers run). */
  assembleNow(indices: Int32Array, plan: Int32Array | null): Batch {
    return this.makeBatch(this.assembleHere(indices, plan), indices, plan);
  }

  private poolFor(p: PendingBatch): BatchWorkers {
    if (!this.pool) throw new Error(`loader: batch of ${p.indices.length} samples was started before close()`);
    return this.pool;
  }

  private assembleHere(indices: Int32Array, plan: Int32Array | null): Float32Array {
    const out = new Float32Array(this.batchSize(indices.length));
    this.assemble(indices, plan, out);
    return out;
  }

  /** (indices, plan) of every batch of an epoch, in order; the plans come from one seeded stream per epoch. */
  private *plans(epoch: number): Generator<{ indices: Int32Array; plan: Int32Array | null }> {
    const order = this.order(epoch);
    const planRng = new Rng((this.opts.seed ^ Math.imul(epoch + 1, 0x85ebca6b) ^ 0x5bd1e995) >>> 0);
    const bs = this.opts.batchSize;
    for (let b = 0; b < this.numBatches; b++) {
      const indices = order.slice(b * bs, Math.min(this.count, (b + 1) * bs));
      yield { indices, plan: this.plan(indices.length, planRng) };
    }
  }

  /** Keeps `prefetch` batches of the epoch started ahead of the consumer. */
  private queue(epoch: number): { next: () => PendingBatch | undefined; cancelAll: () => void } {
    const it = this.plans(epoch);
    const q: PendingBatch[] = [];
    const fill = () => {
      for (let n = it.next(); ; n = it.next()) {
        if (n.done) return;
        q.push(this.start(n.value.indices, n.value.plan));
        if (q.length >= Math.max(1, this.opts.prefetch)) return;
      }
    };
    fill();
    return {
      next: () => {
        const p = q.shift();
        if (p) fill();
        return p;
      },
      cancelAll: () => q.splice(0).forEach((p) => this.cancel(p)),
    };
  }

  /** The batches of one epoch, prefetched. */
  async *batches(epoch = 0): AsyncGenerator<Batch> {
    const q = this.queue(epoch);
    try {
      for (let p = q.next(); p; p = q.next()) yield await this.finish(p);
    } finally {
      q.cancelAll();
    }
  }

  /** The same batches for a synchronous consumer: it blocks only when the next batch is not ready yet. */
  *batchesSync(epoch = 0): Generator<Batch> {
    const q = this.queue(epoch);
    try {
      for (let p = q.next(); p; p = q.next()) yield this.finishSync(p);
    } finally {
      q.cancelAll();
    }
  }

  /** Stops the worker threads (they start again if the loader is used again). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
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
    this.images = this.workers === 0 ? ds.images : toShared(ds.images);
    const C = ds.channels;
    const n = fopts.normalize ?? { mean: [0], std: [1] };
    this.mean = Float32Array.from({ length: C }, (_, c) => n.mean[c] ?? n.mean[0]!);
    this.invStd = Float32Array.from({ length: C }, (_, c) => 1 / (n.std[c] ?? n.std[0]!));
  }
  protected workerData(): BatchWorkerData {
    const d = this.ds;
    return {
      kind: "frame", sab: this.images.buffer as SharedArrayBuffer, C: d.channels, H: d.height, W: d.width,
      pad: this.fopts.augment?.crop?.padding ?? 0, cut: this.fopts.augment?.cutout?.size ?? 0, mean: [...this.mean], invStd: [...this.invStd],
    };
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
  /** "time-major" (default): x is [T, B, 2, H, W]; "sample-major": [B, T, 2, H, W]. */
  layout?: "time-major" | "sample-major";
}

export class EventFrameLoader extends BaseLoader {
  private readonly frames: Float32Array;
  private readonly timeMajor: boolean;

  constructor(readonly ds: EventFrameDataset, private readonly eopts: EventLoaderOptions) {
    super(ds.count, eopts);
    this.frames = this.workers === 0 ? ds.frames : toShared(ds.frames);
    this.timeMajor = (eopts.layout ?? "time-major") === "time-major";
  }
  protected workerData(): BatchWorkerData {
    return { kind: "event", sab: this.frames.buffer as SharedArrayBuffer, T: this.ds.T, H: this.ds.height, W: this.ds.width, timeMajor: this.timeMajor };
  }
  protected assemble(indices: Int32Array, plan: Int32Array | null, out: Float32Array): void {
    assembleEventBatch(this.frames, this.ds.T, this.ds.height, this.ds.width, indices, plan, out, this.timeMajor);
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
    const shape = this.timeMajor ? [d.T, indices.length, 2, d.height, d.width] : [indices.length, d.T, 2, d.height, d.width];
    const b: Batch = { x, shape, labels, indices };
    const mix = mixLabels(plan, labels, d.height, d.width);
    if (mix) b.mix = mix;
    return b;
  }
}
