/**
 * Data as the inference side sees it: the trainer's `SplitSource` (a source of batches addressed by sample
 * indices; src/train/data.ts) or a plain list of batches. Static images are [B, C, H, W]; event frames are
 * [B, T, C, H, W] (`temporal`).
 */
import type { Batch, SplitSource } from "../train/data.js";

export type { Batch, SplitSource };

/** A split source, or ready batches (all static or all temporal). */
export type InferenceData = SplitSource | readonly Batch[];

export function isSplitSource(d: InferenceData): d is SplitSource {
  return !Array.isArray(d) && typeof (d as SplitSource).batch === "function";
}

/** Iterates the batches of `data` (at most `limit` samples, `batchSize` per batch for a split source). */
export function* batchesOf(data: InferenceData, batchSize: number, limit?: number): Generator<Batch & { temporal: boolean }> {
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (isSplitSource(data)) {
    const n = Math.min(limit ?? data.count, data.count);
    for (let s = 0; s < n; s += batchSize) {
      const idx = new Int32Array(Math.min(batchSize, n - s));
      for (let i = 0; i < idx.length; i++) idx[i] = s + i;
      yield { ...data.batch(idx, null), temporal: data.temporal };
    }
    return;
  }
  let left = limit ?? Infinity;
  for (const b of data as readonly Batch[]) {
    if (left <= 0) return;
    const B = b.labels.length;
    const temporal = b.shape.length === 5;
    if (b.shape[0] !== B) throw new RangeError(`batch of shape [${b.shape.join(", ")}] has ${B} labels`);
    if (B <= left) {
      yield { ...b, temporal };
      left -= B;
    } else {
      const per = b.x.length / B;
      yield { x: b.x.subarray(0, left * per), shape: [left, ...b.shape.slice(1)], labels: b.labels.subarray(0, left), temporal };
      left = 0;
    }
  }
}

/** Number of samples `batchesOf` will yield. */
export function countOf(data: InferenceData, limit?: number): number {
  const n = isSplitSource(data) ? data.count : (data as readonly Batch[]).reduce((a, b) => a + b.labels.length, 0);
  return Math.min(n, limit ?? n);
}

/** Frame t of an event batch [B, T, C, H, W] for the given rows → [rows, C, H, W] (copy). */
export function frameAt(x: Float32Array, shape: readonly number[], t: number, rows?: Int32Array): Float32Array {
  const B = shape[0]!;
  const Tf = shape[1]!;
  const per = x.length / (B * Tf);
  const r = rows ?? Int32Array.from({ length: B }, (_, i) => i);
  const out = new Float32Array(r.length * per);
  for (let i = 0; i < r.length; i++) {
    const o = (r[i]! * Tf + t) * per;
    out.set(x.subarray(o, o + per), i * per);
  }
  return out;
}
