import { describe, expect, it } from "vitest";
import { Tensor, matmul, linear, conv2d, sum, mul } from "../../src/engine/index.js";
import { Rng } from "../../src/engine/index.js";
import { expectClose, expectShapeError, gradcheck, randn } from "../helpers/gradcheck.js";
import { conv2dBackwardRef, conv2dRef, matmulRef } from "../helpers/reference.js";

describe("matmul", () => {
  it("2-D forward against a float64 reference, and gradients", () => {
    const a = randn([5, 7], 1);
    const b = randn([7, 3], 2);
    const y = matmul(a, b);
    expect(y.shape).toEqual([5, 3]);
    expectClose(y.data, matmulRef(a.data, b.data, 5, 7, 3), 1e-5);
    expectClose(matmul(Tensor.from([[1, 2], [3, 4]]), Tensor.from([[5, 6], [7, 8]])).data, [19, 22, 43, 50]);
    gradcheck((p, q) => matmul(p!, q!), [randn([4, 6], 3, true), randn([6, 5], 4, true)]);
  });
  it("leading dims on a fold into M", () => {
    const a = randn([2, 3, 4, 5], 5);
    const b = randn([5, 6], 6);
    const y = matmul(a, b);
    expect(y.shape).toEqual([2, 3, 4, 6]);
    expectClose(y.data, matmulRef(a.data, b.data, 24, 5, 6), 1e-5);
    gradcheck((p, q) => matmul(p!, q!), [randn([2, 3, 4], 7, true), randn([4, 2], 8, true)]);
  });
  it("batched with identical leading dims", () => {
    const a = randn([3, 2, 4], 9);
    const b = randn([3, 4, 5], 10);
    const y = matmul(a, b);
    expect(y.shape).toEqual([3, 2, 5]);
    for (let i = 0; i < 3; i++) {
      expectClose(y.data.subarray(i * 10, (i + 1) * 10), matmulRef(a.data.subarray(i * 8), b.data.subarray(i * 20), 2, 4, 5), 1e-5);
    }
    gradcheck((p, q) => matmul(p!, q!), [randn([3, 2, 4], 11, true), randn([3, 4, 5], 12, true)]);
  });
  it("big matmul gradient via random directions", () => {
    gradcheck((p, q) => matmul(p!, q!), [randn([32, 48], 13, true), randn([48, 24], 14, true)]);
  });
  it("errors", () => {
    expectShapeError(() => matmul(randn([2, 3], 1), randn([4, 5], 1)), "matmul", "[2, 3]", "[4, 5]");
    expectShapeError(() => matmul(randn([3], 1), randn([3, 5], 1)), "matmul", "[3]");
    expectShapeError(() => matmul(randn([2, 2, 3], 1), randn([3, 3, 5], 1)), "matmul", "[2, 2, 3]", "[3, 3, 5]");
    expectShapeError(() => matmul(randn([2, 3], 1), [1] as unknown as Tensor), "matmul", "argument b");
  });
});

describe("linear", () => {
  it("forward with and without bias, leading dims", () => {
    const x = randn([4, 6], 1);
    const w = randn([3, 6], 2);
    const b = randn([3], 3);
    const y = linear(x, w, b);
    expect(y.shape).toEqual([4, 3]);
    for (let n = 0; n < 4; n++) for (let o = 0; o < 3; o++) {
      let s = b.data[o]!;
      for (let i = 0; i < 6; i++) s += x.data[n * 6 + i]! * w.data[o * 6 + i]!;
      expect(y.data[n * 3 + o]).toBeCloseTo(s, 5);
    }
    const y2 = linear(x, w);
    for (let i = 0; i < y2.size; i++) expect(y2.data[i]).toBeCloseTo(y.data[i]! - b.data[i % 3]!, 5);
    expect(linear(randn([2, 5, 6], 4), w, null).shape).toEqual([2, 5, 3]);
  });
  it("gradients for x, w, b (including b only, and x not requiring grad)", () => {
    gradcheck((x, w, b) => linear(x!, w!, b!), [randn([4, 6], 1, true), randn([3, 6], 2, true), randn([3], 3, true)]);
    gradcheck((x, w) => linear(x!, w!), [randn([2, 3, 6], 1), randn([3, 6], 2, true)]);
    gradcheck((x, w, b) => linear(x!, w!, b!), [randn([4, 6], 1), randn([3, 6], 2), randn([3], 3, true)]);
    gradcheck((x, w, b) => linear(x!, w!, b!), [randn([16, 40], 4, true), randn([24, 40], 5, true), randn([24], 6, true)]);
  });
  it("errors", () => {
    expectShapeError(() => linear(randn([4, 5], 1), randn([3, 6], 1)), "linear", "[4, 5]", "[3, 6]");
    expectShapeError(() => linear(randn([4, 6], 1), randn([3, 6], 1), randn([4], 1)), "linear", "bias [4]", "[3, 6]");
    expectShapeError(() => linear(randn([4, 6], 1), randn([6], 1)), "linear", "[6]");
  });
});

describe("conv2d", () => {
  const cases = [
    { name: "3x3 pad 1", n: 2, c: 3, h: 6, w: 5, k: 4, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, groups: 1 },
    { name: "stride 2, no pad", n: 1, c: 2, h: 7, w: 7, k: 3, kh: 3, kw: 3, sh: 2, sw: 2, ph: 0, pw: 0, groups: 1 },
    { name: "rect kernel, mixed stride/pad", n: 2, c: 2, h: 6, w: 7, k: 2, kh: 2, kw: 3, sh: 1, sw: 2, ph: 1, pw: 0, groups: 1 },
    { name: "groups 2", n: 2, c: 4, h: 5, w: 5, k: 6, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, groups: 2 },
    { name: "depthwise", n: 1, c: 3, h: 5, w: 4, k: 3, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, groups: 3 },
    { name: "1x1", n: 2, c: 5, h: 3, w: 3, k: 4, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, groups: 1 },
  ];
  for (const p of cases) {
    it(`${p.name}: forward against a direct float64 reference, gradients`, () => {
      const x = randn([p.n, p.c, p.h, p.w], 1);
      const w = randn([p.k, p.c / p.groups, p.kh, p.kw], 2, false, 0.5);
      const b = randn([p.k], 3);
      const opts = { stride: [p.sh, p.sw] as [number, number], padding: [p.ph, p.pw] as [number, number], groups: p.groups };
      const y = conv2d(x, w, b, opts);
      const ref = conv2dRef(x.data, w.data, b.data, p);
      expect(y.shape).toEqual([p.n, p.k, ref.oh, ref.ow]);
      expectClose(y.data, ref.y, 1e-5);
      // exact gradients against the direct float64 adjoint loops
      const xg = randn([p.n, p.c, p.h, p.w], 1, true);
      const wg = randn([p.k, p.c / p.groups, p.kh, p.kw], 2, true, 0.5);
      const bg = randn([p.k], 3, true);
      const gy = Tensor.randn(y.shape, new Rng(7));
      conv2d(xg, wg, bg, opts).backward(gy);
      const gr = conv2dBackwardRef(xg.data, wg.data, gy.data, p);
      expectClose(xg.grad!.data, gr.dx, 1e-4, "dx");
      expectClose(wg.grad!.data, gr.dw, 1e-4, "dw");
      expectClose(bg.grad!.data, gr.db, 1e-4, "db");
      gradcheck((xx, ww, bb) => conv2d(xx!, ww!, bb!, opts), [
        randn([p.n, p.c, p.h, p.w], 4, true), randn([p.k, p.c / p.groups, p.kh, p.kw], 5, true, 0.5), randn([p.k], 6, true),
      ], { maxElems: 24 });
    });
  }
  it("number options, no bias, scalar stride/padding", () => {
    const x = randn([1, 2, 5, 5], 1);
    const w = randn([3, 2, 3, 3], 2);
    const y = conv2d(x, w, null, { stride: 2, padding: 1 });
    expect(y.shape).toEqual([1, 3, 3, 3]);
    expectClose(y.data, conv2dRef(x.data, w.data, null, { n: 1, c: 2, h: 5, w: 5, k: 3, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, groups: 1 }).y, 1e-5);
    expect(conv2d(x, w).shape).toEqual([1, 3, 3, 3]);
  });
  it("first layer (input without grad): dw and db only, dx skipped", () => {
    const x = randn([2, 1, 6, 6], 1);
    const w = randn([4, 1, 3, 3], 2, true);
    const b = randn([4], 3, true);
    sum(conv2d(x, w, b, { padding: 1 })).backward();
    expect(x.grad).toBeNull();
    expect(w.grad).not.toBeNull();
    gradcheck((ww, bb) => conv2d(x, ww!, bb!, { padding: 1 }), [randn([4, 1, 3, 3], 2, true), randn([4], 3, true)]);
    // bias only
    gradcheck((bb) => conv2d(x, w.detach(), bb!, { padding: 1 }), [randn([4], 3, true)]);
  });
  it("bigger conv gradient via random directions", () => {
    gradcheck((xx, ww) => mul(conv2d(xx!, ww!, null, { padding: 1 }), 0.5), [randn([2, 8, 8, 8], 7, true), randn([8, 8, 3, 3], 8, true, 0.2)]);
  });
  it("errors name conv2d and the shapes", () => {
    const x = randn([2, 4, 6, 6], 1);
    expectShapeError(() => conv2d(randn([4, 6, 6], 1), randn([2, 4, 3, 3], 1)), "conv2d", "[4, 6, 6]");
    expectShapeError(() => conv2d(x, randn([2, 3, 3, 3], 1)), "conv2d", "[2, 3, 3, 3]", "[2, 4, 6, 6]");
    expectShapeError(() => conv2d(x, randn([3, 2, 3, 3], 1), null, { groups: 2 }), "conv2d", "groups=2");
    expectShapeError(() => conv2d(x, randn([2, 4, 3, 3], 1), randn([3], 1)), "conv2d", "bias [3]");
    expectShapeError(() => conv2d(x, randn([2, 4, 7, 7], 1)), "conv2d", "larger", "[2, 4, 6, 6]");
    expectShapeError(() => conv2d(x, randn([2, 4, 3, 3], 1), null, { stride: 0 }), "conv2d", "stride");
    expectShapeError(() => conv2d(x, randn([2, 4, 3, 3], 1), null, { padding: -1 }), "conv2d", "padding");
    expectShapeError(() => conv2d(x, randn([2, 4, 3, 3], 1), null, { stride: [1, 1.5] as [number, number] }), "conv2d", "stride");
    expectShapeError(() => conv2d(x, randn([2, 4, 3, 3], 1), null, { groups: 0 }), "conv2d", "groups");
  });
});
