// The reference backend checked against naive definitions (direct loops, finite differences).
import { describe, expect, it } from "vitest";
import { jsBackend as js } from "../../src/engine/js/backend.js";
import type { Conv2dParams } from "../../src/engine/backend.js";
import { Rng } from "../../src/engine/random.js";

const rng = new Rng(7);
const rand = (n: number): Float32Array => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
};
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 1e-6;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}
function conv(n: number, c: number, h: number, w: number, k: number, kh: number, kw: number, s: number, pad: number, groups: number): Conv2dParams {
  return { n, c, h, w, k, kh, kw, strideH: s, strideW: s, padH: pad, padW: pad, groups,
    oh: Math.floor((h + 2 * pad - kh) / s) + 1, ow: Math.floor((w + 2 * pad - kw) / s) + 1 };
}
function naiveConv(x: Float32Array, wt: Float32Array, p: Conv2dParams): Float32Array {
  const y = new Float32Array(p.n * p.k * p.oh * p.ow);
  const cg = p.c / p.groups, kg = p.k / p.groups;
  for (let b = 0; b < p.n; b++) for (let o = 0; o < p.k; o++) for (let oy = 0; oy < p.oh; oy++) for (let ox = 0; ox < p.ow; ox++) {
    let acc = 0;
    const g = Math.floor(o / kg);
    for (let ci = 0; ci < cg; ci++) for (let r = 0; r < p.kh; r++) for (let s = 0; s < p.kw; s++) {
      const iy = oy * p.strideH - p.padH + r, ix = ox * p.strideW - p.padW + s;
      if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) continue;
      acc += x[((b * p.c + g * cg + ci) * p.h + iy) * p.w + ix]! * wt[((o * cg + ci) * p.kh + r) * p.kw + s]!;
    }
    y[((b * p.k + o) * p.oh + oy) * p.ow + ox] = acc;
  }
  return y;
}
const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

describe("js backend against naive definitions", () => {
  it("gemm with every transpose", () => {
    const M = 7, N = 5, K = 9;
    for (const ta of [false, true]) for (const tb of [false, true]) {
      const A = rand(M * K), B = rand(K * N), C0 = rand(M * N);
      const C = new Float32Array(C0);
      js.gemm(ta, tb, M, N, K, 0.5, A, B, 2, C);
      const ref = new Float32Array(M * N);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) acc += (ta ? A[k * M + i]! : A[i * K + k]!) * (tb ? B[j * K + k]! : B[k * N + j]!);
        ref[i * N + j] = 0.5 * acc + 2 * C0[i * N + j]!;
      }
      expect(maxRel(C, ref)).toBeLessThan(1e-5);
    }
  });

  for (const p of [conv(2, 4, 7, 6, 6, 3, 3, 1, 1, 1), conv(2, 4, 9, 9, 4, 3, 2, 2, 1, 2), conv(1, 3, 5, 5, 2, 1, 1, 1, 0, 1)]) {
    it(`conv2d forward and adjoints ${JSON.stringify(p)}`, () => {
      const x = rand(p.n * p.c * p.h * p.w), w = rand(p.k * (p.c / p.groups) * p.kh * p.kw), bias = rand(p.k);
      const y = new Float32Array(p.n * p.k * p.oh * p.ow);
      js.conv2dForward(x, w, bias, y, p);
      const ref = naiveConv(x, w, p);
      for (let i = 0; i < ref.length; i++) ref[i] = ref[i]! + bias[Math.floor(i / (p.oh * p.ow)) % p.k]!;
      expect(maxRel(y, ref)).toBeLessThan(1e-5);
      // Adjoint identities: <dy, conv(x, w)> = <dx, x> = <dw, w> for the linear maps.
      const dy = rand(y.length), dx = new Float32Array(x.length), dw = new Float32Array(w.length), db = new Float32Array(p.k);
      js.conv2dBackwardData(dy, w, dx, p);
      js.conv2dBackwardWeights(x, dy, dw, db, p);
      const lhs = dot(dy, naiveConv(x, w, p));
      expect(Math.abs(dot(dx, x) - lhs)).toBeLessThan(1e-3 * Math.max(1, Math.abs(lhs)));
      expect(Math.abs(dot(dw, w) - lhs)).toBeLessThan(1e-3 * Math.max(1, Math.abs(lhs)));
      let sdy = 0;
      for (let i = 0; i < p.n * p.oh * p.ow; i++) sdy += dy[Math.floor(i / (p.oh * p.ow)) * p.k * p.oh * p.ow + (i % (p.oh * p.ow))]!;
      expect(db[0]).toBeCloseTo(sdy, 3);
    });
  }

  it("batch norm backward matches finite differences", () => {
    const N = 3, C = 2, S = 5, n = N * C * S;
    const x = rand(n), gamma = rand(C), beta = rand(C), r = rand(n);
    const loss = (xx: Float32Array): number => {
      const y = new Float32Array(n);
      js.batchNormTrainForward(xx, N, C, S, gamma, beta, 1e-5, y, new Float32Array(C), new Float32Array(C));
      return dot(y, r);
    };
    const y = new Float32Array(n), mean = new Float32Array(C), inv = new Float32Array(C);
    js.batchNormTrainForward(x, N, C, S, gamma, beta, 1e-5, y, mean, inv);
    const dx = new Float32Array(n), dg = new Float32Array(C), db = new Float32Array(C);
    js.batchNormBackward(x, r, N, C, S, gamma, mean, inv, dx, dg, db);
    for (const i of [0, 7, 13, 29]) {
      const xp = new Float32Array(x); xp[i] += 1e-2;
      const xm = new Float32Array(x); xm[i] -= 1e-2;
      expect(dx[i]).toBeCloseTo((loss(xp) - loss(xm)) / 2e-2, 2);
    }
  });

  it("neuron forward: LIF hard reset by hand", () => {
    const x = Float32Array.of(0.6, 0.6, 0.6, 0.6, 2.5, 0); // T=3, M=2
    const s = new Float32Array(6), u = new Float32Array(6), h = new Float32Array(6);
    js.neuronForward(x, s, u, h, { T: 3, M: 2, theta: 1, tau: 0.5, hardReset: true, v0: 0, surrogate: 0, surrogateParam: 1 });
    // neuron 0: H=0.6, V=0.3, H=0.9 (0.3+0.6), V=0.45, H=2.95 spike
    [0.6, 0.6, 0.9, 0.9, 2.95, 0.45].forEach((v, i) => expect(h[i]).toBeCloseTo(v, 6));
    expect(Array.from(s)).toEqual([0, 0, 0, 0, 1, 0]);
  });
});
