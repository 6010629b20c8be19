import { describe, expect, it } from "vitest";
import {
  Tensor, sum, mean, max, argmax, transpose, permute, concat, stack, repeatTime, mul,
} from "../../src/engine/index.js";
import { expectClose, expectShapeError, gradcheck, randn } from "../helpers/gradcheck.js";

/** Independent float64 reduction over a [2,3,4] tensor via explicit indices. */
function reduceRef(x: Tensor, axes: number[], op: "sum" | "max"): number[] {
  const [A, B, C] = x.shape as [number, number, number];
  const out = new Map<string, number>();
  for (let i = 0; i < A; i++) for (let j = 0; j < B; j++) for (let k = 0; k < C; k++) {
    const key = [i, j, k].map((v, d) => (axes.includes(d) ? 0 : v)).join(",");
    const v = x.data[(i * B + j) * C + k]!;
    const prev = out.get(key);
    out.set(key, prev === undefined ? v : op === "sum" ? prev + v : Math.max(prev, v));
  }
  return [...out.values()];
}

describe("sum / mean / max", () => {
  const x = randn([2, 3, 4], 1);
  const axesCases: (number | number[] | undefined)[] = [undefined, 0, 1, 2, -1, [0, 2], [0, 1], [1, 2], [0, 1, 2]];
  for (const axis of axesCases) {
    it(`axis=${JSON.stringify(axis)}: values, shapes, keepDims, gradients`, () => {
      const axes = axis === undefined ? [0, 1, 2] : (typeof axis === "number" ? [axis] : axis).map((a) => (a + 3) % 3);
      const count = axes.reduce((p, a) => p * x.shape[a]!, 1);
      const s = sum(x, axis);
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      expect(s.shape).toEqual(x.shape.filter((_, i) => !axes.includes(i)));
      expect(sum(x, axis, true).shape).toEqual(kept);
      expectClose(s.data, reduceRef(x, axes, "sum"), 1e-5);
      expectClose(mean(x, axis).data, reduceRef(x, axes, "sum").map((v) => v / count), 1e-5);
      expectClose(max(x, axis, true).data, reduceRef(x, axes, "max"));
      expect(max(x, axis, true).shape).toEqual(kept);
      gradcheck((a) => sum(a!, axis), [randn([2, 3, 4], 2, true)]);
      gradcheck((a) => mean(a!, axis, true), [randn([2, 3, 4], 3, true)]);
      gradcheck((a) => max(a!, axis), [randn([2, 3, 4], 4, true)]);
    });
  }
  it("whole-tensor reductions give a scalar []", () => {
    const y = sum(x);
    expect(y.shape).toEqual([]);
    expect(y.item()).toBeCloseTo(x.data.reduce((p, v) => p + v, 0), 4);
    expect(mean(Tensor.scalar(3)).item()).toBe(3);
  });
  it("max sends the gradient to the first maximum only", () => {
    const a = Tensor.from([[1, 3, 3], [2, 2, 0]], undefined, true);
    sum(max(a, 1)).backward();
    expectClose(a.grad!.data, [0, 1, 0, 1, 0, 0]);
    a.zeroGrad();
    max(a).backward();
    expectClose(a.grad!.data, [0, 1, 0, 0, 0, 0]);
  });
  it("argmax: first maximal index, any axis, no grad", () => {
    const a = Tensor.from([[1, 5, 5], [7, 2, 7]]);
    expect(Array.from(argmax(a))).toEqual([1, 0]);
    expect(Array.from(argmax(a, 0))).toEqual([1, 0, 1]);
    expect(Array.from(argmax(randn([3, 4, 5], 7), 1)).every((v) => v >= 0 && v < 4)).toBe(true);
    const r = randn([3, 4, 5], 7);
    const am = argmax(r, 1);
    for (let i = 0; i < 3; i++) for (let k = 0; k < 5; k++) {
      let best = 0;
      for (let j = 1; j < 4; j++) if (r.data[(i * 4 + j) * 5 + k]! > r.data[(i * 4 + best) * 5 + k]!) best = j;
      expect(am[i * 5 + k]).toBe(best);
    }
  });
  it("sum on a big tensor is accurate (float64 accumulation)", () => {
    const big = Tensor.full([1000, 100], 0.1);
    // whole-tensor sums run on the backend's sum kernel (float64 accumulation in js; the native kernel is
    // within ~3e-6 relative here); per-axis sums accumulate in float64 in TypeScript
    expect(Math.abs(sum(big).item() - 10000.000149011612) / 10000).toBeLessThan(1e-5);
    expectClose(sum(big, 0).data, new Array(100).fill(100.00000149011612), 1e-6);
  });
  it("errors name the op, the axis and the shape", () => {
    expectShapeError(() => sum(x, 3), "sum", "axis 3", "[2, 3, 4]");
    expectShapeError(() => mean(x, [0, 0]), "mean", "repeated", "[2, 3, 4]");
    expectShapeError(() => max(x, -4), "max", "[2, 3, 4]");
    expectShapeError(() => argmax(x, 5), "argmax", "axis 5");
    expectShapeError(() => sum(x, 1.5), "sum", "1.5");
    expectShapeError(() => max(Tensor.zeros([0, 3])), "max", "[0, 3]");
    expectShapeError(() => sum("x" as unknown as Tensor), "sum", "argument a");
  });
});

describe("transpose / permute", () => {
  it("transpose 2-D and batched, with gradients", () => {
    const a = Tensor.from([[1, 2, 3], [4, 5, 6]]);
    const t = transpose(a, 0, 1);
    expect(t.shape).toEqual([3, 2]);
    expectClose(t.data, [1, 4, 2, 5, 3, 6]);
    const b = randn([3, 37, 41], 1);
    const bt = transpose(b, -1, -2);
    expect(bt.shape).toEqual([3, 41, 37]);
    for (let i = 0; i < 3; i++) for (let r = 0; r < 37; r++) for (let c = 0; c < 41; c++) {
      if (bt.data[(i * 41 + c) * 37 + r] !== b.data[(i * 37 + r) * 41 + c]) throw new Error("transpose mismatch");
    }
    gradcheck((q) => transpose(q!, 0, 2), [randn([2, 3, 4], 2, true)]);
  });
  it("permute: general orders, identity, gradients", () => {
    const a = randn([2, 3, 4, 5], 3);
    const p = permute(a, [2, 0, 3, 1]);
    expect(p.shape).toEqual([4, 2, 5, 3]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) for (let l = 0; l < 5; l++) {
      expect(p.data[((k * 2 + i) * 5 + l) * 3 + j]).toBe(a.data[((i * 3 + j) * 4 + k) * 5 + l]);
    }
    const id = permute(a, [0, 1, 2, 3]);
    expect(id.data).not.toBe(a.data);
    expectClose(id.data, a.data);
    gradcheck((q) => permute(q!, [2, 0, 3, 1]), [randn([2, 3, 4, 5], 4, true)]);
    gradcheck((q) => permute(q!, [1, 0]), [randn([3, 4], 4, true)]);
  });
  it("errors", () => {
    const a = randn([2, 3], 1);
    expectShapeError(() => permute(a, [0]), "permute", "[2, 3]");
    expectShapeError(() => permute(a, [0, 0]), "permute", "repeat", "[2, 3]");
    expectShapeError(() => permute(a, [0, 2]), "permute", "out of range", "[2, 3]");
    expectShapeError(() => transpose(a, 0, 2), "transpose", "axis 2");
  });
});

describe("concat / stack / repeatTime / views", () => {
  it("concat along any axis, with gradients to each part", () => {
    const a = Tensor.from([[1, 2], [3, 4]]);
    const b = Tensor.from([[5, 6]]);
    expectClose(concat([a, b]).data, [1, 2, 3, 4, 5, 6]);
    expect(concat([a, b]).shape).toEqual([3, 2]);
    const c = Tensor.from([[7], [8]]);
    const y = concat([a, c], 1);
    expect(y.shape).toEqual([2, 3]);
    expectClose(y.data, [1, 2, 7, 3, 4, 8]);
    gradcheck((p, q, r) => concat([p!, q!, r!], 1), [randn([2, 1, 3], 1, true), randn([2, 2, 3], 2, true), randn([2, 3, 3], 3, true)]);
    gradcheck((p, q) => concat([p!, q!], 0), [randn([1, 3], 1, true), randn([2, 3], 2, true)]);
    // a part that does not require grad
    const k = randn([2, 2], 5);
    const w = randn([2, 2], 6, true);
    sum(mul(concat([k, w], -1), 2)).backward();
    expectClose(w.grad!.data, [2, 2, 2, 2]);
  });
  it("stack adds an axis", () => {
    const a = Tensor.from([1, 2, 3]);
    const b = Tensor.from([4, 5, 6]);
    expect(stack([a, b]).shape).toEqual([2, 3]);
    expectClose(stack([a, b]).data, [1, 2, 3, 4, 5, 6]);
    const s1 = stack([a, b], 1);
    expect(s1.shape).toEqual([3, 2]);
    expectClose(s1.data, [1, 4, 2, 5, 3, 6]);
    expect(stack([a, b], -1).shape).toEqual([3, 2]);
    gradcheck((p, q) => stack([p!, q!], 1), [randn([2, 3], 1, true), randn([2, 3], 2, true)]);
  });
  it("repeatTime [B,...] -> [T,B,...], backward sums over T", () => {
    const x = Tensor.from([[1, 2], [3, 4]], undefined, true);
    const y = repeatTime(x, 3);
    expect(y.shape).toEqual([3, 2, 2]);
    expectClose(y.data, [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    sum(y).backward();
    expectClose(x.grad!.data, [3, 3, 3, 3]);
    gradcheck((q) => repeatTime(q!, 4), [randn([2, 3], 2, true)]);
  });
  it("reshape / slice / index carry gradients", () => {
    gradcheck((q) => q!.reshape([3, -1]).slice(1), [randn([2, 6], 1, true)]);
    gradcheck((q) => q!.index(1), [randn([3, 4], 2, true)]);
    const m = Tensor.from([[1, 2], [3, 4], [5, 6]]);
    expectClose(m.index(-1).data, [5, 6]);
    expectClose(m.slice(-2).data, [3, 4, 5, 6]);
    expectShapeError(() => m.index(3), "index", "3", "[3, 2]");
    expectShapeError(() => m.index(-4), "index", "[3, 2]");
  });
  it("errors", () => {
    expectShapeError(() => concat([]), "concat");
    expectShapeError(() => concat([randn([2, 3], 1), randn([2, 4], 1)]), "concat", "[2, 3]", "[2, 4]");
    expectShapeError(() => concat([randn([2, 3], 1)], 2), "concat", "axis 2");
    expectShapeError(() => concat([randn([2], 1), 3 as unknown as Tensor]), "concat", "ts[1]");
    expectShapeError(() => stack([randn([2, 3], 1), randn([3, 2], 1)]), "stack", "[2, 3]", "[3, 2]");
    expectShapeError(() => repeatTime(randn([2], 1), 0), "repeatTime", "[2]");
    expectShapeError(() => randn([2, 3], 1).reshape([4, 2]), "reshape", "[2, 3]", "[4, 2]");
    expectShapeError(() => randn([2, 3], 1).slice(1, 5), "slice", "[2, 3]");
  });
});
