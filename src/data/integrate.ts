/**
 * Event-to-frame integration into T frames with 2 polarity channels ([T, 2, H, W] float counts;
 * channel 0 = OFF (p = 0), channel 1 = ON (p = 1); pixel index y·W + x; counts are not clipped).
 *
 * "time" (the reference convention, spec §8.2):
 *   t_rel = t − t_first_event; keep t_start < t_rel < t_end (strict both sides) when a window is given;
 *   t_rel ← t_rel − first kept t_rel; D = last kept t_rel;
 *   frame k collects k·D/T ≤ t_rel < (k+1)·D/T — so the final event (t_rel = D) is dropped.
 * "count" (SpikingJelly's split_by='number'): each frame takes ⌊N/T⌋ consecutive events, the last frame
 *   also takes the remainder.
 * Optional spatial downsampling sums counts into a coarser grid: x' = ⌊x·W'/W⌋, y' = ⌊y·H'/H⌋.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./fsutil.js";
import { DataFormatError } from "./errors.js";
import type { EventStream } from "./events/types.js";

export type SplitMode = "time" | "count";

export interface IntegrateOptions {
  T: number;
  mode?: SplitMode;
  /** Window relative to the first event, µs, strict on both sides (time mode only), e.g. [0, 1.3e6]. */
  window?: [number, number];
  /** Output size (downsampling), default the sensor size. */
  outWidth?: number;
  outHeight?: number;
}

export interface Frames {
  data: Float32Array;
  /** [T, 2, H, W] */
  shape: [number, number, number, number];
}

export function integrateEvents(s: EventStream, opts: IntegrateOptions): Frames {
  const T = opts.T;
  if (!Number.isInteger(T) || T < 1) throw new Error(`integrateEvents: T must be a positive integer, got ${T}`);
  const W = s.width;
  const H = s.height;
  const OW = opts.outWidth ?? W;
  const OH = opts.outHeight ?? H;
  const plane = OW * OH;
  const out = new Float32Array(T * 2 * plane);
  const n = s.t.length;
  const frames: Frames = { data: out, shape: [T, 2, OH, OW] };
  if (n === 0) return frames;
  const scaleX = OW / W;
  const scaleY = OH / H;
  const same = OW === W && OH === H;
  const xs = s.x;
  const ys = s.y;
  const ps = s.p;
  const add = (k: number, i: number) => {
    const x = same ? xs[i]! : Math.floor(xs[i]! * scaleX);
    const y = same ? ys[i]! : Math.floor(ys[i]! * scaleY);
    if (x >= OW || y >= OH) return;
    out[(k * 2 + (ps[i]! ? 1 : 0)) * plane + y * OW + x]! += 1;
  };
  if ((opts.mode ?? "time") === "count") {
    const di = Math.floor(n / T);
    for (let k = 0; k < T; k++) {
      const a = k * di;
      const b = k === T - 1 ? n : a + di;
      for (let i = a; i < b; i++) add(k, i);
    }
    return frames;
  }
  const t = s.t;
  const t0 = t[0]!;
  let a = 0;
  let b = n; // kept range [a, b)
  if (opts.window) {
    const [ws, we] = opts.window;
    while (a < n && !(t[a]! - t0 > ws)) a++;
    b = a;
    while (b < n && t[b]! - t0 < we) b++;
    if (a >= b) return frames;
  }
  const first = t[a]!;
  const D = t[b - 1]! - first;
  if (!(D > 0)) return frames;
  for (let i = a; i < b; i++) {
    const r = t[i]! - first;
    // k·D/T ≤ r < (k+1)·D/T; r = D falls outside every frame and is dropped
    let k = Math.floor((r * T) / D);
    if (k >= T) continue;
    // guard against rounding at the boundaries
    if (r < (k * D) / T) k--;
    else if (r >= ((k + 1) * D) / T) k++;
    if (k < 0 || k >= T) continue;
    add(k, i);
  }
  return frames;
}

/** Sum over time: a single [2, H, W] frame (e.g. CIFAR10-DVS "-1" variant used for ANN training). */
export function sumFrames(f: Frames): Frames {
  const [T, C, H, W] = f.shape;
  const out = new Float32Array(C * H * W);
  for (let t = 0; t < T; t++) for (let i = 0; i < out.length; i++) out[i]! += f.data[t * out.length + i]!;
  return { data: out, shape: [1, C, H, W] };
}

// ---- disk cache of integrated frames ------------------------------------------------------------------

const CACHE_MAGIC = "SCFRAMES";

/** Key for a cached integration: the source file's identity (path, size, mtime) plus the options. */
export function frameCacheKey(sourcePath: string, opts: IntegrateOptions, extra: Record<string, unknown> = {}): string {
  const st = statSync(sourcePath);
  return createHash("sha256")
    .update(JSON.stringify({ v: 1, sourcePath, size: st.size, mtime: st.mtimeMs, opts, extra }))
    .digest("hex")
    .slice(0, 32);
}

export function encodeFrames(f: Frames): Uint8Array {
  const [head, body] = encodeFramesParts(f);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/** The same bytes as encodeFrames, as [header, a view of the frames], so a large cache file is written without a copy. */
export function encodeFramesParts(f: Frames): [Uint8Array, Uint8Array] {
  const head = new Uint8Array(8 + 16);
  head.set(Buffer.from(CACHE_MAGIC, "latin1"), 0);
  const dv = new DataView(head.buffer);
  f.shape.forEach((d, i) => dv.setUint32(8 + 4 * i, d, true));
  return [head, new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength)];
}

export function decodeFrames(bytes: Uint8Array, name = "<frames>"): Frames {
  if (bytes.length < 24 || Buffer.from(bytes.subarray(0, 8)).toString("latin1") !== CACHE_MAGIC) throw new DataFormatError(name, "not a spikecut frame cache file (wrong magic)");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = [0, 1, 2, 3].map((i) => dv.getUint32(8 + 4 * i, true)) as [number, number, number, number];
  const n = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== 24 + 4 * n) throw new DataFormatError(name, `truncated frame cache: shape [${shape.join(", ")}] needs ${24 + 4 * n} bytes, file has ${bytes.length}`);
  const data = new Float32Array(n);
  new Uint8Array(data.buffer).set(bytes.subarray(24));
  return { data, shape };
}

/**
 * Reads a frame cache file straight into its (optionally shared) array, in chunks: a whole-dataset file can exceed
 * the 2 GiB a single read (readFileSync) can return.
 */
export function readFramesFile(path: string, opts: { shared?: boolean } = {}): Frames {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(24);
    if (readSync(fd, head, 0, 24, 0) !== 24 || Buffer.from(head.subarray(0, 8)).toString("latin1") !== CACHE_MAGIC) {
      throw new DataFormatError(path, "not a spikecut frame cache file (wrong magic)");
    }
    const dv = new DataView(head.buffer);
    const shape = [0, 1, 2, 3].map((i) => dv.getUint32(8 + 4 * i, true)) as [number, number, number, number];
    const n = shape.reduce((a, b) => a * b, 1);
    if (size !== 24 + 4 * n) throw new DataFormatError(path, `truncated frame cache: shape [${shape.join(", ")}] needs ${24 + 4 * n} bytes, file has ${size}`);
    const data = opts.shared ? new Float32Array(new SharedArrayBuffer(4 * n)) : new Float32Array(n);
    const bytes = new Uint8Array(data.buffer);
    for (let off = 0; off < bytes.length; ) {
      const got = readSync(fd, bytes, off, Math.min(1 << 28, bytes.length - off), 24 + off);
      if (got <= 0) throw new DataFormatError(path, `truncated frame cache: read stopped at byte ${24 + off} of ${size}`);
      off += got;
    }
    return { data, shape };
  } finally {
    closeSync(fd);
  }
}

/**
 * Integrates with a disk cache: `<cacheDir>/<key>.frames`. Writes are atomic (temp file + rename), so an
 * interrupted run never leaves a partial cache file; a corrupt cache file is recomputed.
 */
export function integrateCached(cacheDir: string, sourcePath: string, load: () => EventStream, opts: IntegrateOptions, extra: Record<string, unknown> = {}): Frames {
  const file = join(cacheDir, `${frameCacheKey(sourcePath, opts, extra)}.frames`);
  if (existsSync(file)) {
    try {
      const b = readFileSync(file);
      return decodeFrames(new Uint8Array(b.buffer, b.byteOffset, b.length), file);
    } catch {
      /* recompute below */
    }
  }
  const f = integrateEvents(load(), opts);
  mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(file, encodeFrames(f));
  return f;
}
