// Event emulation of a whole image set on worker threads: the same frames as on the calling thread, bit for bit.
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { emulateFrames, emulateImageFrames } from "../../src/data/emulate-frames.js";
import { loadBundledFashionMnist } from "../../src/data/bundled.js";

// the tests run the TypeScript sources; workers need the compiled script, which `npm test` builds first
const workerScript = fileURLToPath(new URL("../../dist/src/data/emulate-worker.js", import.meta.url));

describe("emulateFrames", () => {
  const ds = loadBundledFashionMnist("train");
  const n = 24;

  it("on this thread: image i's frames are emulateEvents with seed + i, integrated", async () => {
    const r = await emulateFrames(ds.images, n, ds.width, ds.height, 4, 11, { workers: 0 });
    expect([r.H, r.W]).toEqual([34, 34]);
    expect(r.frames.length).toBe(n * 4 * 2 * 34 * 34);
    const one = emulateImageFrames(ds.images, ds.width, ds.height, 7, 4, 11).data;
    expect(Array.from(r.frames.subarray(7 * one.length, 8 * one.length))).toEqual(Array.from(one));
    expect(one.some((v) => v > 0)).toBe(true);
    expect((await emulateFrames(ds.images, 0, ds.width, ds.height, 4, 11)).frames.length).toBe(0);
  });

  it.skipIf(!existsSync(workerScript))("on worker threads: the same frames, progress reaches the total", async () => {
    const here = await emulateFrames(ds.images, n, ds.width, ds.height, 4, 11, { workers: 0 });
    const seen: number[] = [];
    const there = await emulateFrames(ds.images, n, ds.width, ds.height, 4, 11, { workers: 3, workerScript, onProgress: (d) => seen.push(d) });
    expect(Array.from(there.frames)).toEqual(Array.from(here.frames));
    expect(seen[seen.length - 1]).toBe(n);
    await expect(emulateFrames(ds.images, n, ds.width, ds.height, 4, 11, { workers: 2, workerScript: fileURLToPath(new URL("./no-such-worker.js", import.meta.url)) }))
      .resolves.toMatchObject({ H: 34, W: 34 });
  });
});
