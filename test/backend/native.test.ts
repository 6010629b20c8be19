// Every native kernel against the TypeScript reference (relative error < 1e-4), for the oneDNN build and the
// fallback build (own GEMM/conv kernels, built here into build-fallback/ when missing or stale).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Backend, Conv2dParams, NeuronParams, Pool2dParams } from "../../src/engine/backend.js";
import { jsBackend as js } from "../../src/engine/js/backend.js";
import { loadAddon, loadNativeBackend } from "../../src/engine/native/index.js";
import { Rng } from "../../src/engine/random.js";
import { makeTempDir } from "../helpers/tmp.js";

const root = resolve(import.meta.dirname, "../..");
const builds = [
  { name: "default build", dir: root, args: [] as string[] },
  { name: "fallback build", dir: join(root, "build-fallback"), args: ["--fallback"] },
];
const addonPath = (dir: string): string => join(dir, "build", "Release", "spikecut.node");

function newestSource(): number {
  const dir = join(root, "native");
  return Math.max(statSync(join(root, "binding.gyp")).mtimeMs, ...readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs));
}
const haveCompiler = spawnSync("g++", ["--version"]).status === 0;

/**
 * Builds the addon into dir when missing or older than its sources. Asynchronously: compiling takes a minute or more
 * on a loaded machine, and a worker whose event loop is blocked that long fails the whole run with vitest's
 * "Timeout calling onTaskUpdate" (it happened once the fallback build went stale with every native change).
 */
async function ensureBuilt(dir: string, args: string[]): Promise<void> {
  const p = addonPath(dir);
  if (existsSync(p) && statSync(p).mtimeMs >= newestSource()) return;
  if (!haveCompiler) return;
  await new Promise<void>((done, fail) => {
    const child = spawn(process.execPath, [join(root, "scripts", "build-native.mjs"), ...args], { cwd: root, stdio: "inherit" });
    child.on("error", fail);
    child.on("exit", () => done());
  });
}

const rng = new Rng(1234);
function rand(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}
/** plain [n, c, sp] -> blocked16 and back, with the reference reorder. */
function toB(a: Float32Array, n: number, c: number, sp: number): Float32Array {
  const o = new Float32Array(a.length);
  js.reorderBlocked16(a, o, n, c, sp, true);
  return o;
}
function toP(a: Float32Array, n: number, c: number, sp: number): Float32Array {
  const o = new Float32Array(a.length);
  js.reorderBlocked16(a, o, n, c, sp, false);
  return o;
}
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 1e-12;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Infinity;
    num = Math.max(num, d);
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}
const close = (a: ArrayLike<number>, b: ArrayLike<number>): void => expect(relErr(a, b)).toBeLessThan(1e-4);

function convP(n: number, c: number, h: number, w: number, k: number, kh: number, kw: number, sh: number, sw: number,
               ph: number, pw: number, groups = 1): Conv2dParams {
  return { n, c, h, w, k, kh, kw, strideH: sh, strideW: sw, padH: ph, padW: pw, groups,
    oh: Math.floor((h + 2 * ph - kh) / sh) + 1, ow: Math.floor((w + 2 * pw - kw) / sw) + 1 };
}
const convShapes: Conv2dParams[] = [
  convP(2, 3, 7, 9, 4, 3, 3, 1, 1, 1, 1),
  convP(3, 8, 10, 10, 6, 3, 3, 2, 2, 1, 1),
  convP(2, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 2),
  convP(2, 8, 9, 9, 8, 3, 3, 1, 1, 1, 1, 8),
  convP(2, 5, 6, 6, 7, 1, 1, 1, 1, 0, 0),
  convP(1, 3, 11, 13, 5, 5, 5, 2, 2, 2, 2),
  convP(1, 2, 9, 8, 3, 3, 2, 2, 1, 0, 1),
  convP(4, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1),
  // one input channel at stride 1: the direct NCHW first-layer kernels (3x3 fast path and generic taps)
  convP(3, 1, 9, 8, 5, 3, 2, 1, 1, 0, 1),
  convP(2, 1, 11, 7, 3, 5, 5, 1, 1, 2, 2),
  convP(2, 1, 6, 6, 4, 1, 1, 1, 1, 0, 0),
  convP(40, 1, 17, 13, 7, 3, 3, 1, 1, 1, 1),
  convP(2, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1),
  // batches of 16+ that are no multiple of 16 (anytime inference shrinks batches): with both activations blocked the
  // forward runs the multiple-of-16 head and the remainder in place (45 = 32 + 13, 37 = 32 + 5, 19 = 16 + 3);
  // otherwise on a primitive for the next multiple of 16: 45 then 37 share the padded primitive of 48, so the
  // second runs with stale rows in the padded buffer
  convP(45, 32, 7, 7, 16, 3, 3, 1, 1, 1, 1),
  convP(37, 32, 7, 7, 16, 3, 3, 1, 1, 1, 1),
  convP(19, 16, 5, 6, 32, 3, 3, 1, 1, 1, 1),
  convP(16, 16, 4, 4, 16, 3, 3, 1, 1, 1, 1),
  // stride 1 in the fallback build runs the direct convolution: wide rows (several vectors), an uneven kernel and
  // padding, output-channel counts that leave a partial block (8 channels on AVX-512, 4 otherwise) and row counts
  // that leave a partial block of 3 rows
  convP(2, 3, 5, 37, 6, 3, 3, 1, 1, 1, 1),
  convP(3, 6, 9, 11, 9, 3, 5, 1, 1, 2, 1),
  // input channels that leave a partial block of 3 in the 3x3 weight gradient, whose output channels are padded to
  // the vector width; padding wider than the kernel (the direct backward-data then crops, padding by k - 1 - pad < 0)
  convP(2, 5, 6, 7, 3, 3, 3, 1, 1, 0, 2),
  convP(2, 4, 6, 6, 5, 3, 3, 1, 1, 3, 3),
];
function poolP(n: number, c: number, h: number, w: number, k: number, s: number, pad: number, cip = true): Pool2dParams {
  return { n, c, h, w, kh: k, kw: k, strideH: s, strideW: s, padH: pad, padW: pad, countIncludePad: cip,
    oh: Math.floor((h + 2 * pad - k) / s) + 1, ow: Math.floor((w + 2 * pad - k) / s) + 1 };
}

for (const b of builds) {
  describe(`native kernels vs js: ${b.name}`, () => {
    let nb: Backend | null = null;
    let why = "";
    beforeAll(async () => {
      await ensureBuilt(b.dir, b.args);
      const r = loadNativeBackend(addonPath(b.dir));
      if ("error" in r) why = haveCompiler ? r.error : `no C++ compiler (g++) on this machine: ${r.error}`;
      else nb = r.backend;
    }, 900_000);
    const native = (): Backend => {
      if (!nb) throw new Error(`native ${b.name} unavailable: ${why}`);
      return nb;
    };
    const itN = haveCompiler ? it : it.skip;

    itN("loads and describes itself", () => {
      const d = native().description;
      expect(d).toMatch(/^native \(/);
      expect(d.includes("oneDNN")).toBe(b.args.length === 0 && existsSync("/usr/include/oneapi/dnnl/dnnl.hpp"));
    });

    itN("gemm: all transposes, odd sizes, alpha/beta", () => {
      for (const [M, N, K] of [[17, 33, 65], [1, 7, 300], [64, 1, 5], [130, 70, 257]] as const) {
        for (const ta of [false, true]) for (const tb of [false, true]) {
          const A = rand(M * K), B = rand(K * N), C0 = rand(M * N);
          for (const [alpha, beta] of [[1, 0], [0.5, 1], [2, -0.5]] as const) {
            const c1 = new Float32Array(C0), c2 = new Float32Array(C0);
            js.gemm(ta, tb, M, N, K, alpha, A, B, beta, c1);
            native().gemm(ta, tb, M, N, K, alpha, A, B, beta, c2);
            close(c2, c1);
          }
        }
      }
    });

    // Regression: dnnl_sgemm's JIT kernels (oneDNN <= 3.11, issue #4845) move rsp into a heap workspace, so a
    // signal arriving mid-kernel (V8's SIGPROF under --cpu-prof) wrote its frame into the heap and glibc aborted
    // ("corrupted size vs. prev_size"). A child process runs the linear-layer GEMMs of a training step while the
    // profiler interrupts it every 50 us, and must exit cleanly with correct results.
    itN("gemm and conv survive signals mid-kernel (node --cpu-prof)", () => {
      const script = `
        const a = require(${JSON.stringify(addonPath(b.dir))});
        const shapes = [[false,true,128,256,3136,1],[false,false,128,3136,256,0],[true,false,256,3136,128,0],
                        [true,false,10,256,128,0],[false,true,128,10,256,1]];
        const conv = { n: 16, c: 16, h: 14, w: 14, k: 16, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1,
                       groups: 1, oh: 14, ow: 14 };
        let bad = 0;
        for (let it = 0; it < 25; it++) {
          for (const [ta, tb, M, N, K, beta] of shapes) {
            const A = new Float32Array(M * K).fill(0.5), B = new Float32Array(K * N).fill(0.25);
            const C = new Float32Array(M * N).fill(1);
            a.gemm(ta, tb, M, N, K, 1, A, B, beta, C);
            const want = K * 0.125 + beta;
            if (Math.abs(C[M * N - 1] - want) > 1e-3 * want || Math.abs(C[0] - want) > 1e-3 * want) bad++;
          }
          const x = new Float32Array(16 * 16 * 196).fill(1), w = new Float32Array(16 * 16 * 9).fill(1);
          const y = new Float32Array(16 * 16 * 196);
          a.conv2dForward(x, w, null, y, conv);
          a.conv2dBackwardWeights(x, y, w, null, conv);
        }
        console.log(bad ? "wrong results: " + bad : "ok");`;
      const dir = makeTempDir("spikecut-prof-");
      const r = spawnSync(process.execPath, ["--cpu-prof", "--cpu-prof-interval", "50", "--cpu-prof-dir", dir, "-e", script],
        { encoding: "utf8", env: { ...process.env, SPIKECUT_THREADS: "1" }, timeout: 120_000 });
      expect(`${r.stdout}${r.stderr}`.trim()).toBe("ok");
      expect(r.status).toBe(0);
    });

    for (const p of convShapes) {
      itN(`conv2d fwd/bwd-data/bwd-weights ${p.n}x${p.c}x${p.h}x${p.w} k${p.k} ${p.kh}x${p.kw} s${p.strideH}/${p.strideW} p${p.padH}/${p.padW} g${p.groups}`, () => {
        const x = rand(p.n * p.c * p.h * p.w), w = rand(p.k * (p.c / p.groups) * p.kh * p.kw), bias = rand(p.k);
        const ys = p.n * p.k * p.oh * p.ow;
        for (const bb of [bias, null]) {
          const y1 = new Float32Array(ys), y2 = new Float32Array(ys).fill(NaN);
          js.conv2dForward(x, w, bb, y1, p);
          native().conv2dForward(x, w, bb, y2, p);
          close(y2, y1);
        }
        const dy = rand(ys);
        const dx1 = new Float32Array(x.length), dx2 = new Float32Array(x.length).fill(NaN);
        js.conv2dBackwardData(dy, w, dx1, p);
        native().conv2dBackwardData(dy, w, dx2, p);
        close(dx2, dx1);
        for (const withDb of [true, false]) {
          const dw1 = new Float32Array(w.length), dw2 = new Float32Array(w.length).fill(NaN);
          const db1 = new Float32Array(p.k), db2 = new Float32Array(p.k).fill(NaN);
          js.conv2dBackwardWeights(x, dy, dw1, withDb ? db1 : null, p);
          native().conv2dBackwardWeights(x, dy, dw2, withDb ? db2 : null, p);
          close(dw2, dw1);
          if (withDb) close(db2, db1);
        }
        // the fused backward (one blocked dy for both passes), every combination of wanted gradients
        for (const [wantDx, wantDw, wantDb] of [[true, true, true], [true, true, false], [true, false, false], [false, true, true], [false, true, false]]) {
          const dw1 = new Float32Array(w.length), db1 = new Float32Array(p.k);
          js.conv2dBackwardWeights(x, dy, dw1, db1, p);
          const dx3 = wantDx ? new Float32Array(x.length).fill(NaN) : null;
          const dw3 = wantDw ? new Float32Array(w.length).fill(NaN) : null;
          const db3 = wantDb ? new Float32Array(p.k).fill(NaN) : null;
          native().conv2dBackward(x, dy, w, dx3, dw3, db3, p);
          if (dx3) close(dx3, dx1);
          if (dw3) close(dw3, dw1);
          if (db3) close(db3, db1);
        }
      });
    }

    itN("reorderBlocked16 matches the reference both ways, odd spatial sizes included", () => {
      for (const [n, c, sp] of [[2, 16, 5], [3, 32, 49], [1, 48, 33], [5, 16, 196]] as const) {
        const x = rand(n * c * sp);
        const b1 = new Float32Array(x.length), b2 = new Float32Array(x.length).fill(NaN);
        js.reorderBlocked16(x, b1, n, c, sp, true);
        native().reorderBlocked16(x, b2, n, c, sp, true);
        expect(b2).toEqual(b1);
        const back = new Float32Array(x.length).fill(NaN);
        native().reorderBlocked16(b2, back, n, c, sp, false);
        expect(back).toEqual(x);
      }
      expect(() => native().reorderBlocked16(new Float32Array(24), new Float32Array(24), 1, 8, 3, true)).toThrow(/multiple of 16/);
    });

    // activations stored blocked16 (x / dx and y / dy flags), every valid combination, against the plain reference
    const blockedShapes = [
      convP(2, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1),
      convP(45, 32, 7, 7, 16, 3, 3, 1, 1, 1, 1),
      convP(19, 16, 5, 6, 32, 3, 3, 1, 1, 1, 1),
      convP(3, 16, 9, 9, 32, 3, 3, 2, 2, 1, 1),
      convP(2, 32, 6, 6, 16, 1, 1, 1, 1, 0, 0),
      convP(2, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 2),
      convP(4, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1),
      convP(3, 16, 7, 7, 5, 3, 3, 1, 1, 1, 1),
      // Winograd on the oneDNN build (3x3, stride 1, padding 1, both activations blocked, >= 12x12, >= 32 channels):
      // 48 channels (a pair of 16-wide output blocks and a single one) on a size that is no multiple of the tile,
      // 64 channels at 28x28, 32 -> 96 on one image
      convP(3, 48, 13, 15, 48, 3, 3, 1, 1, 1, 1),
      convP(2, 64, 28, 28, 64, 3, 3, 1, 1, 1, 1),
      convP(1, 32, 14, 12, 96, 3, 3, 1, 1, 1, 1),
    ];
    for (const p of blockedShapes) {
      itN(`conv2d with blocked16 activations ${p.n}x${p.c}x${p.h}x${p.w} k${p.k} ${p.kh}x${p.kw} s${p.strideH} g${p.groups}`, () => {
        const xs = p.n * p.c * p.h * p.w, ys = p.n * p.k * p.oh * p.ow, S = p.h * p.w, OS = p.oh * p.ow;
        const x = rand(xs), w = rand(p.k * (p.c / p.groups) * p.kh * p.kw), bias = rand(p.k), dy = rand(ys);
        const y1 = new Float32Array(ys), dx1 = new Float32Array(xs), dw1 = new Float32Array(w.length), db1 = new Float32Array(p.k);
        js.conv2dForward(x, w, bias, y1, p);
        js.conv2dBackward(x, dy, w, dx1, dw1, db1, p);
        for (const xBlocked of p.c % 16 === 0 ? [false, true] : [false]) {
          for (const yBlocked of p.k % 16 === 0 ? [false, true] : [false]) {
            if (!xBlocked && !yBlocked) continue;
            const q = { ...p, xBlocked, yBlocked };
            const xin = xBlocked ? toB(x, p.n, p.c, S) : x, dyin = yBlocked ? toB(dy, p.n, p.k, OS) : dy;
            for (const be of [native(), js]) {
              // y ends where its ArrayBuffer goes on: nothing may be written past it (the in-place head + tail run)
              const yMem = new Float32Array(ys + 64).fill(7), y = yMem.subarray(0, ys).fill(NaN);
              be.conv2dForward(xin, w, bias, y, q);
              close(yBlocked ? toP(y, p.n, p.k, OS) : y, y1);
              expect(yMem.subarray(ys).every((v) => v === 7)).toBe(true);
              const dx = new Float32Array(xs).fill(NaN), dw = new Float32Array(w.length).fill(NaN), db = new Float32Array(p.k).fill(NaN);
              be.conv2dBackward(xin, dyin, w, dx, dw, db, q);
              close(xBlocked ? toP(dx, p.n, p.c, S) : dx, dx1);
              close(dw, dw1);
              close(db, db1);
              const dx2 = new Float32Array(xs).fill(NaN), dw2 = new Float32Array(w.length).fill(NaN);
              be.conv2dBackwardData(dyin, w, dx2, q);
              be.conv2dBackwardWeights(xin, dyin, dw2, null, q);
              close(xBlocked ? toP(dx2, p.n, p.c, S) : dx2, dx1);
              close(dw2, dw1);
              const dw3 = new Float32Array(w.length).fill(NaN);
              be.conv2dBackward(xin, dyin, w, null, dw3, null, q);
              close(dw3, dw1);
            }
          }
        }
      });
    }

    itN("Winograd (opt-in) runs exactly where eligible, matches the reference with either tile, and switches off", () => {
      const addon = loadAddon(addonPath(b.dir));
      if ("error" in addon) throw new Error(addon.error);
      const a = addon.addon;
      const dnnl = a.info().dnnl;
      const before = a.info();
      a.setWinograd(true);
      const both = (p: Conv2dParams): Conv2dParams => ({ ...p, xBlocked: true, yBlocked: true });
      const eligible = both(convP(4, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1));
      expect(a.convAlgorithm(eligible)).toBe(dnnl ? "winograd" : "dense");
      // not eligible: plain activations, stride 2, padding 0, groups, 1x1, below 12x12, 16 channels, the first layer
      expect(a.convAlgorithm(convP(4, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1))).toBe("dense");
      expect(a.convAlgorithm(both(convP(4, 32, 14, 14, 32, 3, 3, 2, 2, 1, 1)))).toBe("dense");
      expect(a.convAlgorithm(both(convP(4, 32, 14, 14, 32, 3, 3, 1, 1, 0, 0)))).toBe("dense");
      expect(a.convAlgorithm(both(convP(4, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 2)))).toBe("dense");
      expect(a.convAlgorithm(both(convP(4, 32, 14, 14, 32, 1, 1, 1, 1, 0, 0)))).toBe("dense");
      expect(a.convAlgorithm(both(convP(4, 64, 7, 7, 64, 3, 3, 1, 1, 1, 1)))).toBe("dense");
      expect(a.convAlgorithm(both(convP(4, 16, 28, 28, 32, 3, 3, 1, 1, 1, 1)))).toBe("dense");
      expect(a.convAlgorithm({ ...convP(4, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1), yBlocked: true })).toBe("conv1");
      // against the plain reference and the dense kernels, both tile sizes, forward and both backward passes, on a
      // size that is no multiple of either tile
      const p = both(convP(3, 32, 13, 18, 48, 3, 3, 1, 1, 1, 1)), S = p.h * p.w;
      const xp = rand(p.n * p.c * S), w = rand(p.k * p.c * 9), bias = rand(p.k), dyp = rand(p.n * p.k * S);
      const x = toB(xp, p.n, p.c, S), dy = toB(dyp, p.n, p.k, S);
      const plain = { ...p, xBlocked: false, yBlocked: false };
      const y0 = new Float32Array(dyp.length), dx0 = new Float32Array(xp.length), dw0 = new Float32Array(w.length), db0 = new Float32Array(p.k);
      js.conv2dForward(xp, w, bias, y0, plain);
      js.conv2dBackward(xp, dyp, w, dx0, dw0, db0, plain);
      const run = (on: boolean, tile: number): Float32Array[] => {
        a.setWinograd(on);
        a.setWinogradTile(tile);
        expect(a.convAlgorithm(p)).toBe(on && dnnl ? "winograd" : "dense");
        const y = new Float32Array(y0.length), dx = new Float32Array(dx0.length), dw = new Float32Array(w.length), db = new Float32Array(p.k);
        a.conv2dForward(x, w, bias, y, p);
        a.conv2dBackward(x, dy, w, dx, dw, db, p);
        return [toP(y, p.n, p.k, S), toP(dx, p.n, p.c, S), dw, db];
      };
      try {
        const dense = run(false, 4);
        for (const tile of [4, 2]) {
          const wino = run(true, tile);
          [y0, dx0, dw0, db0].forEach((r, i) => close(wino[i]!, r));
          // and it really is another kernel: some rounding differs from the dense one
          if (dnnl) expect(wino[0]!.some((v, i) => v !== dense[0]![i])).toBe(true);
        }
      } finally {
        a.setWinograd(before.winograd);
        a.setWinogradTile(before.winogradTile);
      }
    });

    itN("conv2dLayouts reports what the build takes natively, and blocked flags are checked", () => {
      const p = convP(8, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1);
      const m = native().conv2dLayouts(p, false);
      if (native().description.includes("oneDNN")) expect(m).toBe(3);
      else expect(m).toBe(0);
      expect(native().conv2dLayouts(convP(4, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1), true) & 1).toBe(0);
      const bad = convP(1, 8, 5, 5, 8, 3, 3, 1, 1, 1, 1);
      expect(() => native().conv2dForward(new Float32Array(200), new Float32Array(576), null, new Float32Array(200), { ...bad, xBlocked: true })).toThrow(/multiple of 16/);
    });

    itN("blocked-layout reorders of activations beyond the cache (streaming stores) move every value exactly", () => {
      // a 1x1 convolution with the identity matrix as weights copies its input: y = x and dx = dy bit for bit, so
      // the NCHW <-> nChw16c reorders around the primitive are checked on an 18.9 MB activation
      const C = 32;
      const p = convP(256, C, 24, 24, C, 1, 1, 1, 1, 0, 0);
      const x = rand(256 * C * 24 * 24);
      const w = new Float32Array(C * C);
      for (let c = 0; c < C; c++) w[c * C + c] = 1;
      const y = new Float32Array(x.length).fill(NaN);
      native().conv2dForward(x, w, null, y, p);
      expect(y.every((v, i) => v === x[i])).toBe(true);
      const dx = new Float32Array(x.length).fill(NaN);
      native().conv2dBackward(x, y, w, dx, new Float32Array(w.length), null, p);
      expect(dx.every((v, i) => v === x[i])).toBe(true);
    });

    itN("conv2dBackward rejects a bias gradient without the weight gradient", () => {
      const p = convShapes[1]!;
      const x = rand(p.n * p.c * p.h * p.w), w = rand(p.k * p.c * p.kh * p.kw), dy = rand(p.n * p.k * p.oh * p.ow);
      expect(() => native().conv2dBackward(x, dy, w, new Float32Array(x.length), null, new Float32Array(p.k), p)).toThrow(/db needs dw/);
    });

    itN("conv2d repeated calls reuse cached primitives correctly", () => {
      const p = convShapes[1]!;
      for (let rep = 0; rep < 3; rep++) {
        const x = rand(p.n * p.c * p.h * p.w), w = rand(p.k * p.c * p.kh * p.kw);
        const y1 = new Float32Array(p.n * p.k * p.oh * p.ow), y2 = new Float32Array(y1.length);
        js.conv2dForward(x, w, null, y1, p);
        native().conv2dForward(x, w, null, y2, p);
        close(y2, y1);
      }
    });

    for (const p of [poolP(2, 3, 8, 8, 2, 2, 0), poolP(2, 3, 7, 9, 2, 2, 0), poolP(4, 32, 23, 21, 2, 2, 0), poolP(2, 3, 9, 7, 3, 2, 1), poolP(1, 4, 5, 5, 3, 1, 1, false), poolP(3, 2, 6, 6, 6, 6, 0)]) {
      itN(`pooling k${p.kh} s${p.strideH} p${p.padH} cip=${p.countIncludePad} on ${p.h}x${p.w}`, () => {
        const x = rand(p.n * p.c * p.h * p.w), ys = p.n * p.c * p.oh * p.ow;
        const y1 = new Float32Array(ys), y2 = new Float32Array(ys), a1 = new Int32Array(ys), a2 = new Int32Array(ys);
        js.maxPool2dForward(x, y1, a1, p);
        native().maxPool2dForward(x, y2, a2, p);
        close(y2, y1);
        expect(Array.from(a2)).toEqual(Array.from(a1));
        const dy = rand(ys), d1 = new Float32Array(x.length), d2 = new Float32Array(x.length).fill(NaN);
        js.maxPool2dBackward(dy, a1, d1, p);
        native().maxPool2dBackward(dy, a1, d2, p);
        close(d2, d1);
        js.avgPool2dForward(x, y1, p);
        native().avgPool2dForward(x, y2, p);
        close(y2, y1);
        const e1 = new Float32Array(x.length), e2 = new Float32Array(x.length).fill(NaN);
        js.avgPool2dBackward(dy, e1, p);
        native().avgPool2dBackward(dy, e2, p);
        close(e2, e1); // every cell written, also those in no window (odd sizes): NaN would show
      });
    }

    for (const [N, C, S] of [[4, 5, 37], [64, 3, 1], [2, 16, 2000]] as const) {
      itN(`batch norm train fwd/bwd and channelAffine N${N} C${C} S${S}`, () => {
        const n = N * C * S;
        const x = rand(n, 2), gamma = rand(C), beta = rand(C), dy = rand(n);
        for (let i = 0; i < n; i++) x[i] = x[i]! + 3; // a non-zero mean exercises the centred variance
        for (const [g, bt] of [[gamma, beta], [null, null]] as const) {
          const o1 = { y: new Float32Array(n), m: new Float32Array(C), s: new Float32Array(C) };
          const o2 = { y: new Float32Array(n), m: new Float32Array(C), s: new Float32Array(C) };
          js.batchNormTrainForward(x, N, C, S, g, bt, 1e-5, o1.y, o1.m, o1.s);
          native().batchNormTrainForward(x, N, C, S, g, bt, 1e-5, o2.y, o2.m, o2.s);
          close(o2.y, o1.y);
          close(o2.m, o1.m);
          close(o2.s, o1.s);
          const b1 = { dx: new Float32Array(n), dg: new Float32Array(C), db: new Float32Array(C) };
          const b2 = { dx: new Float32Array(n), dg: new Float32Array(C), db: new Float32Array(C) };
          js.batchNormBackward(x, dy, N, C, S, g, o1.m, o1.s, b1.dx, b1.dg, b1.db);
          native().batchNormBackward(x, dy, N, C, S, g, o1.m, o1.s, b2.dx, b2.dg, b2.db);
          close(b2.dx, b1.dx);
          close(b2.dg, b1.dg);
          close(b2.db, b1.db);
        }
        const y1 = new Float32Array(n), y2 = new Float32Array(n);
        js.channelAffine(x, N, C, S, gamma, beta, y1);
        native().channelAffine(x, N, C, S, gamma, beta, y2);
        close(y2, y1);
      });
    }

    for (const [hardReset, surrogate, tau, v0] of [[true, 0, 0.5, 0], [false, 1, 0.5, 0], [false, 2, 1, 0.5], [true, 2, 0.9, 0.2]] as const) {
      itN(`neuron fwd/bwd hard=${hardReset} surrogate=${surrogate} tau=${tau}`, () => {
        const T = 6, M = 40_000 + 3; // above the parallel threshold, odd tail
        const p: NeuronParams = { T, M, theta: 1, tau, hardReset, v0, surrogate, surrogateParam: surrogate === 0 ? 1 : 4 };
        const x = rand(T * M, 0.8);
        const f = (be: Backend) => {
          const s = new Float32Array(T * M), u = new Float32Array(T * M), h = new Float32Array(T * M);
          be.neuronForward(x, s, u, h, p);
          return { s, u, h };
        };
        const a = f(js), b2 = f(native());
        expect(relErr(b2.s, a.s)).toBe(0);
        close(b2.u, a.u);
        close(b2.h, a.h);
        const gS = rand(T * M), gU = rand(T * M);
        for (const [gs, gu] of [[gS, gU], [gS, null], [null, gU]] as const) {
          const d1 = new Float32Array(T * M), d2 = new Float32Array(T * M);
          js.neuronBackward(gs, gu, a.h, a.s, d1, p);
          native().neuronBackward(gs, gu, a.h, a.s, d2, p);
          close(d2, d1);
        }
      });
    }

    itN("single-step neuron kernel: bit-identical to the TypeScript backend over several steps, state updated in place", () => {
      for (const n of [3, 50_001]) {
        for (const [hard, tau, theta, scale] of [[false, 1, 0.8, 0.8], [true, 0.5, 1, 1]] as const) {
          const v1 = new Float32Array(n).fill(0.5 * theta), v2 = new Float32Array(v1);
          for (let t = 0; t < 4; t++) {
            const x = rand(n);
            const o = () => [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as const;
            const [s1, u1, y1] = o();
            const [s2, u2, y2] = o();
            js.neuronStep(x, v1, s1, u1, y1, theta, tau, hard, scale);
            native().neuronStep(x, v2, s2, u2, y2, theta, tau, hard, scale);
            expect(Array.from(s2)).toEqual(Array.from(s1));
            expect(Array.from(u2)).toEqual(Array.from(u1));
            expect(Array.from(y2)).toEqual(Array.from(y1));
            expect(Array.from(v2)).toEqual(Array.from(v1));
          }
        }
      }
    });

    itN("blocked16 kernels (batch norm with and without TEBN scale, channel affine, folded-BN neuron step, avg and max pooling) match the plain reference", () => {
      for (const [N, C, S, T] of [[8, 32, 49, 4], [6, 16, 9, 2], [4, 48, 196, 1]] as const) {
        const x = rand(N * C * S, 2), dy = rand(N * C * S), g = rand(C), bt = rand(C);
        const ps = T > 1 ? rand(T) : null;
        const ref = { y: new Float32Array(x.length), m: new Float32Array(C), s: new Float32Array(C) };
        js.batchNormTrainForward(x, N, C, S, g, bt, 1e-5, ref.y, ref.m, ref.s, ps);
        const rdx = new Float32Array(x.length), rdg = new Float32Array(C), rdb = new Float32Array(C), rdp = ps ? new Float32Array(T) : null;
        js.batchNormBackward(x, dy, N, C, S, g, ref.m, ref.s, rdx, rdg, rdb, bt, ps, rdp);
        const xb = toB(x, N, C, S), dyb = toB(dy, N, C, S);
        for (const be of [native(), js]) {
          const y = new Float32Array(x.length).fill(NaN), m = new Float32Array(C).fill(NaN), is = new Float32Array(C).fill(NaN);
          be.batchNormTrainForward(xb, N, C, S, g, bt, 1e-5, y, m, is, ps, true);
          close(toP(y, N, C, S), ref.y);
          close(m, ref.m);
          close(is, ref.s);
          const dx = new Float32Array(x.length).fill(NaN), dg = new Float32Array(C).fill(NaN), db = new Float32Array(C).fill(NaN);
          const dp = ps ? new Float32Array(T).fill(NaN) : null;
          be.batchNormBackward(xb, dyb, N, C, S, g, m, is, dx, dg, db, bt, ps, dp, true);
          close(toP(dx, N, C, S), rdx);
          close(dg, rdg);
          close(db, rdb);
          if (dp) close(dp, rdp!);
          const a1 = new Float32Array(x.length), a2 = new Float32Array(x.length).fill(NaN);
          js.channelAffine(x, N, C, S, g, bt, a1);
          be.channelAffine(xb, N, C, S, g, bt, a2, true);
          expect(toP(a2, N, C, S)).toEqual(a1);
          // folded eval batch norm in the neuron step: same bits as the plain step, in the blocked order
          const v1 = new Float32Array(x.length).fill(0.3), v2 = toB(v1, N, C, S);
          const s1 = new Float32Array(x.length), u1 = new Float32Array(x.length), o1 = new Float32Array(x.length);
          const s2 = new Float32Array(x.length), u2 = new Float32Array(x.length), o2 = new Float32Array(x.length);
          native().neuronStep(x, v1, s1, u1, o1, 0.7, 1, false, 0.7, g, bt, C, S);
          be.neuronStep(xb, v2, s2, u2, o2, 0.7, 1, false, 0.7, g, bt, C, S, true);
          expect(toP(s2, N, C, S)).toEqual(s1);
          expect(toP(u2, N, C, S)).toEqual(u1);
          expect(toP(v2, N, C, S)).toEqual(v1);
          expect(toP(o2, N, C, S)).toEqual(o1);
        }
      }
      for (const p of [poolP(3, 32, 8, 8, 2, 2, 0), poolP(2, 16, 7, 9, 3, 2, 1), poolP(2, 16, 5, 5, 3, 1, 1, false)]) {
        const x = rand(p.n * p.c * p.h * p.w), ys = p.n * p.c * p.oh * p.ow, dy = rand(ys);
        const y1 = new Float32Array(ys), dx1 = new Float32Array(x.length);
        js.avgPool2dForward(x, y1, p);
        js.avgPool2dBackward(dy, dx1, p);
        for (const be of [native(), js]) {
          const y = new Float32Array(ys).fill(NaN), dx = new Float32Array(x.length).fill(NaN);
          be.avgPool2dForward(toB(x, p.n, p.c, p.h * p.w), y, { ...p, blocked: true });
          close(toP(y, p.n, p.c, p.oh * p.ow), y1);
          be.avgPool2dBackward(toB(dy, p.n, p.c, p.oh * p.ow), dx, { ...p, blocked: true });
          close(toP(dx, p.n, p.c, p.h * p.w), dx1);
        }
        // max pooling: the same values, the same plane indices (in y's blocked order), the same gradient; ties (a
        // constant plane) and a NaN go to the first cell, as in plain layout
        x.fill(0.25, 0, p.h * p.w);
        x[p.h * p.w + 3] = NaN;
        const m1 = new Float32Array(ys), a1 = new Int32Array(ys), g1 = new Float32Array(x.length);
        js.maxPool2dForward(x, m1, a1, p);
        js.maxPool2dBackward(dy, a1, g1, p);
        for (const be of [native(), js]) {
          const y = new Float32Array(ys).fill(NaN), a = new Int32Array(ys).fill(-5), dx = new Float32Array(x.length).fill(NaN);
          be.maxPool2dForward(toB(x, p.n, p.c, p.h * p.w), y, a, { ...p, blocked: true });
          expect(Array.from(toP(y, p.n, p.c, p.oh * p.ow))).toEqual(Array.from(m1));
          const aPlain = Array.from(toP(Float32Array.from(a), p.n, p.c, p.oh * p.ow));
          expect(aPlain).toEqual(Array.from(a1));
          be.maxPool2dBackward(toB(dy, p.n, p.c, p.oh * p.ow), a, dx, { ...p, blocked: true });
          expect(Array.from(toP(dx, p.n, p.c, p.h * p.w))).toEqual(Array.from(g1));
        }
      }
    });

    itN("single-step neuron with a folded eval batch norm: bit-identical to channelAffine + step, membrane optional", () => {
      for (const [N, C, S] of [[2, 3, 5], [16, 32, 196], [128, 256, 1]] as const) {
        const n = N * C * S;
        const scale = rand(C), shift = rand(C);
        for (const [hard, tau, theta, sc] of [[false, 1, 0.8, 0.8], [true, 0.5, 1, 1]] as const) {
          const vRef = new Float32Array(n).fill(0.5 * theta), vFused = new Float32Array(vRef), vJs = new Float32Array(vRef);
          for (let t = 0; t < 4; t++) {
            const x = rand(n);
            const o = () => [new Float32Array(n).fill(NaN), new Float32Array(n).fill(NaN), new Float32Array(n).fill(NaN)] as const;
            const [s1, u1, y1] = o();
            const [s2, , y2] = o();
            const [s3, u3, y3] = o();
            const bn = new Float32Array(n);
            native().channelAffine(x, N, C, S, scale, shift, bn);
            native().neuronStep(bn, vRef, s1, u1, y1, theta, tau, hard, sc);
            native().neuronStep(x, vFused, s2, null, y2, theta, tau, hard, sc, scale, shift, C, S);
            js.neuronStep(x, vJs, s3, u3, y3, theta, tau, hard, sc, scale, shift, C, S);
            expect(Array.from(s2)).toEqual(Array.from(s1));
            expect(Array.from(y2)).toEqual(Array.from(y1));
            expect(Array.from(vFused)).toEqual(Array.from(vRef));
            // the TypeScript backend rounds x*scale + shift once from double, the kernel may use an FMA
            expect(Array.from(s3)).toEqual(Array.from(s1));
            close(u3, u1);
            close(vJs, vRef);
          }
        }
      }
      const x = rand(12);
      expect(() => native().neuronStep(x, new Float32Array(12), new Float32Array(12), null, new Float32Array(12), 1, 1, false, 1,
        rand(5), rand(5), 5, 2)).toThrow(/multiple of C\*S/);
    });

    itN("single-step neuron with a folded TEBN (batch norm, then each row's p_t): bit-identical to channelAffine + scaleRows + step", () => {
      for (const [N, C, S] of [[2, 3, 5], [16, 32, 196], [9, 16, 7]] as const) {
        const n = N * C * S;
        const scale = rand(C), shift = rand(C), rows = rand(N);
        for (const blocked of C % 16 === 0 ? [false, true] : [false]) {
          const vRef = new Float32Array(n), vFused = new Float32Array(n), vJs = new Float32Array(n);
          for (let t = 0; t < 4; t++) {
            const x = rand(n);
            const o = () => [new Float32Array(n).fill(NaN), new Float32Array(n).fill(NaN), new Float32Array(n).fill(NaN)] as const;
            const [s1, u1, y1] = o();
            const [s2, , y2] = o();
            const [s3, , y3] = o();
            const bn = new Float32Array(n);
            native().channelAffine(x, N, C, S, scale, shift, bn, blocked);
            native().scaleRows(bn, N, rows, bn);
            native().neuronStep(bn, vRef, s1, u1, y1, 1, 0.5, true, 1);
            native().neuronStep(x, vFused, s2, null, y2, 1, 0.5, true, 1, scale, shift, C, S, blocked, rows);
            js.neuronStep(x, vJs, s3, null, y3, 1, 0.5, true, 1, scale, shift, C, S, blocked, rows);
            expect(Array.from(s2)).toEqual(Array.from(s1));
            expect(Array.from(vFused)).toEqual(Array.from(vRef));
            expect(Array.from(s3)).toEqual(Array.from(s1));
            close(vJs, vRef);
          }
        }
      }
      const x = rand(12), z = () => new Float32Array(12);
      expect(() => native().neuronStep(x, z(), z(), null, z(), 1, 1, false, 1, rand(3), rand(3), 3, 2, false, rand(1))).toThrow(/rowScale/);
      expect(() => native().neuronStep(x, z(), z(), null, z(), 1, 1, false, 1, null, null, 1, 1, false, rand(2))).toThrow(/rowScale needs the input affine/);
    });

    itN("single-step neuron with fresh rows: those rows start over at v0 within the step, the others run on", () => {
      for (const [B, D] of [[3, 5], [16, 6272], [128, 256]] as const) {
        const n = B * D;
        const fresh = Uint8Array.from({ length: B }, (_, r) => (r % 3 === 1 ? 1 : 0));
        const v0 = 0.4;
        const x = rand(n);
        const vIn = rand(n);
        const vRef = new Float32Array(vIn);
        for (let r = 0; r < B; r++) if (fresh[r]) vRef.fill(v0, r * D, (r + 1) * D);
        const o = () => [new Float32Array(n), new Float32Array(n)] as const;
        const [s1, y1] = o(), [s2, y2] = o(), [s3, y3] = o();
        native().neuronStep(x, vRef, s1, null, y1, 0.8, 1, false, 0.8);
        const vNat = new Float32Array(vIn), vJs = new Float32Array(vIn);
        native().neuronStep(x, vNat, s2, null, y2, 0.8, 1, false, 0.8, null, null, 1, 1, false, null, fresh, v0);
        js.neuronStep(x, vJs, s3, null, y3, 0.8, 1, false, 0.8, null, null, 1, 1, false, null, fresh, v0);
        expect(Array.from(s2)).toEqual(Array.from(s1));
        expect(Array.from(vNat)).toEqual(Array.from(vRef));
        expect(Array.from(s3)).toEqual(Array.from(s1));
        expect(Array.from(vJs)).toEqual(Array.from(vRef));
      }
      const z = () => new Float32Array(12);
      expect(() => native().neuronStep(z(), z(), z(), null, z(), 1, 1, false, 1, null, null, 1, 1, false, null, new Uint8Array(5), 0)).toThrow(/one flag per row/);
    });

    itN("dropout masks are bit-identical to the TypeScript backend and keep about 1 - p", () => {
      for (const n of [5, 100_003]) {
        for (const p of [0, 0.3, 0.9]) {
          const m1 = new Float32Array(n), m2 = new Float32Array(n);
          js.dropoutMask(m1, p, 12345);
          native().dropoutMask(m2, p, 12345);
          expect(Array.from(m2)).toEqual(Array.from(m1));
          if (n > 1000) {
            const kept = m1.reduce((a, v) => a + (v > 0 ? 1 : 0), 0) / n;
            expect(Math.abs(kept - (1 - p))).toBeLessThan(0.01);
          }
        }
      }
      expect(() => native().dropoutMask(new Float32Array(4), 1, 0)).toThrow(/p must be/);
      // blocked16 storage: each element gets the bits of its plain index, on both backends
      for (const [N, C, S] of [[2, 16, 5], [3, 48, 49]] as const) {
        const n = N * C * S;
        const plain = new Float32Array(n), b1 = new Float32Array(n), b2 = new Float32Array(n);
        js.dropoutMask(plain, 0.4, 777);
        js.dropoutMask(b1, 0.4, 777, C, S);
        native().dropoutMask(b2, 0.4, 777, C, S);
        expect(Array.from(b2)).toEqual(Array.from(b1));
        const back = new Float32Array(n);
        js.reorderBlocked16(b1, back, N, C, S, false);
        expect(Array.from(back)).toEqual(Array.from(plain));
      }
      expect(() => native().dropoutMask(new Float32Array(40), 0.5, 1, 8, 5)).toThrow(/multiple of 16/);
      // an index offset draws the matching slice of a longer mask (step t of a single-step run: offset t·n)
      for (const [C, S] of [[0, 0], [32, 7]] as const) {
        const n = 2 * (C || 16) * (S || 7), T = 3;
        const whole1 = new Float32Array(T * n), whole2 = new Float32Array(T * n);
        js.dropoutMask(whole1, 0.3, 99, C || undefined, S || undefined);
        native().dropoutMask(whole2, 0.3, 99, C || undefined, S || undefined);
        expect(Array.from(whole2)).toEqual(Array.from(whole1));
        for (let t = 0; t < T; t++) {
          const s1 = new Float32Array(n), s2 = new Float32Array(n);
          js.dropoutMask(s1, 0.3, 99, C || undefined, S || undefined, t * n);
          native().dropoutMask(s2, 0.3, 99, C || undefined, S || undefined, t * n);
          expect(Array.from(s1)).toEqual(Array.from(whole1.subarray(t * n, (t + 1) * n)));
          expect(Array.from(s2)).toEqual(Array.from(s1));
        }
      }
      expect(() => native().dropoutMask(new Float32Array(4), 0.5, 1, undefined, undefined, -1)).toThrow(/offset/);
    });

    itN("fused QCFS / clipped-ReLU activation, forward and straight-through backward", () => {
      for (const n of [7, 1000, 100_003]) {
        const x = rand(n).map((v) => v * 6), g = rand(n);
        for (const L of [0, 4, 8]) {
          for (const lam of [0.7, 2.5]) {
            const y1 = new Float32Array(n), y2 = new Float32Array(n);
            js.thresholdActForward(x, y1, lam, L);
            native().thresholdActForward(x, y2, lam, L);
            close(y2, y1);
            for (const withDx of [true, false]) {
              const d1 = withDx ? new Float32Array(n) : null, d2 = withDx ? new Float32Array(n) : null;
              const l1 = js.thresholdActBackward(x, g, d1, lam, L);
              const l2 = native().thresholdActBackward(x, g, d2, lam, L);
              if (d1 && d2) close(d2, d1);
              expect(Math.abs(l2 - l1)).toBeLessThan(1e-4 * Math.max(1, Math.abs(l1)));
            }
          }
        }
      }
    });

    itN("element-wise, sum and optimisers", () => {
      for (const n of [1, 1000, 100_003]) {
        const a = rand(n), b2 = rand(n), o1 = new Float32Array(n), o2 = new Float32Array(n);
        js.add(a, b2, o1); native().add(a, b2, o2); close(o2, o1);
        js.mul(a, b2, o1); native().mul(a, b2, o2); close(o2, o1);
        js.axpby(a, 0.3, b2, -1.7, o1); native().axpby(a, 0.3, b2, -1.7, o2); close(o2, o1);
        js.relu(a, o1); native().relu(a, o2); close(o2, o1);
        js.reluBackward(a, b2, o1); native().reluBackward(a, b2, o2); close(o2, o1);
        expect(Math.abs(native().sum(a) - js.sum(a))).toBeLessThan(1e-4 * Math.max(1, Math.sqrt(n)));
        // per-row sums / dots and row scales (rows of 1 element up to one row of n)
        for (const rows of [1, n > 1000 ? 7 : 1, n]) {
          if (n % rows) continue;
          const D = n / rows, w = rand(D), sc = rand(rows);
          const s1 = new Float64Array(rows), d1 = new Float64Array(rows), s2 = new Float64Array(rows).fill(NaN), d2 = new Float64Array(rows).fill(NaN);
          js.rowSums(a, rows, w, s1, d1);
          native().rowSums(a, rows, w, s2, d2);
          for (let r = 0; r < rows; r++) {
            expect(Math.abs(s2[r]! - s1[r]!)).toBeLessThan(1e-6 * Math.max(1, D));
            expect(Math.abs(d2[r]! - d1[r]!)).toBeLessThan(1e-6 * Math.max(1, D));
          }
          native().rowSums(a, rows, null, s2, null);
          for (let r = 0; r < rows; r++) expect(Math.abs(s2[r]! - s1[r]!)).toBeLessThan(1e-6 * Math.max(1, D));
          js.scaleRows(a, rows, sc, o1);
          native().scaleRows(a, rows, sc, o2);
          expect(Array.from(o2)).toEqual(Array.from(o1));
          const inPlace = new Float32Array(a);
          native().scaleRows(inPlace, rows, sc, inPlace);
          expect(Array.from(inPlace)).toEqual(Array.from(o1));
        }
        for (const [nest, first] of [[false, true], [true, false]] as const) {
          const p1 = rand(n), buf1 = rand(n), p2 = new Float32Array(p1), buf2 = new Float32Array(buf1);
          js.sgdStep(p1, b2, buf1, 0.1, 0.9, 1e-4, nest, first);
          native().sgdStep(p2, b2, buf2, 0.1, 0.9, 1e-4, nest, first);
          close(p2, p1);
          close(buf2, buf1);
        }
        for (const dec of [true, false]) {
          const p1 = rand(n), m1 = rand(n, 0.1), v1 = rand(n).map(Math.abs);
          const p2 = new Float32Array(p1), m2 = new Float32Array(m1), v2 = new Float32Array(v1);
          js.adamStep(p1, b2, m1, v1, 1e-3, 0.9, 0.999, 1e-8, 0.01, 3, dec);
          native().adamStep(p2, b2, m2, v2, 1e-3, 0.9, 0.999, 1e-8, 0.01, 3, dec);
          close(p2, p1);
          close(m2, m1);
          close(v2, v1);
        }
      }
    });

    itN("RCS-ANN statistic: per-sample sums of squares, maxima and first maximal index", () => {
      for (const [N, F] of [[1, 1], [3, 17], [5, 1000], [64, 3136]] as const) {
        const x = rand(N * F);
        // ties: the first occurrence wins, within a sample and across samples
        if (N * F >= 20) x[N * F - 1] = x[7] = x[12] = 9;
        if (N > 2) x.fill(-1, 2 * F, 3 * F); // a sample without positive values
        const out = () => ({ ss: new Float64Array(N).fill(NaN), m: new Float32Array(N).fill(NaN), a: new Int32Array(N).fill(-7) });
        const o1 = out(), o2 = out();
        js.rcsAnnForward(x, N, F, o1.ss, o1.m, o1.a);
        native().rcsAnnForward(x, N, F, o2.ss, o2.m, o2.a);
        close(o2.ss, o1.ss);
        expect(Array.from(o2.m)).toEqual(Array.from(o1.m));
        expect(Array.from(o2.a)).toEqual(Array.from(o1.a));
        if (N > 2) expect([o2.a[2], o2.m[2]]).toEqual([-1, 0]);
      }
      const nat = native() as unknown as Record<string, (...a: unknown[]) => unknown>;
      expect(() => nat.rcsAnnForward!(new Float32Array(6), 2, 3, new Float32Array(2), new Float32Array(2), new Float32Array(2))).toThrow(/Float64Array/);
      expect(() => nat.rcsAnnForward!(new Float32Array(6), 2, 3, new Float64Array(2), new Float32Array(2), new Float32Array(2))).toThrow(/Int32Array/);
    });

    itN("RCS-SNN statistic: forward sums and the fused backward, either gradient alone", () => {
      // spikes 0/1, membranes on both sides of 0; D both below and above a vector and not a multiple of 16
      for (const [T, B, D, K] of [[4, 3, 5, 1], [6, 2, 37, 1], [3, 5, 1000, 3], [2, 40, 2000, 2]] as const) {
        const n = T * B * D;
        const s = rand(n).map((v) => (v > 0.3 ? 1 : 0)), u = rand(n, 2);
        const invTheta = Math.fround(1 / 1.5);
        const out = () => ({ rbar: new Float32Array(B * D).fill(NaN), dot: new Float32Array(T * B), nR: new Float32Array(T * B), nb: new Float32Array(B) });
        const o1 = out(), o2 = out();
        js.rcsSnnForward(s, u, T, B, D, K, invTheta, o1.rbar, o1.dot, o1.nR, o1.nb);
        native().rcsSnnForward(s, u, T, B, D, K, invTheta, o2.rbar, o2.dot, o2.nR, o2.nb);
        close(o2.rbar, o1.rbar);
        close(o2.dot, o1.dot);
        close(o2.nR, o1.nR);
        close(o2.nb, o1.nb);
        const a = rand(T * B), c = rand(T * B);
        const grads = () => [new Float32Array(n).fill(NaN), new Float32Array(n).fill(NaN)] as const;
        const [ds1, du1] = grads(), [ds2, du2] = grads();
        js.rcsSnnBackward(s, u, o1.rbar, T, B, D, invTheta, a, c, ds1, du1);
        native().rcsSnnBackward(s, u, o1.rbar, T, B, D, invTheta, a, c, ds2, du2);
        close(ds2, ds1);
        close(du2, du1);
        const [ds3, du3] = grads();
        native().rcsSnnBackward(s, u, o1.rbar, T, B, D, invTheta, a, c, ds3, null);
        native().rcsSnnBackward(s, u, o1.rbar, T, B, D, invTheta, a, c, null, du3);
        close(ds3, ds1);
        close(du3, du1);
      }
      const nat = native() as unknown as Record<string, (...a: unknown[]) => unknown>;
      const f = new Float32Array(24);
      expect(() => nat.rcsSnnForward!(f, f, 2, 3, 5, 1, 1, f, f, f, f)).toThrow(/s has 24 elements, needs 30/);
      expect(() => nat.rcsSnnForward!(f, f, 2, 3, 4, 3, 1, f, f, f, f)).toThrow(/K must be in/);
      expect(() => nat.rcsSnnBackward!(f, f, f, 2, 3, 4, 1, f, new Float32Array(5), null, null)).toThrow(/c has 5/);
    });

    itN("bad arguments throw JS errors, never crash", () => {
      const nat = native() as unknown as Record<string, (...a: unknown[]) => unknown>;
      const f = new Float32Array(4);
      expect(() => nat.gemm!(false, false, 4, 4, 4, 1, f, f, 0, f)).toThrow(/needs 16/);
      expect(() => nat.add!(f, new Float32Array(2), f)).toThrow(/b has 2/);
      expect(() => nat.add!(f, [1, 2, 3, 4], f)).toThrow(/Float32Array/);
      expect(() => nat.relu!()).toThrow();
      const p = convP(1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1);
      expect(() => nat.conv2dForward!(new Float32Array(10), new Float32Array(54), null, new Float32Array(75), p)).toThrow(/x has 10/);
      expect(() => nat.conv2dForward!(new Float32Array(50), new Float32Array(54), null, new Float32Array(75), { ...p, oh: 9 })).toThrow(/oh/);
      expect(() => nat.conv2dForward!(new Float32Array(50), new Float32Array(54), null, new Float32Array(75), { ...p, groups: 2 })).toThrow(/groups/);
      expect(() => nat.conv2dForward!(new Float32Array(50), new Float32Array(54), null, new Float32Array(75), { ...p, n: -1 })).toThrow();
      expect(() => nat.maxPool2dForward!(f, f, new Float32Array(4), poolP(1, 1, 2, 2, 1, 1, 0))).toThrow(/Int32Array/);
      const np = { T: 2, M: 3, theta: 1, tau: 0.5, hardReset: true, v0: 0, surrogate: 7, surrogateParam: 1 };
      expect(() => nat.neuronForward!(new Float32Array(6), new Float32Array(6), new Float32Array(6), new Float32Array(6), np)).toThrow(/surrogate/);
      const r = loadAddon(addonPath(b.dir));
      if ("addon" in r) expect(r.addon.info().threads).toBeGreaterThan(0);
    });
  });
}
