import { describe, expect, it } from "vitest";
import {
  Tensor, add, sub, mul, scaleBlocks, div, neg, exp, log, sqrt, pow, abs, relu, sigmoid, tanh, clamp, floorSte, where,
  maximum, minimum, sum, broadcastShapes,
} from "../../src/engine/index.js";
import { expectClose, expectShapeError, gradcheck, rand, randn } from "../helpers/gradcheck.js";

const X = [-1.5, -0.3, 0.2, 0.7, 1.9, 3.1];

function t(v: number[], shape: number[], rg = false): Tensor {
  return Tensor.from(v, shape, rg);
}

describe("binary ops: forward and broadcasting", () => {
  const a = t([1, 2, 3, 4, 5, 6], [2, 3]);
  it("same shape", () => {
    const b = t([6, 5, 4, 3, 2, 1], [2, 3]);
    expectClose(add(a, b).data, [7, 7, 7, 7, 7, 7]);
    expectClose(sub(a, b).data, [-5, -3, -1, 1, 3, 5]);
    expectClose(mul(a, b).data, [6, 10, 12, 12, 10, 6]);
    expectClose(div(a, b).data, [1 / 6, 2 / 5, 3 / 4, 4 / 3, 5 / 2, 6]);
    expectClose(maximum(a, b).data, [6, 5, 4, 4, 5, 6]);
    expectClose(minimum(a, b).data, [1, 2, 3, 3, 2, 1]);
  });
  it("plain numbers and scalar tensors on either side", () => {
    expectClose(add(a, 1).data, [2, 3, 4, 5, 6, 7]);
    expectClose(sub(10, a).data, [9, 8, 7, 6, 5, 4]);
    expectClose(mul(2, a).data, [2, 4, 6, 8, 10, 12]);
    expectClose(div(a, Tensor.scalar(2)).data, [0.5, 1, 1.5, 2, 2.5, 3]);
    expectClose(maximum(a, 3.5).data, [3.5, 3.5, 3.5, 4, 5, 6]);
    expectClose(minimum(3.5, a).data, [1, 2, 3, 3.5, 3.5, 3.5]);
    expect(add(a, 1).shape).toEqual([2, 3]);
  });
  it("row, column, and outer broadcasting", () => {
    expectClose(add(a, t([10, 20, 30], [3])).data, [11, 22, 33, 14, 25, 36]);
    expectClose(sub(a, t([1, 2], [2, 1])).data, [0, 1, 2, 2, 3, 4]);
    const o = mul(t([1, 2], [2, 1]), t([1, 10, 100], [1, 3]));
    expect(o.shape).toEqual([2, 3]);
    expectClose(o.data, [1, 10, 100, 2, 20, 200]);
    expect(broadcastShapes("x", [8, 1, 6, 1], [7, 1, 5])).toEqual([8, 7, 6, 5]);
  });
  it("per-channel [1,C,1,1] bias on NCHW", () => {
    const x = randn([2, 3, 2, 2], 1);
    const b = t([1, 2, 3], [1, 3, 1, 1]);
    const y = add(x, b);
    for (let i = 0; i < x.size; i++) expect(y.data[i]).toBeCloseTo(x.data[i]! + [1, 2, 3][Math.floor(i / 4) % 3]!, 6);
    const z = mul(x, t([1, 2, 3], [3, 1, 1]));
    for (let i = 0; i < x.size; i++) expect(z.data[i]).toBeCloseTo(x.data[i]! * [1, 2, 3][Math.floor(i / 4) % 3]!, 6);
  });
  it("non-contiguous broadcast pattern [2,1,3,1] x [1,4,1,5]", () => {
    const p = randn([2, 1, 3, 1], 2);
    const q = randn([1, 4, 1, 5], 3);
    const y = sub(p, q);
    expect(y.shape).toEqual([2, 4, 3, 5]);
    for (let i0 = 0; i0 < 2; i0++) for (let i1 = 0; i1 < 4; i1++) for (let i2 = 0; i2 < 3; i2++) for (let i3 = 0; i3 < 5; i3++) {
      const v = y.data[((i0 * 4 + i1) * 3 + i2) * 5 + i3]!;
      expect(v).toBeCloseTo(p.data[i0 * 3 + i2]! - q.data[i1 * 5 + i3]!, 6);
    }
  });
  it("errors name the op and both shapes", () => {
    expectShapeError(() => add(t([1, 2, 3], [3]), t([1, 2], [2])), "add", "[3]", "[2]");
    expectShapeError(() => mul(randn([2, 3], 1), randn([3, 2], 1)), "mul", "[2, 3]", "[3, 2]");
    expectShapeError(() => div(randn([2], 1), "x" as unknown as number), "div", "argument b");
    expectShapeError(() => maximum(null as unknown as Tensor, 1), "maximum", "argument a");
    expectShapeError(() => sub(randn([4, 2], 1), randn([3, 4, 5], 1)), "sub", "[4, 2]", "[3, 4, 5]");
  });
});

describe("binary ops: gradients", () => {
  const ops = { add, sub, mul, div, maximum, minimum };
  for (const [name, fn] of Object.entries(ops)) {
    it(`${name}: same shape, broadcast, and scalar operands`, () => {
      const pos = name === "div";
      const mk = (shape: number[], seed: number): Tensor =>
        pos ? rand(shape, seed, 0.5, 2, true) : randn(shape, seed, true);
      gradcheck((a, b) => fn(a!, b!), [mk([2, 3], 1), mk([2, 3], 2)]);
      gradcheck((a, b) => fn(a!, b!), [mk([2, 3, 4], 3), mk([3, 1], 4)]);
      gradcheck((a, b) => fn(a!, b!), [mk([2, 1, 3], 5), mk([4, 1], 6)]);
      gradcheck((a, b) => fn(a!, b!), [mk([2, 3, 2, 2], 7), mk([1, 3, 1, 1], 8)]);
      gradcheck((a) => fn(a!, 1.25), [mk([5], 9)]);
      gradcheck((b) => fn(0.75, b!), [mk([5], 10)]);
      // one-element tensors that take a gradient, on either side (mul runs these through scaleRows)
      gradcheck((a, c) => fn(a!, c!), [mk([2, 3], 13), mk([1], 14)]);
      gradcheck((c, b) => fn(c!, b!), [mk([], 15), mk([3, 2], 16)]);
      // big input: random-direction projections
      gradcheck((a, b) => fn(a!, b!), [mk([8, 16, 4], 11), mk([16, 1], 12)]);
    });
  }
  it("scaleBlocks: each leading block times its scale, gradients to both; shapes that do not fit are errors", () => {
    const x = randn([6, 4], 21, true);
    const sc = randn([3], 22, true);
    const y = scaleBlocks(x, sc, 3);
    for (let i = 0; i < 24; i++) expect(y.data[i]).toBe(Math.fround(x.data[i]! * sc.data[Math.floor(i / 8)]!));
    gradcheck((a, c) => scaleBlocks(a!, c!, 3), [x, sc]);
    expect(() => scaleBlocks(x, sc, 2)).toThrow(/scaleBlocks: scales \[3\] do not fit 2 blocks of \[6, 4\]/);
    expect(() => scaleBlocks(x, randn([5], 23), 5)).toThrow(/do not fit 5 blocks/);
  });

  it("maximum / minimum split ties equally (PyTorch)", () => {
    const a = t([1, 2, 3], [3], true);
    const b = t([1, 5, 0], [3], true);
    sum(maximum(a, b)).backward();
    expectClose(a.grad!.data, [0.5, 0, 1]);
    expectClose(b.grad!.data, [0.5, 1, 0]);
    a.zeroGrad();
    b.zeroGrad();
    sum(minimum(a, b)).backward();
    expectClose(a.grad!.data, [0.5, 1, 0]);
    expectClose(b.grad!.data, [0.5, 0, 1]);
  });
  it("only inputs that require grad receive one", () => {
    const a = randn([3], 1, true);
    const b = randn([3], 2);
    sum(mul(a, b)).backward();
    expect(b.grad).toBeNull();
    expectClose(a.grad!.data, b.data);
  });
});

describe("unary ops", () => {
  const x = t(X, [2, 3]);
  const cases: [string, (a: Tensor) => Tensor, (v: number) => number, number[]][] = [
    ["neg", neg, (v) => -v, X],
    ["exp", exp, Math.exp, X],
    ["log", log, Math.log, X.map((v) => Math.abs(v) + 0.1)],
    ["sqrt", sqrt, Math.sqrt, X.map((v) => Math.abs(v) + 0.1)],
    ["abs", abs, Math.abs, X],
    ["relu", relu, (v) => Math.max(v, 0), X],
    ["sigmoid", sigmoid, (v) => 1 / (1 + Math.exp(-v)), X],
    ["tanh", tanh, Math.tanh, X],
    ["pow3", (a) => pow(a, 3), (v) => v ** 3, X],
    ["pow2", (a) => pow(a, 2), (v) => v ** 2, X],
    ["pow-0.5", (a) => pow(a, -0.5), (v) => v ** -0.5, X.map((v) => Math.abs(v) + 0.1)],
    ["pow1.5", (a) => pow(a, 1.5), (v) => v ** 1.5, X.map((v) => Math.abs(v) + 0.1)],
  ];
  for (const [name, fn, ref, vals] of cases) {
    it(`${name}: forward and gradient`, () => {
      const inp = t(vals, [2, 3]);
      expectClose(fn(inp).data, vals.map(ref), 1e-6);
      expect(fn(inp).shape).toEqual([2, 3]);
      gradcheck((a) => fn(a!), [t(vals, [2, 3], true)]);
      expectShapeError(() => fn([1, 2] as unknown as Tensor), name.replace(/[\d.-]+$/, "").replace("pow", "pow"));
    });
  }
  it("sigmoid is stable on both tails", () => {
    const y = sigmoid(t([-1000, 1000, 0], [3]));
    expectClose(y.data, [0, 1, 0.5]);
  });
  it("pow with exponent 0 has a zero gradient; non-number exponent is an error", () => {
    const a = t([0, 2], [2], true);
    sum(pow(a, 0)).backward();
    expectClose(a.grad!.data, [0, 0]);
    expectShapeError(() => pow(x, "2" as unknown as number), "pow", "[2, 3]");
  });
  it("abs and relu gradients at 0 are 0", () => {
    const a = t([0, 0], [2], true);
    sum(add(abs(a), relu(a))).backward();
    expectClose(a.grad!.data, [0, 0]);
  });
  it("relu on a big tensor uses the backend kernels correctly", () => {
    const a = randn([64, 33], 5, true);
    const y = relu(a);
    for (let i = 0; i < a.size; i++) expect(y.data[i]).toBe(Math.max(a.data[i]!, 0));
    gradcheck((q) => relu(q!), [a]);
  });
});

describe("clamp", () => {
  it("forward with both, one, or no bounds", () => {
    const a = t([-2, -1, 0, 0.5, 1, 2], [6]);
    expectClose(clamp(a, -1, 1).data, [-1, -1, 0, 0.5, 1, 1]);
    expectClose(clamp(a, 0, null).data, [0, 0, 0, 0.5, 1, 2]);
    expectClose(clamp(a, undefined, 0.5).data, [-2, -1, 0, 0.5, 0.5, 0.5]);
    expectClose(clamp(a).data, a.data);
    // PyTorch: min > max gives max everywhere
    expectClose(clamp(a, 2, 1).data, [1, 1, 1, 1, 1, 1]);
  });
  it("gradient passes on the closed interval min <= x <= max (PyTorch convention)", () => {
    const a = t([-2, -1, 0, 0.5, 1, 2], [6], true);
    sum(clamp(a, -1, 1)).backward();
    expectClose(a.grad!.data, [0, 1, 1, 1, 1, 0]);
    gradcheck((q) => clamp(q!, -1, 1), [t([-1.7, -0.5, 0.2, 0.9, 1.3], [5], true)]);
  });
  it("rejects non-numeric bounds", () => {
    expectShapeError(() => clamp(randn([2, 2], 1), "0" as unknown as number, 1), "clamp", "[2, 2]");
    expectShapeError(() => clamp(randn([2], 1), Number.NaN, 1), "clamp");
  });
});

describe("floorSte (QCFS straight-through estimator)", () => {
  it("forward is floor, gradient is identity", () => {
    const a = t([-1.5, -0.5, 0, 0.4, 0.99, 2.5], [6], true);
    const y = floorSte(a);
    expectClose(y.data, [-2, -1, 0, 0, 0, 2]);
    sum(mul(y, t([1, 2, 3, 4, 5, 6], [6]))).backward();
    expectClose(a.grad!.data, [1, 2, 3, 4, 5, 6]);
  });
  it("QCFS activation: lambda * clamp(floor(x*L/lambda + 1/2)/L, 0, 1)", () => {
    // y = lam * clamp(floorSte(x * L / lam + 0.5) / L, 0, 1); STE => dy/dx = 1 inside the clamp range
    // (x*L/lam + 0.5 floored into [0, L]), dy/dlam from the outer factor and the straight-through inner one.
    const L = 4;
    const xs = [-0.5, 0.1, 0.3, 0.55, 0.9, 1.2, 2.5];
    const x = t(xs, [7], true);
    const lam = t([1.0], [1], true);
    const q = floorSte(add(div(mul(x, L), lam), 0.5));
    const y = mul(lam, clamp(div(q, L), 0, 1));
    const want = xs.map((v) => Math.min(Math.max(Math.floor(v * L + 0.5) / L, 0), 1));
    expectClose(y.data, want);
    sum(y).backward();
    // inside (0 <= floor(.)/L <= 1, closed interval): dy/dx = lam * (L/lam) / L = 1; outside 0
    const inside = xs.map((v) => {
      const u = Math.floor(v * L + 0.5) / L;
      return u >= 0 && u <= 1 ? 1 : 0;
    });
    expectClose(x.grad!.data, inside);
    // dy/dlam = clamp(u) + lam * [inside] * (-(x L / lam^2)) / L = clamp(u) - inside * x / lam
    const dlam = xs.reduce((s, v, i) => s + want[i]! - inside[i]! * v, 0);
    expectClose(lam.grad!.data, [dlam], 1e-5);
  });
});

describe("where", () => {
  it("selects with broadcasting, numbers allowed, no gradient to cond", () => {
    const cond = t([1, 0, 2, 0], [2, 2]);
    const a = t([1, 2, 3, 4], [2, 2], true);
    const b = t([10, 20], [2], true);
    const y = where(cond, a, b);
    expectClose(y.data, [1, 20, 3, 20]);
    sum(y).backward();
    expectClose(a.grad!.data, [1, 0, 1, 0]);
    expectClose(b.grad!.data, [0, 2]);
    expectClose(where(t([0, 1], [2]), 5, a).data, [1, 5, 3, 5]);
    gradcheck((p, q) => where(cond, p!, q!), [randn([2, 2], 1, true), randn([2, 1], 2, true)]);
  });
  it("errors name where and the shapes", () => {
    expectShapeError(() => where(t([1, 0, 1], [3]), randn([2], 1), 0), "where", "[3]", "[2]");
    expectShapeError(() => where(1 as unknown as Tensor, randn([2], 1), 0), "where", "cond");
  });
});
