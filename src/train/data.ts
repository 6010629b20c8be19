/**
 * The trainer's view of data: a split is a source of batches addressed by sample indices, so the trainer owns the
 * (seeded) order and the augmentation RNG and can resume mid-epoch bit-identically.
 *
 * `frameSplit` adapts an in-memory FrameDataset (src/data) to that view with src/data's batch transforms
 * (normalisation, random crop with zero padding, horizontal flip, cutout; parameters drawn from the given RNG in
 * src/data's fixed order). `eventSplit` does the same for integrated event frames ([B, T, C, H, W], `temporal:
 * true`) with src/data's event augmentation (flip, roll, mixing on the shared timestep grid).
 *
 * With `workers > 0` the batches are assembled by src/data's loader in worker threads. The augmentation plan is
 * still drawn here, on the trainer's thread, from the trainer's RNG, before anything else happens, so batches,
 * losses and the RNG state saved in checkpoints are identical for any worker count. Given the trainer's batch
 * order (`schedule`) and each batch's global step, the split also starts the next `prefetch` batches early: it replays the upcoming plans on
 * a copy of the RNG, and a batch is used only if its indices and plan equal what the trainer then asks for
 * (otherwise it is assembled on the spot), so a wrong guess costs time, never correctness.
 */
import { Rng } from "../engine/random.js";
import type { FrameDataset } from "../data/frame-dataset.js";
import { assembleFrameBatch, planFrameBatch, CIFAR10_NORMALIZATION, CIFAR100_NORMALIZATION, FASHION_MNIST_NORMALIZATION, type FrameAugment } from "../data/transforms.js";
import { assembleEventBatch, dominantLabels, planEventBatch, type EventAugment } from "../data/event-augment.js";
import { EventFrameLoader, FrameLoader, type PendingBatch } from "../data/loader.js";

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
  /**
   * The samples at `indices`, augmented from `rng` when given. `step`: the trainer's global step (epoch ·
   * stepsPerEpoch + step in epoch), which lets a worker-backed split prefetch the batches that follow it.
   */
  batch(indices: ArrayLike<number>, rng: Rng | null, step?: number): Batch;
  /** Stops the split's worker threads, if it has any (they also stop by themselves once idle). */
  close?(): Promise<void>;
  /** Worker-backed splits: batches taken from the prefetch queue vs assembled when asked (a wrong or no guess). */
  stats?(): { prefetched: number; onDemand: number };
}

export interface Augmentation {
  cropPad: number;
  flip: boolean;
  cutout: number;
  /** Event frames: random translation by up to this many pixels, wrapping around (0 = off). */
  roll?: number;
  /** Event frames: probability of pasting a box of another sample of the batch (0 = off). */
  mix?: number;
}

/** Per-channel mean/std of the known datasets (src/data's constants; MNIST's the usual 0.1307/0.3081). */
export const NORMALISATION: Record<string, { mean: number[]; std: number[] }> = {
  "fashion-mnist": FASHION_MNIST_NORMALIZATION,
  mnist: { mean: [0.1307], std: [0.3081] },
  cifar10: CIFAR10_NORMALIZATION,
  cifar100: CIFAR100_NORMALIZATION,
};

/**
 * The order in which the trainer will ask for batches (global step s = epoch · stepsPerEpoch + step in epoch),
 * so a split can prefetch. `permutation(epoch)` must be the trainer's (epochPermutation).
 */
export interface BatchSchedule {
  count: number;
  batchSize: number;
  stepsPerEpoch: number;
  epochs: number;
  permutation: (epoch: number) => Int32Array;
}

export interface LoaderSettings {
  /** Worker threads assembling training batches (0: on the trainer's thread, no prefetching). */
  workers?: number;
  /** Batches assembled ahead of the trainer (with workers > 0 and a schedule). */
  prefetch?: number;
  schedule?: BatchSchedule;
}

export function frameSplit(
  ds: FrameDataset,
  opts: { normalise?: { mean: number[]; std: number[] } | null; augment?: Augmentation | null } & LoaderSettings = {},
): SplitSource {
  const { channels: C, height: H, width: W } = ds;
  const norm = opts.normalise ?? { mean: [0], std: [1] };
  const a = opts.augment ?? null;
  const aug: FrameAugment | undefined = a
    ? { ...(a.cropPad > 0 ? { crop: { padding: a.cropPad } } : {}), ...(a.flip ? { hflip: 0.5 } : {}), ...(a.cutout > 0 ? { cutout: { size: a.cutout } } : {}) }
    : undefined;
  if ((opts.workers ?? 0) > 0) {
    const loader = new FrameLoader(ds, { batchSize: opts.schedule?.batchSize ?? 1, workers: opts.workers, normalize: norm, ...(aug ? { augment: aug } : {}) });
    return loaderSplit(loader, false, opts);
  }
  const mean = Float32Array.from({ length: C }, (_, c) => norm.mean[c] ?? norm.mean[0]!);
  const invStd = Float32Array.from({ length: C }, (_, c) => 1 / (norm.std[c] ?? norm.std[0]!));
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

/** src/data's event augmentation for the config's settings (undefined: none, and no RNG draws). */
export function eventAugment(a: Augmentation | null | undefined): EventAugment | undefined {
  if (!a || (!a.flip && !a.roll && !a.mix)) return undefined;
  return { ...(a.flip ? { hflip: 0.5 } : {}), ...(a.roll ? { translate: { max: a.roll, mode: "roll" as const } } : {}), ...(a.mix ? { mix: { prob: a.mix, beta: 1 } } : {}) };
}

/**
 * An event-frame dataset (float32 [N, T, 2, H, W], src/data's EventFrameDataset) as a temporal split. Mixed
 * samples take the label covering the larger part of the frame, since the trainer's losses take one class index
 * per sample.
 */
export function eventSplit(
  ds: { frames: Float32Array; labels: Int32Array; count: number; T: number; height: number; width: number; name?: string; classes?: string[]; source?: string },
  opts: { augment?: Augmentation | null } & LoaderSettings = {},
): SplitSource {
  const aug = eventAugment(opts.augment);
  const { T, height: H, width: W } = ds;
  if ((opts.workers ?? 0) > 0) {
    const full = { ...ds, name: ds.name ?? "events", classes: ds.classes ?? [], source: ds.source ?? "" };
    const loader = new EventFrameLoader(full, { batchSize: opts.schedule?.batchSize ?? 1, workers: opts.workers, layout: "sample-major", ...(aug ? { augment: aug } : {}) });
    return loaderSplit(loader, true, opts);
  }
  const per = T * 2 * H * W;
  return {
    count: ds.count,
    temporal: true,
    batch(indices, rng) {
      const idx = Int32Array.from(indices);
      const x = new Float32Array(idx.length * per);
      const plan = rng ? planEventBatch(aug, idx.length, H, W, rng) : null;
      assembleEventBatch(ds.frames, T, H, W, idx, plan, x, false);
      const labels = dominantLabels(plan, Int32Array.from(idx, (i) => ds.labels[i]!), H, W);
      return { x, shape: [idx.length, T, 2, H, W], labels };
    },
  };
}

/** How long a loader split's workers may sit unused before they are stopped (the trainer's loop never idles). */
const IDLE_MS = 2000;

/** A split whose batches come from a worker-thread loader, prefetched along the trainer's schedule. */
function loaderSplit(loader: FrameLoader | EventFrameLoader, temporal: boolean, opts: LoaderSettings): SplitSource {
  const H = loader.ds.height;
  const W = loader.ds.width;
  const prefetch = Math.max(1, opts.prefetch ?? 2);
  const schedule = opts.schedule ? new ScheduleSteps(opts.schedule) : null;
  /** Batches started ahead, by global step. */
  const ahead = new Map<number, PendingBatch>();
  let idle: NodeJS.Timeout | null = null;
  const stats = { prefetched: 0, onDemand: 0 };
  const stop = async (): Promise<void> => {
    for (const p of ahead.values()) loader.cancel(p);
    ahead.clear();
    await loader.close();
  };
  const toBatch = (b: { x: Float32Array; shape: number[]; labels: Int32Array }, plan: Int32Array | null): Batch => ({
    x: b.x, shape: b.shape, labels: temporal ? dominantLabels(plan, b.labels, H, W) : b.labels,
  });
  return {
    count: loader.count,
    temporal,
    batch(indices, rng, globalStep) {
      if (idle) clearTimeout(idle);
      const idx = Int32Array.from(indices);
      // the plan comes first, from the trainer's RNG, exactly as on the single-threaded path
      const plan = rng ? loader.planBatch(idx.length, rng) : null;
      // prefetching follows the schedule only for the trainer's own batches
      const step = rng && schedule && globalStep !== undefined && sameInts(schedule.indicesAt(globalStep), idx) ? globalStep : null;
      let batch: Batch | null = null;
      if (step !== null) {
        const p = ahead.get(step);
        ahead.delete(step);
        if (p && sameInts(p.indices, idx) && sameInts(p.plan, plan)) {
          batch = toBatch(loader.finishSync(p), plan);
          stats.prefetched++;
        } else if (p) loader.cancel(p);
        for (const [s, q] of ahead) {
          if (s > step) continue;
          loader.cancel(q);
          ahead.delete(s);
        }
      }
      if (!batch) {
        batch = toBatch(loader.assembleNow(idx, plan), plan);
        stats.onDemand++;
      }
      if (step !== null && rng) {
        // replay the next plans on a copy of the RNG: the trainer's own draws will be the same
        const replay = new Rng();
        replay.setState(rng.getState());
        for (let s = step + 1; s <= step + prefetch; s++) {
          const next = schedule!.indicesAt(s);
          if (!next) break;
          const nextPlan = loader.planBatch(next.length, replay);
          if (!ahead.has(s)) ahead.set(s, loader.start(next.slice(), nextPlan));
        }
        // the last step of the run: nothing more will be asked for
        if (step + 1 >= schedule!.totalSteps) void stop();
      }
      idle = setTimeout(() => void stop(), IDLE_MS);
      idle.unref();
      return batch;
    },
    close: stop,
    stats: () => ({ ...stats }),
  };
}

function sameInts(a: Int32Array | null, b: Int32Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The sample indices of each global step of the trainer's schedule (the last two epochs' permutations cached). */
class ScheduleSteps {
  readonly totalSteps: number;
  private perms = new Map<number, Int32Array>();

  constructor(private readonly s: BatchSchedule) {
    this.totalSteps = s.epochs * s.stepsPerEpoch;
  }

  private perm(epoch: number): Int32Array {
    let p = this.perms.get(epoch);
    if (!p) {
      p = this.s.permutation(epoch);
      if (this.perms.size >= 2) this.perms.delete(this.perms.keys().next().value!);
      this.perms.set(epoch, p);
    }
    return p;
  }

  /** The sample indices of a global step (null outside the run). */
  indicesAt(step: number): Int32Array | null {
    if (step < 0 || step >= this.totalSteps) return null;
    const epoch = Math.floor(step / this.s.stepsPerEpoch);
    const lo = (step - epoch * this.s.stepsPerEpoch) * this.s.batchSize;
    return this.perm(epoch).subarray(lo, Math.min(lo + this.s.batchSize, this.s.count));
  }
}
