import { describe, expect, it } from "vitest";
import {
  Tensor, ShapeError, add, mul, sum, relu, exp, noGrad, isGradEnabled, record, sub,
} from "../../src/engine/index.js";
import { expectClose, gradcheck } from "../helpers/gradcheck.js";

describe("autograd semantics", () => {
  it("accumulates gradients across two backward calls", () => {
    const x = Tensor.from([1, 2, 3], undefined, true);
    sum(mul(x, x)).backward();
    expectClose(x.grad!.data, [2, 4, 6]);
    sum(mul(x, 3)).backward();
    expectClose(x.grad!.data, [5, 7, 9]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
  });

  it("noGrad records nothing and restores the flag", () => {
    const x = Tensor.from([1, 2], undefined, true);
    expect(isGradEnabled()).toBe(true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return mul(x, 2);
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.gradNode).toBeNull();
    expect(() => y.backward()).toThrow(/does not require grad/);
    // restored after a throw too
    expect(() => noGrad(() => { throw new Error("boom"); })).toThrow("boom");
    expect(isGradEnabled()).toBe(true);
  });

  it("detach cuts the tape but shares storage", () => {
    const x = Tensor.from([1, 2, 3], undefined, true);
    const d = mul(x, 2).detach();
    expect(d.requiresGrad).toBe(false);
    const y = sum(add(mul(d, x), x));
    y.backward();
    // d is a constant [2, 4, 6]: dy/dx = d + 1
    expectClose(x.grad!.data, [3, 5, 7]);
    const c = x.clone();
    expect(c.data).not.toBe(x.data);
  });

  it("handles a tensor used several times in one graph", () => {
    const x = Tensor.from([0.5, -1, 2], undefined, true);
    // y = sum(x*x*x + exp(x) * x + x)
    const y = sum(add(add(mul(mul(x, x), x), mul(exp(x), x)), x));
    y.backward();
    const want = [0.5, -1, 2].map((v) => 3 * v * v + Math.exp(v) * (1 + v) + 1);
    expectClose(x.grad!.data, want, 1e-5);
  });

  it("does not corrupt gradients when a shared gradient buffer is accumulated in place", () => {
    // t = a + b feeds z twice, so t's gradient is an accumulated (owned) buffer C, which t's add node hands
    // to both a and b. b then receives another gradient from its second consumer: adding it into C in place
    // would also change a's pending gradient.
    const a0 = Tensor.from([1, 2], undefined, true);
    const b0 = Tensor.from([3, 4], undefined, true);
    const a = mul(a0, 1);
    const b = mul(b0, 1);
    const w = mul(a, 10);
    const t = add(a, b);
    const z = add(t, t);
    sum(add(add(b, w), z)).backward();
    expectClose(a0.grad!.data, [12, 12]);
    expectClose(b0.grad!.data, [3, 3]);
  });

  it("supports a multi-output custom op via record()", () => {
    // f(x) -> (2x, x^2); loss = sum(u) + sum(v * 3)
    const x = Tensor.from([1, -2, 3], undefined, true);
    const u = new Tensor(x.data.map((v) => 2 * v), x.shape);
    const v = new Tensor(x.data.map((q) => q * q), x.shape);
    let calls = 0;
    record("twoOut", [x], [u, v], ([gu, gv]) => {
      calls++;
      const d = new Float32Array(3);
      for (let i = 0; i < 3; i++) d[i] = (gu ? 2 * gu[i]! : 0) + (gv ? 2 * x.data[i]! * gv[i]! : 0);
      return [d];
    });
    expect(u.gradNode).toBe(v.gradNode);
    expect(v.outputIndex).toBe(1);
    sum(add(u, mul(v, 3))).backward();
    expect(calls).toBe(1);
    expectClose(x.grad!.data, [2 + 6, 2 - 12, 2 + 18]);
    // only one output used: the other gradient arrives as null
    x.zeroGrad();
    const u2 = new Tensor(new Float32Array(3), [3]);
    const v2 = new Tensor(new Float32Array(3), [3]);
    let seen: (Float32Array | null)[] = [];
    record("twoOut", [x], [u2, v2], (gs) => {
      seen = gs;
      return [new Float32Array(3).fill(1)];
    });
    sum(v2).backward();
    expect(seen[0]).toBeNull();
    expect(seen[1]).not.toBeNull();
    expectClose(x.grad!.data, [1, 1, 1]);
  });

  it("ops called inside a custom backward do not record", () => {
    const x = Tensor.from([1, 2], undefined, true);
    const y = new Tensor(new Float32Array([2, 4]), [2]);
    let inner: Tensor | null = null;
    record("viaOps", [x], [y], ([g]) => {
      inner = mul(x, new Tensor(g!, [2]));
      return [inner.data];
    });
    sum(y).backward();
    expect(inner!.requiresGrad).toBe(false);
    expectClose(x.grad!.data, [1, 2]);
    expect(isGradEnabled()).toBe(true);
  });

  it("refuses backward on a non-scalar without a gradient, and a gradient of the wrong size", () => {
    const x = Tensor.from([1, 2], undefined, true);
    const y = mul(x, 2);
    expect(() => y.backward()).toThrow(ShapeError);
    expect(() => y.backward()).toThrow(/backward.*\[2\]/);
    expect(() => y.backward(Tensor.from([1, 2, 3]))).toThrow(/backward.*\[3\].*\[2\]/);
    y.backward(Tensor.from([1, 10]));
    expectClose(x.grad!.data, [2, 20]);
  });

  it("never writes into the caller's gradient", () => {
    const x = Tensor.from([1, 2, 3], undefined, true);
    const g = Tensor.from([1, 1, 1]);
    const h = mul(x, 1);
    const y = add(add(h, h), h);
    y.backward(g);
    y.backward(g);
    expectClose(g.data, [1, 1, 1]);
    expectClose(x.grad!.data, [6, 6, 6]);
    x.zeroGrad();
    x.backward(g);
    x.backward(g);
    expect(x.grad!.data).not.toBe(g.data);
    expectClose(g.data, [1, 1, 1]);
    expectClose(x.grad!.data, [2, 2, 2]);
  });

  it("backward from a leaf and through views (reshape, slice, index)", () => {
    const x = Tensor.from([[1, 2, 3], [4, 5, 6]], undefined, true);
    x.backward(Tensor.ones([2, 3]));
    expectClose(x.grad!.data, [1, 1, 1, 1, 1, 1]);
    x.zeroGrad();
    const y = sum(mul(x.reshape([3, 2]).slice(1, 3), Tensor.from([[1, 2], [3, 4]])));
    y.backward();
    expectClose(x.grad!.data, [0, 0, 1, 2, 3, 4]);
    x.zeroGrad();
    sum(mul(x.index(1), x.index(1))).backward();
    expectClose(x.grad!.data, [0, 0, 0, 8, 10, 12]);
  });

  it("skips gradients for inputs that do not require grad", () => {
    const x = Tensor.from([1, 2], undefined, true);
    const c = Tensor.from([3, 4]);
    sum(mul(x, c)).backward();
    expect(c.grad).toBeNull();
    expectClose(x.grad!.data, [3, 4]);
    const z = sub(c, c);
    expect(z.requiresGrad).toBe(false);
  });

  it("gradcheck helper catches a wrong backward", () => {
    const bad = (x: Tensor): Tensor => {
      const y = new Tensor(x.data.map((v) => v * v), x.shape);
      return record("bad", [x], [y], ([g]) => [g!.map((v, i) => v * x.data[i]!)])[0]; // should be 2x
    };
    expect(() => gradcheck(bad, [Tensor.from([1, 2, 3], undefined, true)])).toThrow(/gradcheck/);
    gradcheck((x) => relu(mul(x, x)), [Tensor.from([1, 2, 3], undefined, true)]);
  });
});
