import { describe, expect, it } from "vitest";
import {
  Tensor, Rng, softmax, logSoftmax, crossEntropy, mseLoss, dropout, topk, sum, mul, noGrad,
} from "../../src/engine/index.js";
import { expectClose, expectShapeError, gradcheck, randn } from "../helpers/gradcheck.js";

function softmaxRef(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((p, x) => p + x, 0);
  return e.map((x) => x / s);
}

describe("softmax / logSoftmax", () => {
  it("forward on the last axis and on a middle axis", () => {
    const x = randn([3, 4], 1, false, 3);
    const y = softmax(x);
    for (let r = 0; r < 3; r++) expectClose(y.data.subarray(r * 4, r * 4 + 4), softmaxRef(Array.from(x.data.subarray(r * 4, r * 4 + 4))), 1e-6);
    const ly = logSoftmax(x);
    for (let i = 0; i < 12; i++) expect(ly.data[i]).toBeCloseTo(Math.log(y.data[i]!), 5);
    const z = randn([2, 3, 4], 2);
    const s1 = softmax(z, 1);
    for (let a = 0; a < 2; a++) for (let c = 0; c < 4; c++) {
      const col = [0, 1, 2].map((b) => z.data[(a * 3 + b) * 4 + c]!);
      expectClose([0, 1, 2].map((b) => s1.data[(a * 3 + b) * 4 + c]!), softmaxRef(col), 1e-6);
    }
  });
  it("is stable for large logits", () => {
    const y = softmax(Tensor.from([[1000, 1000, -1000]]));
    expectClose(y.data, [0.5, 0.5, 0]);
    const l = logSoftmax(Tensor.from([[1000, 0]]));
    expectClose(l.data, [0, -1000]);
  });
  it("gradients", () => {
    gradcheck((a) => softmax(a!), [randn([3, 5], 3, true)]);
    gradcheck((a) => softmax(a!, 0), [randn([3, 5], 4, true)]);
    gradcheck((a) => logSoftmax(a!), [randn([3, 5], 5, true)]);
    gradcheck((a) => logSoftmax(a!, 1), [randn([2, 4, 3], 6, true)]);
  });
  it("errors", () => {
    expectShapeError(() => softmax(randn([2, 3], 1), 2), "softmax", "axis 2");
    expectShapeError(() => logSoftmax(Tensor.scalar(1)), "logSoftmax", "[]");
  });
});

describe("crossEntropy", () => {
  const logits = Tensor.from([[2, 1, 0.1], [0.5, 2.5, -1], [0, 0, 0], [1, -1, 3]]);
  const labels = [0, 1, 2, 2];
  const ceRef = (eps: number): number[] =>
    labels.map((y, i) => {
      const p = softmaxRef(Array.from(logits.data.subarray(i * 3, i * 3 + 3)));
      return -p.reduce((s, pk, k) => s + ((k === y ? 1 - eps : 0) + eps / 3) * Math.log(pk), 0);
    });
  it("forward with every reduction, with and without label smoothing", () => {
    for (const eps of [0, 0.1]) {
      const ref = ceRef(eps);
      expectClose(crossEntropy(logits, labels, { labelSmoothing: eps, reduction: "none" }).data, ref, 1e-6);
      expect(crossEntropy(logits, Int32Array.from(labels), { labelSmoothing: eps }).item()).toBeCloseTo(ref.reduce((a, b) => a + b) / 4, 5);
      expect(crossEntropy(logits, labels, { labelSmoothing: eps, reduction: "sum" }).item()).toBeCloseTo(ref.reduce((a, b) => a + b), 5);
    }
    expect(crossEntropy(logits, labels).shape).toEqual([]);
    expect(crossEntropy(logits, labels, { reduction: "none" }).shape).toEqual([4]);
  });
  it("gradients (mean, sum, none; smoothing)", () => {
    for (const reduction of ["mean", "sum", "none"] as const) {
      for (const labelSmoothing of [0, 0.2]) {
        gradcheck((a) => crossEntropy(a!, labels, { reduction, labelSmoothing }), [randn([4, 3], 7, true)]);
      }
    }
    gradcheck((a) => crossEntropy(a!, Array.from({ length: 16 }, (_, i) => i % 10)), [randn([16, 10], 8, true)]);
  });
  it("mean gradient equals (softmax - onehot) / N", () => {
    const l = Tensor.from([[1, 2], [3, 0]], undefined, true);
    crossEntropy(l, [1, 0]).backward();
    const p0 = softmaxRef([1, 2]);
    const p1 = softmaxRef([3, 0]);
    expectClose(l.grad!.data, [p0[0]! / 2, (p0[1]! - 1) / 2, (p1[0]! - 1) / 2, p1[1]! / 2], 1e-6);
  });
  it("errors: shapes, label count, non-integer and out-of-range labels, options", () => {
    expectShapeError(() => crossEntropy(randn([4], 1), [0]), "crossEntropy", "[4]");
    expectShapeError(() => crossEntropy(logits, [0, 1, 2]), "crossEntropy", "3 labels", "[4, 3]");
    expectShapeError(() => crossEntropy(logits, [0, 1.5, 2, 0]), "crossEntropy", "label 1", "1.5", "[4, 3]");
    expectShapeError(() => crossEntropy(logits, [0, 1, 3, 0]), "crossEntropy", "label 2", "out of range", "[4, 3]");
    expectShapeError(() => crossEntropy(logits, [0, -1, 0, 0]), "crossEntropy", "label 1", "-1");
    expectShapeError(() => crossEntropy(logits, "0123" as unknown as number[]), "crossEntropy", "labels");
    expectShapeError(() => crossEntropy(logits, labels, { labelSmoothing: 1.5 }), "crossEntropy", "labelSmoothing");
    expectShapeError(() => crossEntropy(logits, labels, { reduction: "avg" as "mean" }), "crossEntropy", "reduction");
  });
});

describe("mseLoss", () => {
  it("forward and gradients, tensor and number targets, broadcasting", () => {
    const a = Tensor.from([1, 2, 3]);
    const b = Tensor.from([1.5, 2, 1]);
    expect(mseLoss(a, b).item()).toBeCloseTo((0.25 + 0 + 4) / 3, 6);
    expect(mseLoss(a, b, "sum").item()).toBeCloseTo(4.25, 6);
    expectClose(mseLoss(a, b, "none").data, [0.25, 0, 4]);
    expect(mseLoss(a, 1).item()).toBeCloseTo((0 + 1 + 4) / 3, 6);
    for (const r of ["mean", "sum", "none"] as const) {
      gradcheck((p, q) => mseLoss(p!, q!, r), [randn([3, 4], 1, true), randn([3, 4], 2, true)]);
    }
    gradcheck((p, q) => mseLoss(p!, q!), [randn([3, 4], 3, true), randn([4], 4, true)]);
    gradcheck((p) => mseLoss(p!, 0.5), [randn([5], 5, true)]);
  });
  it("errors", () => {
    expectShapeError(() => mseLoss(randn([3], 1), randn([4], 1)), "mseLoss", "[3]", "[4]");
    expectShapeError(() => mseLoss(randn([3], 1), randn([3], 1), "max" as "mean"), "mseLoss", "reduction");
  });
});

describe("dropout", () => {
  it("identity when not training or p = 0; zeros for p = 1", () => {
    const x = randn([4, 5], 1);
    expect(dropout(x, 0.5, false)).toBe(x);
    expect(dropout(x, 0, true)).toBe(x);
    expectClose(dropout(x, 1, true).data, new Array(20).fill(0));
  });
  it("inverted scaling, seeded masks, gradient through the same mask", () => {
    const x = Tensor.ones([100, 100], true);
    const y = dropout(x, 0.3, true, new Rng(5));
    let kept = 0;
    for (const v of y.data) {
      if (v !== 0) {
        kept++;
        expect(v).toBeCloseTo(1 / 0.7, 6);
      }
    }
    expect(kept / 1e4).toBeGreaterThan(0.67);
    expect(kept / 1e4).toBeLessThan(0.73);
    const y2 = dropout(x, 0.3, true, new Rng(5));
    expectClose(y2.data, y.data);
    sum(mul(y, 2)).backward();
    for (let i = 0; i < y.size; i++) expect(x.grad!.data[i]).toBeCloseTo(2 * y.data[i]!, 5);
  });
  it("a blocked16 input stays blocked and loses the same elements as its plain twin, forward and backward", () => {
    const xp = Tensor.randn([3, 32, 5, 4], new Rng(2), 1, true);
    const xb = new Tensor(xp.toLayout("blocked16").storage, xp.shape, true, "blocked16");
    const yp = dropout(xp, 0.4, true, new Rng(9));
    const yb = dropout(xb, 0.4, true, new Rng(9));
    expect(yb.layout).toBe("blocked16");
    expect(Array.from(yb.data)).toEqual(Array.from(yp.data));
    const w = Tensor.randn(xp.shape, new Rng(3));
    sum(mul(yp, w)).backward();
    sum(mul(yb, w)).backward();
    expect(Array.from(xb.grad!.data)).toEqual(Array.from(xp.grad!.data));
  });
  it("errors", () => {
    expectShapeError(() => dropout(randn([2], 1), 1.5, true), "dropout", "[2]");
    expectShapeError(() => dropout(randn([2], 1), 0.5, true, {} as Rng), "dropout", "rng");
    expectShapeError(() => dropout(randn([2], 1), 0.5, 1 as unknown as boolean), "dropout", "training", "[2]");
  });
});

describe("topk", () => {
  it("values sorted descending, indices, ties by lower index, gradient scattered", () => {
    const x = Tensor.from([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]], undefined, true);
    const { values, indices } = topk(x, 3);
    expect(values.shape).toEqual([2, 3]);
    expectClose(values.data, [5, 4, 3, 9, 6, 5]);
    expect(Array.from(indices)).toEqual([4, 2, 0, 0, 2, 3]);
    sum(mul(values, Tensor.from([[1, 2, 3], [4, 5, 6]]))).backward();
    expectClose(x.grad!.data, [3, 0, 2, 0, 1, 4, 0, 5, 6, 0]);
    const t = topk(Tensor.from([2, 7, 7, 1]), 2);
    expect(Array.from(t.indices)).toEqual([1, 2]);
    expect(Array.from(topk(Tensor.from([2, 7, 7, 1]), 1).indices)).toEqual([1]);
    expect(topk(randn([2, 3, 4], 1), 4).values.shape).toEqual([2, 3, 4]);
    expect(topk(randn([2, 3], 1), 0).values.shape).toEqual([2, 0]);
    // NaN ranks first (PyTorch), through the sorting fallback
    const nan = topk(Tensor.from([1, Number.NaN, 3]), 2);
    expect(Number.isNaN(nan.values.data[0]!)).toBe(true);
    expect(Array.from(nan.indices)).toEqual([1, 2]);
    // k above the insertion fast path's limit
    const big = randn([3, 40], 9);
    const t20 = topk(big, 20);
    for (let row = 0; row < 3; row++) {
      const sorted = Array.from(big.data.subarray(row * 40, row * 40 + 40)).sort((p, q) => q - p).slice(0, 20);
      expectClose(t20.values.data.subarray(row * 20, row * 20 + 20), sorted);
    }
  });
  it("gradients", () => {
    gradcheck((a) => topk(a!, 2).values, [randn([3, 6], 2, true)]);
    gradcheck((a) => topk(a!, 1).values, [randn([4, 5], 3, true)]);
  });
  it("agrees with a full sort on random data", () => {
    const x = randn([5, 50], 4);
    const { values, indices } = noGrad(() => topk(x, 10));
    for (let r = 0; r < 5; r++) {
      const row = Array.from(x.data.subarray(r * 50, r * 50 + 50));
      const sorted = row.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 10);
      expectClose(values.data.subarray(r * 10, r * 10 + 10), sorted.map((s) => s[0]));
      expect(Array.from(indices.subarray(r * 10, r * 10 + 10))).toEqual(sorted.map((s) => s[1]));
    }
  });
  it("errors", () => {
    expectShapeError(() => topk(randn([2, 3], 1), 4), "topk", "k=4", "[2, 3]");
    expectShapeError(() => topk(randn([2, 3], 1), 1.5), "topk", "[2, 3]");
    expectShapeError(() => topk(Tensor.scalar(1), 1), "topk", "[]");
  });
});
