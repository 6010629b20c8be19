import { describe, expect, it } from "vitest";
import { Tensor, sum, mul } from "../../src/engine/index.js";
import { QCFS, ClipReLU, qcfs, clipRelu } from "../../src/snn/index.js";

describe("QCFS (spec §13 vector, L=4, λ=2)", () => {
  const xs = [-1, 0, 0.24, 0.26, 0.74, 1.3, 2.5, 9];
  it("forward", () => {
    const y = qcfs(Tensor.from(xs), Tensor.from([2]), 4);
    expect(Array.from(y.data)).toEqual([0, 0, 0, 0.5, 0.5, 1.5, 2, 2]);
  });
  it("STE gradients wrt x and λ, element by element", () => {
    const dx: number[] = [];
    const dl: number[] = [];
    xs.forEach((v, i) => {
      const x = Tensor.from(xs, [8], true);
      const lam = Tensor.from([2], [1], true);
      const onehot = new Float32Array(8);
      onehot[i] = 1;
      sum(mul(qcfs(x, lam, 4), new Tensor(onehot, [8]))).backward();
      dx.push(x.grad!.data[i]!);
      dl.push(lam.grad!.data[0]!);
      void v;
    });
    expect(dx).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
    const want = [0, 0, -0.12, 0.12, -0.12, 0.1, 1, 1];
    dl.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 6));
  });
  it("module: λ init 8, no weight decay, L=4 default", () => {
    const q = new QCFS();
    expect(q.lambda.data[0]).toBe(8);
    expect(q.lambda.weightDecay).toBe(false);
    expect(q.L).toBe(4);
    expect(q.namedParameters().map(([n]) => n)).toEqual(["lambda"]);
  });
});

describe("ClipReLU", () => {
  it("forward and gradients", () => {
    const x = Tensor.from([-1, 0.5, 1.5, 3], [4], true);
    const lam = Tensor.from([2], [1], true);
    const y = clipRelu(x, lam);
    expect(Array.from(y.data)).toEqual([0, 0.5, 1.5, 2]);
    sum(y).backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 1, 1, 0]);
    expect(lam.grad!.data[0]).toBeCloseTo(1, 6); // only the clipped element depends on λ
    expect(new ClipReLU().forward(Tensor.from([10])).data[0]).toBe(8);
  });
});
