import { describe, expect, it } from "vitest";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeStream, integrateEvents, integrateCached, sumFrames, encodeFrames, decodeFrames, writeNmnist, readNmnist, frameCacheKey } from "../../src/data/index.js";
import { randomStream, tmp } from "./helpers.js";

function stream(ts: number[], xs?: number[], ps?: number[]) {
  const s = makeStream(ts.length, 4, 4, { format: "npy" });
  s.t.set(ts);
  if (xs) s.x.set(xs);
  if (ps) s.p.set(ps);
  return s;
}

const total = (d: Float32Array) => d.reduce((a, b) => a + b, 0);
const frameSums = (d: Float32Array, T: number) => Array.from({ length: T }, (_, k) => total(d.subarray(k * d.length / T, (k + 1) * d.length / T)));

describe("equal-time integration (reference convention, spec §8.2)", () => {
  it("bins k·D/T ≤ t_rel < (k+1)·D/T and drops the final event", () => {
    // t_rel = 0, 10, 20, ..., 100 ; D = 100, T = 5: bins [0,20), [20,40), ... ; t_rel = 100 is dropped
    const f = integrateEvents(stream([1000, 1010, 1020, 1030, 1040, 1050, 1060, 1070, 1080, 1090, 1100]), { T: 5 });
    expect(f.shape).toEqual([5, 2, 4, 4]);
    expect(frameSums(f.data, 5)).toEqual([2, 2, 2, 2, 2]);
  });

  it("puts polarity 0 in channel 0 and polarity 1 in channel 1, pixel y·W + x", () => {
    const s = stream([0, 5, 10], [1, 2, 3], [0, 1, 1]);
    s.y.set([2, 3, 0]);
    const f = integrateEvents(s, { T: 1 });
    expect(f.data[0 * 16 + 2 * 4 + 1]).toBe(1);
    expect(f.data[1 * 16 + 3 * 4 + 2]).toBe(1);
    expect(total(f.data)).toBe(2); // the last event (t_rel = D) is dropped
  });

  it("applies the window strictly on both sides, relative to the first event", () => {
    // t_rel: 0, 100, 200, 300, 400 with window (0, 400): keeps 100, 200, 300 -> re-based 0, 100, 200; D = 200
    const f = integrateEvents(stream([50, 150, 250, 350, 450]), { T: 2, window: [0, 400] });
    expect(frameSums(f.data, 2)).toEqual([1, 1]);
    expect(total(integrateEvents(stream([50, 150]), { T: 2, window: [0, 100] }).data)).toBe(0);
  });

  it("counts are not clipped, empty and instantaneous streams give empty frames", () => {
    const f = integrateEvents(stream([0, 1, 1, 1, 2], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]), { T: 1 });
    expect(f.data[16]).toBe(4);
    expect(total(integrateEvents(stream([]), { T: 3 }).data)).toBe(0);
    expect(total(integrateEvents(stream([7, 7, 7]), { T: 3 }).data)).toBe(0);
    expect(() => integrateEvents(stream([1]), { T: 0 })).toThrow(/T must be a positive integer/);
  });
});

describe("equal-count integration", () => {
  it("gives ⌊N/T⌋ events per frame and the remainder to the last one, keeping every event", () => {
    const f = integrateEvents(stream([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), { T: 3, mode: "count" });
    expect(frameSums(f.data, 3)).toEqual([3, 3, 5]);
  });
});

describe("downsampling and the frame cache", () => {
  it("sums counts into the coarser grid (128 -> 48)", () => {
    const s = randomStream(20000, 128, 128);
    const full = integrateEvents(s, { T: 4, mode: "count" });
    const small = integrateEvents(s, { T: 4, mode: "count", outWidth: 48, outHeight: 48 });
    expect(small.shape).toEqual([4, 2, 48, 48]);
    expect(total(small.data)).toBe(total(full.data));
    const one = makeStream(2, 128, 128, { format: "npy" });
    one.x.set([127, 0]);
    one.y.set([127, 0]);
    one.t.set([0, 1]);
    const d = integrateEvents(one, { T: 1, mode: "count", outWidth: 48, outHeight: 48 });
    expect(d.data[47 * 48 + 47]).toBe(1);
    expect(sumFrames(full).shape).toEqual([1, 2, 128, 128]);
  });

  it("writes atomically, reuses and recomputes corrupt entries", () => {
    const d = tmp();
    const src = join(d, "rec.bin");
    writeNmnist(src, randomStream(3000, 34, 34));
    const cache = join(d, "cache");
    let loads = 0;
    const load = () => (loads++, readNmnist(src));
    const a = integrateCached(cache, src, load, { T: 5 });
    const b = integrateCached(cache, src, load, { T: 5 });
    expect(loads).toBe(1);
    expect(b.data).toEqual(a.data);
    const files = readdirSync(cache);
    expect(files).toEqual([`${frameCacheKey(src, { T: 5 }, {})}.frames`]); // no temp files left behind
    writeFileSync(join(cache, files[0]!), new Uint8Array(30)); // a corrupt entry
    const c = integrateCached(cache, src, load, { T: 5 });
    expect(loads).toBe(2);
    expect(c.data).toEqual(a.data);
    expect(() => decodeFrames(encodeFrames(a).subarray(0, 100), "z.frames")).toThrow(/z\.frames: truncated frame cache/);
  });
});
