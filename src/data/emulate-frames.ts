/**
 * Emulated events integrated into frames for a whole image set, on worker threads: each image's events depend only
 * on the image and its seed (seed + index), so any split of the work gives the same frames, bit for bit. The
 * emulator is plain TypeScript and costs ~9 ms per 28×28 image here, which made emulation most of a first
 * event-data run (29 s of 48 on 2048 bundled images); the workers write their images' frames straight into one
 * SharedArrayBuffer. Workers run the compiled `emulate-worker.js` next to this file; where it does not exist (the
 * sources run through a TypeScript loader, as in the tests) or `workers` is 0, the images run on this thread.
 */
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { emulateEvents } from "./emulate.js";
import { integrateEvents } from "./integrate.js";
import { allocSharedFloat32 } from "./loader.js";

export interface EmulateFramesOptions {
  /** Worker threads (default: one per CPU, at most 8; 0 = this thread). */
  workers?: number;
  /** The worker script (default: the compiled emulate-worker.js beside this module). */
  workerScript?: string;
  /** Called with (images done, total) as work completes. */
  onProgress?: (done: number, total: number) => void;
}

/** What a worker is given (emulate-worker.ts). */
export interface EmulateWorkerData {
  images: SharedArrayBuffer;
  width: number;
  height: number;
  T: number;
  seed: number;
  frames: SharedArrayBuffer;
  frameLen: number;
  start: number;
  end: number;
  /** Int32Array over a SharedArrayBuffer: [images done]. */
  done: SharedArrayBuffer;
}

/** Frames of image i: emulateEvents with seed + i, integrated into T frames ([T, 2, H, W]). */
export function emulateImageFrames(images: Uint8Array, width: number, height: number, i: number, T: number, seed: number): { data: Float32Array; shape: number[] } {
  const size = width * height;
  const ev = emulateEvents(images.subarray(i * size, (i + 1) * size), width, height, { seed: seed + i });
  return integrateEvents(ev, { T });
}

const defaultScript = (): string => fileURLToPath(new URL("./emulate-worker.js", import.meta.url));

/**
 * Frames of `count` grey images (uint8 [count, height, width]) as one shared Float32Array [count·T, 2, H, W], and
 * the sensor size H × W.
 */
export async function emulateFrames(images: Uint8Array, count: number, width: number, height: number, T: number, seed: number,
                                    opts: EmulateFramesOptions = {}): Promise<{ frames: Float32Array; H: number; W: number }> {
  if (count === 0) return { frames: new Float32Array(0), H: 0, W: 0 };
  // the first image on this thread: it fixes the frame size the shared buffer is made for
  const first = emulateImageFrames(images, width, height, 0, T, seed);
  const [, , H, W] = first.shape as [number, number, number, number];
  const frameLen = first.data.length;
  const frames = allocSharedFloat32(count * frameLen);
  frames.set(first.data, 0);
  opts.onProgress?.(1, count);
  const script = opts.workerScript ?? defaultScript();
  const workers = Math.min(opts.workers ?? Math.min(cpus().length, 8), count - 1);
  if (workers <= 0 || !existsSync(script)) {
    for (let i = 1; i < count; i++) {
      frames.set(emulateImageFrames(images, width, height, i, T, seed).data, i * frameLen);
      opts.onProgress?.(i + 1, count);
    }
    return { frames, H, W };
  }
  const shared = new Uint8Array(new SharedArrayBuffer(count * width * height));
  shared.set(images.subarray(0, count * width * height));
  const done = new Int32Array(new SharedArrayBuffer(4));
  const per = Math.ceil((count - 1) / workers);
  const runs: Promise<void>[] = [];
  for (let k = 0; k < workers; k++) {
    const start = 1 + k * per;
    const end = Math.min(count, start + per);
    if (start >= end) break;
    const workerData: EmulateWorkerData = {
      images: shared.buffer as SharedArrayBuffer, width, height, T, seed, frames: frames.buffer as SharedArrayBuffer, frameLen, start, end,
      done: done.buffer as SharedArrayBuffer,
    };
    runs.push(new Promise<void>((resolve, reject) => {
      const w = new Worker(script, { workerData });
      w.on("error", (e) => reject(new Error(`event emulation worker (images ${start}-${end - 1}) failed: ${e.message}`)));
      w.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`event emulation worker (images ${start}-${end - 1}) exited with code ${code}`))));
    }));
  }
  const timer = opts.onProgress ? setInterval(() => opts.onProgress!(1 + Atomics.load(done, 0), count), 200) : null;
  try {
    await Promise.all(runs);
  } finally {
    if (timer) clearInterval(timer);
  }
  opts.onProgress?.(count, count);
  return { frames, H, W };
}
