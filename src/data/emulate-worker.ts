/** Worker thread of emulate-frames.ts: emulates and integrates images [start, end) into the shared frames. */
import { workerData } from "node:worker_threads";
import { emulateImageFrames, type EmulateWorkerData } from "./emulate-frames.js";

const d = workerData as EmulateWorkerData;
const images = new Uint8Array(d.images);
const frames = new Float32Array(d.frames);
const done = new Int32Array(d.done);
for (let i = d.start; i < d.end; i++) {
  const f = emulateImageFrames(images, d.width, d.height, i, d.T, d.seed);
  if (f.data.length !== d.frameLen) throw new Error(`image ${i} integrated to ${f.data.length} values, the first image to ${d.frameLen}`);
  frames.set(f.data, i * d.frameLen);
  Atomics.add(done, 0, 1);
}
