import { describe, expect, it } from "vitest";
import { Rng, Tensor, noGrad, mul, sum, withBackend, tryNativeBackend } from "../../src/engine/index.js";
import { BatchNorm2d } from "../../src/nn/index.js";
import { TEBN } from "../../src/snn/index.js";
import { gradcheck } from "../helpers/gradcheck.js";

describe("TEBN", () => {
  const T = 3, B = 2, C = 2, H = 2, W = 2;

  it("statistics pooled over B, T, H, W; output scaled by p_t", () => {
    const x = Tensor.randn([T * B, C, H, W], new Rng(1), 1.5);
    const tebn = new TEBN(C, T);
    tebn.p.data.set([0.5, 1, 2]);
    const bn = new BatchNorm2d(C);
    const y = noGrad(() => tebn.forward(x));
    const ref = noGrad(() => bn.forward(x));
    const per = B * C * H * W;
    for (let t = 0; t < T; t++) for (let i = 0; i < per; i++) expect(y.data[t * per + i]).toBeCloseTo(ref.data[t * per + i]! * tebn.p.data[t]!, 5);
    expect(Array.from(tebn.bn.runningMean.data)).toEqual(Array.from(bn.runningMean.data));
    expect(tebn.p.weightDecay).toBe(false);
    expect(tebn.p.shape).toEqual([T, 1, 1, 1, 1]);
  });

  it("gradients wrt x, γ, β and p_t (finite differences)", () => {
    const tebn = new TEBN(C, T);
    tebn.p.data.set([0.7, 1.2, 0.9]);
    tebn.bn.weight!.data.set([1.3, 0.6]);
    tebn.bn.bias!.data.set([0.1, -0.2]);
    const x = Tensor.randn([T * B, C, H, W], new Rng(2), 1, true);
    gradcheck((xx) => tebn.forward(xx), [x]);
    gradcheck(() => tebn.forward(x), [tebn.p, tebn.bn.weight!, tebn.bn.bias!]);
  });

  it.skipIf(!tryNativeBackend())("fused training kernels (p_t inside batch norm) agree on the js and native backends", () => {
    const run = (backend: "js" | "native") =>
      withBackend(backend, () => {
        const tebn = new TEBN(5, 4);
        tebn.p.data.set([0.6, 1.4, 0.9, 1.1]);
        tebn.bn.weight!.data.set([1.2, 0.7, 1, 0.5, 1.5]);
        tebn.bn.bias!.data.set([0.2, -0.1, 0, 0.3, -0.4]);
        const x = Tensor.randn([4 * 3, 5, 6, 6], new Rng(8), 2, true);
        const w = Tensor.randn([4 * 3, 5, 6, 6], new Rng(9));
        const y = tebn.forward(x);
        sum(mul(y, w)).backward();
        return [y.data, x.grad!.data, tebn.p.grad!.data, tebn.bn.weight!.grad!.data, tebn.bn.bias!.grad!.data, tebn.bn.runningVar.data].map((a) => Array.from(a));
      });
    const js = run("js");
    const nat = run("native");
    for (let k = 0; k < js.length; k++) {
      const scale = Math.max(1, ...js[k]!.map(Math.abs));
      for (let i = 0; i < js[k]!.length; i++) expect(Math.abs(nat[k]![i]! - js[k]![i]!) / scale).toBeLessThan(1e-4);
    }
  });

  /** A TEBN in eval with distinct p_t and running statistics, its multi-step output on random x, then single-step. */
  function evalTebnAndMultiStep(seed: number): { tebn: TEBN; x: Tensor; multi: Tensor } {
    const tebn = new TEBN(C, T);
    tebn.p.data.set([0.5, 1, 2]);
    tebn.bn.runningMean.data.set([0.3, -0.1]);
    tebn.bn.runningVar.data.set([2, 0.5]);
    tebn.eval();
    const x = Tensor.randn([T * B, C, H, W], new Rng(seed), 1);
    const multi = noGrad(() => tebn.forward(x));
    tebn.setStepMode("single");
    return { tebn, x, multi };
  }

  it("single-step works in eval mode and matches multi-step eval", () => {
    const { tebn, x, multi } = evalTebnAndMultiStep(3);
    const per = B * C * H * W;
    for (let t = 0; t < T; t++) {
      const y = noGrad(() => tebn.forward(x.slice(t * B, (t + 1) * B)));
      for (let i = 0; i < per; i++) expect(y.data[i]).toBeCloseTo(multi.data[t * per + i]!, 6);
    }
    tebn.train();
    tebn.resetState();
    expect(() => tebn.forward(x.slice(0, B))).toThrow(/eval mode/);
  });

  it("single-step rows at different steps (samples joining and leaving): each row scaled by its own step's p_t", () => {
    const { tebn, x, multi } = evalTebnAndMultiStep(4);
    const per = C * H * W;
    const rowOf = (d: Float32Array, r: number): number[] => Array.from(d.subarray(r * per, (r + 1) * per));
    // step 1 on x's block 0; then row 1 gets a new sample (sample 1 again, from its step 1)
    noGrad(() => tebn.forward(x.slice(0, B)));
    tebn.resetSamples(Int32Array.from([1]));
    let y = noGrad(() => tebn.forward(Tensor.from([...rowOf(x.data, B), ...rowOf(x.data, 1)], [2, C, H, W])));
    expect(rowOf(y.data, 0)).toEqual(rowOf(multi.data, B)); // sample 0 at step 2
    expect(rowOf(y.data, 1)).toEqual(rowOf(multi.data, 1)); // the new sample at its step 1
    // sample 0 leaves; the new sample runs its step 2
    tebn.selectSamples(Int32Array.from([1]));
    const input = Tensor.from(rowOf(x.data, B + 1), [1, C, H, W]);
    y = noGrad(() => tebn.forward(input));
    expect(rowOf(y.data, 0)).toEqual(rowOf(multi.data, B + 1));
    expect(() => tebn.forward(Tensor.zeros([3, C, H, W]))).toThrow(/batch of 3 but 1 rows/);
    expect(() => tebn.resetSamples(Int32Array.from([1]))).toThrow(/row 1 is outside the batch of 1/);
    noGrad(() => tebn.forward(input));
    expect(() => tebn.forward(input)).toThrow(/step 4 exceeds the 3 timesteps/);
  });

  it("rejects a T it was not built for", () => {
    const tebn = new TEBN(C, T);
    tebn.T = 2;
    expect(() => tebn.forward(Tensor.zeros([4, C, H, W]))).toThrow(/built for T=3/);
  });
});
