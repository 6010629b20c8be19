import { describe, expect, it } from "vitest";
import { Tensor, avgPool2d, maxPool2d, adaptiveAvgPool2d, batchNorm, sum, mul, noGrad } from "../../src/engine/index.js";
import { expectClose, expectShapeError, gradcheck, rand, randn } from "../helpers/gradcheck.js";
import { pool2dRef } from "../helpers/reference.js";

/** Distinct values (a shuffled ramp) so that max pooling has no ties and finite differences are exact. */
function distinct(shape: number[], seed: number, requiresGrad = false): Tensor {
  const r = rand(shape, seed);
  const order = Array.from(r.data.keys()).sort((a, b) => r.data[a]! - r.data[b]!);
  const d = new Float32Array(r.size);
  order.forEach((idx, rank) => (d[idx] = (rank - r.size / 2) * 0.1));
  return new Tensor(d, shape, requiresGrad);
}

describe("pooling", () => {
  const cfgs: [number, number | undefined, number][] = [[2, undefined, 0], [3, 2, 1], [3, 1, 1], [2, 1, 0]];
  for (const [k, s, pad] of cfgs) {
    it(`maxPool2d / avgPool2d k=${k} s=${s ?? k} p=${pad}`, () => {
      const x = distinct([2, 3, 7, 6], 1);
      const stride = s ?? k;
      const ym = maxPool2d(x, k, s, pad);
      const ya = avgPool2d(x, k, s, pad);
      const oh = Math.floor((7 + 2 * pad - k) / stride) + 1;
      const ow = Math.floor((6 + 2 * pad - k) / stride) + 1;
      expect(ym.shape).toEqual([2, 3, oh, ow]);
      expect(ya.shape).toEqual([2, 3, oh, ow]);
      expectClose(ym.data, pool2dRef(x.data, 6, 7, 6, k, stride, pad, "max"));
      expectClose(ya.data, pool2dRef(x.data, 6, 7, 6, k, stride, pad, "avg"), 1e-5);
      gradcheck((a) => maxPool2d(a!, k, s, pad), [distinct([1, 2, 5, 6], 2, true)], { maxElems: 64 });
      gradcheck((a) => avgPool2d(a!, k, s, pad), [randn([1, 2, 5, 6], 3, true)], { maxElems: 64 });
    });
  }
  it("rectangular kernel given as a pair", () => {
    const x = randn([1, 1, 4, 6], 1);
    const y = avgPool2d(x, [2, 3]);
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(y.data[0]).toBeCloseTo((x.data[0]! + x.data[1]! + x.data[2]! + x.data[6]! + x.data[7]! + x.data[8]!) / 6, 5);
    expect(maxPool2d(x, [2, 3], [2, 3]).shape).toEqual([1, 1, 2, 2]);
  });
  it("maxPool2d sends the gradient to one cell per window", () => {
    const x = Tensor.from([1, 5, 2, 3, 4, 0, 9, 8, 7, 6, 1, 2, 3, 4, 5, 6], [1, 1, 4, 4], true);
    const y = maxPool2d(x, 2);
    expectClose(y.data, [5, 9, 7, 6]);
    sum(mul(y, Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]))).backward();
    expectClose(x.grad!.data, [0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 0, 4]);
  });
  it("adaptiveAvgPool2d: global and non-divisible output sizes (PyTorch windows)", () => {
    const x = randn([2, 3, 5, 7], 1);
    const g = adaptiveAvgPool2d(x, 1);
    expect(g.shape).toEqual([2, 3, 1, 1]);
    for (let p = 0; p < 6; p++) {
      let s = 0;
      for (let i = 0; i < 35; i++) s += x.data[p * 35 + i]!;
      expect(g.data[p]).toBeCloseTo(s / 35, 5);
    }
    const a = adaptiveAvgPool2d(x, [2, 3]);
    expect(a.shape).toEqual([2, 3, 2, 3]);
    // window rows: [0,3) and [2,5); cols [0,3), [2,5), [4,7)
    let s = 0;
    for (let r = 2; r < 5; r++) for (let c = 2; c < 5; c++) s += x.data[r * 7 + c]!;
    expect(a.data[4]).toBeCloseTo(s / 9, 5);
    gradcheck((q) => adaptiveAvgPool2d(q!), [randn([2, 2, 3, 3], 2, true)]);
    gradcheck((q) => adaptiveAvgPool2d(q!, [2, 3]), [randn([1, 2, 5, 7], 3, true)]);
  });
  it("errors", () => {
    const x = randn([2, 3, 4, 4], 1);
    expectShapeError(() => maxPool2d(randn([3, 4, 4], 1), 2), "maxPool2d", "[3, 4, 4]");
    expectShapeError(() => avgPool2d(x, 5), "avgPool2d", "larger", "[2, 3, 4, 4]");
    expectShapeError(() => maxPool2d(x, 2, 2, 2), "maxPool2d", "padding", "half");
    expectShapeError(() => avgPool2d(x, 0), "avgPool2d", "kernel");
    expectShapeError(() => maxPool2d(x, 2, 0), "maxPool2d", "stride");
    expectShapeError(() => adaptiveAvgPool2d(x, 0), "adaptiveAvgPool2d", "outputSize");
    expectShapeError(() => adaptiveAvgPool2d(randn([4, 4], 1)), "adaptiveAvgPool2d", "[4, 4]");
  });
});

/** Independent float64 batch norm (training statistics). */
function bnRef(x: Tensor, gamma: Float32Array | null, beta: Float32Array | null, eps: number) {
  const [N, C] = x.shape as [number, number];
  const S = x.size / (N * C);
  const y = new Float64Array(x.size);
  const means: number[] = [];
  const vars: number[] = [];
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) m += x.data[(n * C + c) * S + i]!;
    m /= N * S;
    let v = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) v += (x.data[(n * C + c) * S + i]! - m) ** 2;
    v /= N * S;
    means.push(m);
    vars.push(v);
    for (let n = 0; n < N; n++) for (let i = 0; i < S; i++) {
      const j = (n * C + c) * S + i;
      y[j] = ((x.data[j]! - m) / Math.sqrt(v + eps)) * (gamma ? gamma[c]! : 1) + (beta ? beta[c]! : 0);
    }
  }
  return { y, means, vars, count: N * S };
}

describe("max pooling on blocked16 activations", () => {
  it("stays blocked and gives the plain layout's values and gradient", () => {
    const xp = randn([2, 32, 6, 5], 11, true);
    const xb = new Tensor(xp.toLayout("blocked16").storage, xp.shape, true, "blocked16");
    const yp = maxPool2d(xp, 3, 2, 1);
    const yb = maxPool2d(xb, 3, 2, 1);
    expect(yb.layout).toBe("blocked16");
    expect(Array.from(yb.data)).toEqual(Array.from(yp.data));
    const w = randn(yp.shape, 12);
    sum(mul(yp, w)).backward();
    sum(mul(yb, w)).backward();
    expect(Array.from(xb.grad!.data)).toEqual(Array.from(xp.grad!.data));
  });
});

describe("batchNorm", () => {
  it("training: batch statistics, running stats updated in place (unbiased variance, momentum)", () => {
    const x = randn([4, 3, 2, 5], 1, false, 2);
    const gamma = rand([3], 2, 0.5, 1.5);
    const beta = randn([3], 3);
    const rm = Tensor.from([0.5, -0.5, 0]);
    const rv = Tensor.from([1, 2, 3]);
    const y = batchNorm(x, gamma, beta, rm, rv, { training: true, momentum: 0.2 });
    const ref = bnRef(x, gamma.data, beta.data, 1e-5);
    expect(y.shape).toEqual([4, 3, 2, 5]);
    expectClose(y.data, ref.y, 1e-4);
    const unb = ref.vars.map((v) => (v * ref.count) / (ref.count - 1));
    expectClose(rm.data, [0.5, -0.5, 0].map((m, c) => 0.8 * m + 0.2 * ref.means[c]!), 1e-5);
    expectClose(rv.data, [1, 2, 3].map((v, c) => 0.8 * v + 0.2 * unb[c]!), 1e-4);
  });
  it("training on 2-D [N, C] and without affine / running stats", () => {
    const x = randn([6, 4], 2);
    expectClose(batchNorm(x, null, null, null, null, { training: true }).data, bnRef(x, null, null, 1e-5).y, 1e-4);
  });
  it("training gradients for x, gamma, beta", () => {
    gradcheck((x, g, b) => batchNorm(x!, g!, b!, null, null, { training: true }),
      [randn([3, 2, 2, 2], 4, true), rand([2], 5, 0.5, 1.5, true), randn([2], 6, true)], { maxElems: 24 });
    gradcheck((x) => batchNorm(x!, null, null, null, null, { training: true, eps: 1e-3 }), [randn([5, 3], 7, true)]);
    gradcheck((x, g, b) => mul(batchNorm(x!, g!, b!, null, null, { training: true }), 1),
      [randn([8, 4, 5, 5], 8, true), rand([4], 9, 0.5, 1.5, true), randn([4], 10, true)]);
  });
  it("eval: running statistics as a per-channel affine map, with gradients", () => {
    const x = randn([2, 3, 4], 1);
    const gamma = rand([3], 2, 0.5, 1.5);
    const beta = randn([3], 3);
    const rm = Tensor.from([0.1, -0.2, 0.3]);
    const rv = Tensor.from([0.5, 1.5, 2]);
    const y = batchNorm(x, gamma, beta, rm, rv, { training: false });
    for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) for (let i = 0; i < 4; i++) {
      const j = (n * 3 + c) * 4 + i;
      expect(y.data[j]).toBeCloseTo(((x.data[j]! - rm.data[c]!) / Math.sqrt(rv.data[c]! + 1e-5)) * gamma.data[c]! + beta.data[c]!, 5);
    }
    expectClose(rm.data, [0.1, -0.2, 0.3]); // untouched in eval
    gradcheck((xx, g, b) => batchNorm(xx!, g!, b!, rm, rv, { training: false }),
      [randn([2, 3, 4], 4, true), rand([3], 5, 0.5, 1.5, true), randn([3], 6, true)]);
    // default is eval (PyTorch functional): running stats untouched
    batchNorm(x, null, null, rm, rv);
    expectClose(rv.data, [0.5, 1.5, 2]);
  });
  it("eval without running stats uses batch statistics", () => {
    const x = randn([4, 2, 3], 1);
    expectClose(batchNorm(x, null, null, null, null).data, bnRef(x, null, null, 1e-5).y, 1e-4);
  });
  it("running stats converge to the data statistics under repeated training steps", () => {
    const x = randn([64, 2], 11, false, 3);
    const rm = Tensor.zeros([2]);
    const rv = Tensor.ones([2]);
    noGrad(() => { for (let i = 0; i < 200; i++) batchNorm(x, null, null, rm, rv, { training: true }); });
    const ref = bnRef(x, null, null, 1e-5);
    expectClose(rm.data, ref.means, 1e-4);
    expectClose(rv.data, ref.vars.map((v) => (v * 64) / 63), 1e-4);
  });
  it("errors", () => {
    const x = randn([2, 3, 4], 1);
    expectShapeError(() => batchNorm(randn([3], 1), null, null, null, null), "batchNorm", "[3]");
    expectShapeError(() => batchNorm(x, randn([4], 1), null, null, null), "batchNorm", "gamma [4]", "[2, 3, 4]");
    expectShapeError(() => batchNorm(x, null, null, randn([3], 1), null), "batchNorm", "together");
    expectShapeError(() => batchNorm(randn([1, 3], 1), null, null, null, null, { training: true }), "batchNorm", "more than one", "[1, 3]");
    expectShapeError(() => batchNorm(x, null, null, null, null, { momentum: 2 }), "batchNorm", "momentum");
    expectShapeError(() => batchNorm(x, null, null, null, null, { eps: 0 }), "batchNorm", "eps");
  });
});
