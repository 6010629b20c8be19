import { describe, expect, it } from "vitest";
import { Rng, Tensor, noGrad, tryNativeBackend, withBackend } from "../../src/engine/index.js";
import { IFNode, LIFNode, neuronMultiStep, neuronStep, surrogate, surrogateGrad, SURROGATE_NAMES, type NeuronDynamics } from "../../src/snn/index.js";

const lifDyn = (sg = surrogate("triangle")): NeuronDynamics => ({ theta: 1, tau: 0.5, hardReset: true, v0: 0, surrogate: sg, outputScale: 1 });
const ifDyn = (theta: number, sg = surrogate("triangle")): NeuronDynamics => ({ theta, tau: 1, hardReset: false, v0: theta / 2, surrogate: sg, outputScale: theta });

describe("spec §13 neuron vectors", () => {
  it("ZIF triangle γ=1", () => {
    const sg = surrogate("zif");
    expect([-1.5, -0.5, 0, 0.5, 1.5].map((u) => surrogateGrad(sg, u))).toEqual([0, 0.5, 1, 0.5, 0]);
  });

  it("IF θ=1, v0=0.5, soft reset, constant 0.26: 2 spikes in 8 steps at t=2 and t=6", () => {
    const n = new IFNode({ theta: 1 });
    const x = Tensor.full([8, 1], 0.26);
    n.T = 8;
    const s = Array.from(n.forward(x).data);
    expect(s).toEqual([0, 1, 0, 0, 0, 1, 0, 0]);
    const u = n.lastMembrane!.data;
    expect(u[0]).toBeCloseTo(0.76, 6);
    expect(u[1]).toBeCloseTo(0.02, 6);
    expect(u[2]).toBeCloseTo(0.28, 6);
    expect(u[5]).toBeCloseTo(0.06, 5);
  });

  it("forwardSequence takes [T, B, ...] directly", () => {
    const n = new LIFNode();
    const y = n.forwardSequence(Tensor.full([8, 2, 1], 0.8));
    expect(y.shape).toEqual([8, 2, 1]);
    expect(Array.from(y.data)).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
  });

  it("IF outputs spike·θ", () => {
    const n = new IFNode({ theta: 2 });
    n.T = 4;
    expect(Array.from(n.forward(Tensor.full([4, 1], 0.9)).data)).toEqual([0, 2, 0, 2]);
  });

  it("LIF θ=1, τ=0.5, hard reset, constant 0.8: spikes at t=2,4,6,...", () => {
    const n = new LIFNode();
    n.T = 8;
    const s = Array.from(n.forward(Tensor.full([8, 1], 0.8)).data);
    expect(s).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(Array.from(n.lastMembrane!.data).map((v) => +v.toFixed(6))).toEqual([0.8, 0, 0.8, 0, 0.8, 0, 0.8, 0]);
  });
});

/** Per-step autograd reference: T calls of neuronStep chained through the state. */
function reference(x: Tensor, T: number, d: NeuronDynamics): { out: Tensor[]; mem: Tensor[] } {
  const M = x.size / T;
  const out: Tensor[] = [];
  const mem: Tensor[] = [];
  let v: Tensor | null = null;
  for (let t = 0; t < T; t++) {
    const r = neuronStep(x.slice(t, t + 1).reshape([M]), v, d);
    v = r.v;
    out.push(r.output);
    mem.push(r.membrane);
  }
  return { out, mem };
}

function compareGrads(d: NeuronDynamics, T: number, M: number, seed: number): void {
  const rng = new Rng(seed);
  const base = Tensor.randn([T, M], rng, 0.8);
  const gS = Tensor.randn([T, M], rng);
  const gU = Tensor.randn([T, M], rng);
  // fused
  const x1 = new Tensor(new Float32Array(base.data), [T, M], true);
  const r = neuronMultiStep(x1, T, d);
  const loss = 0;
  const seedS = gS;
  r.output.backward(seedS);
  const g1 = new Float32Array(x1.grad!.data);
  x1.zeroGrad();
  const r2 = neuronMultiStep(x1, T, d);
  r2.membrane.backward(gU);
  const g1u = new Float32Array(x1.grad!.data);
  // reference
  const x2 = new Tensor(new Float32Array(base.data), [T, M], true);
  const ref = reference(x2, T, d);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < M; i++) {
      expect(ref.out[t]!.data[i]).toBe(r.output.data[t * M + i]);
      expect(ref.mem[t]!.data[i]).toBeCloseTo(r.membrane.data[t * M + i]!, 6);
    }
  }
  const sumOut = (ts: Tensor[], g: Tensor): Tensor => {
    let acc: Tensor | null = null;
    ts.forEach((o, t) => {
      const term = noGradMulSum(o, g.slice(t, t + 1).reshape([M]));
      acc = acc ? addT(acc, term) : term;
    });
    return acc!;
  };
  sumOut(ref.out, gS).backward();
  const g2 = new Float32Array(x2.grad!.data);
  x2.zeroGrad();
  const ref2 = reference(x2, T, d);
  sumOut(ref2.mem, gU).backward();
  const g2u = x2.grad!.data;
  for (let i = 0; i < T * M; i++) {
    expect(Math.abs(g1[i]! - g2[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(g2[i]!)));
    expect(Math.abs(g1u[i]! - g2u[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(g2u[i]!)));
  }
  void loss;
}

import { mul, sum, add } from "../../src/engine/index.js";
const noGradMulSum = (a: Tensor, b: Tensor): Tensor => sum(mul(a, b));
const addT = (a: Tensor, b: Tensor): Tensor => add(a, b);

describe("fused multi-step neuron op vs per-step autograd reference (BPTT, 1e-5)", () => {
  for (const name of SURROGATE_NAMES) {
    it(`LIF, ${name}`, () => compareGrads(lifDyn(surrogate(name)), 6, 40, 1));
    it(`IF θ=1.7, ${name}`, () => compareGrads(ifDyn(1.7, surrogate(name)), 6, 40, 2));
    it(`LIF soft reset τ=0.9, ${name}`, () =>
      compareGrads({ theta: 0.7, tau: 0.9, hardReset: false, v0: 0.1, surrogate: surrogate(name), outputScale: 1 }, 5, 30, 3));
  }
});

describe("single-step == multi-step", () => {
  for (const make of [() => new LIFNode(), () => new IFNode({ theta: 1.3 })]) {
    it(make().constructor.name, () => {
      const T = 7;
      const x = Tensor.randn([T * 3, 5], new Rng(4), 1);
      const a = make();
      a.T = T;
      const multi = noGrad(() => a.forward(x));
      const b = make();
      b.setStepMode("single");
      for (let t = 0; t < T; t++) {
        const y = noGrad(() => b.forward(x.slice(t * 3, t * 3 + 3)));
        expect(Array.from(y.data)).toEqual(Array.from(multi.data.subarray(t * 15, (t + 1) * 15)));
      }
      expect(b.step).toBe(T);
      b.resetState();
      expect(b.step).toBe(0);
    });
  }

  /**
   * Two single-step LIF nodes see batch x for one step; `part` then keeps only some samples (one selectSamples per
   * list) and both step again: part's output must be full's rows `survivors` (indices into the original batch).
   */
  function checkSelection(x: Tensor, selections: number[][], survivors: number[]): void {
    const inner = x.shape[1]!;
    const rowsOf = (d: Float32Array): number[] => survivors.flatMap((r) => [...d.subarray(r * inner, (r + 1) * inner)]);
    const full = new LIFNode();
    full.setStepMode("single");
    const part = new LIFNode();
    part.setStepMode("single");
    noGrad(() => {
      full.forward(x);
      part.forward(x);
      for (const rows of selections) part.selectSamples(Int32Array.from(rows));
      const y = part.forward(Tensor.from(rowsOf(x.data), [survivors.length, inner]));
      const yf = full.forward(x);
      expect(Array.from(y.data)).toEqual(rowsOf(yf.data));
    });
  }

  it("selectSamples keeps the state of the surviving rows", () => {
    checkSelection(Tensor.randn([4, 3], new Rng(5), 1), [[2, 0]], [2, 0]);
  });

  it("selectSamples with rows in batch order (anytime inference) compacts the state in place", () => {
    // rows 1 and 4 of the original batch survive two selections
    checkSelection(Tensor.randn([5, 3], new Rng(6), 1), [[1, 3, 4], [0, 2]], [1, 4]);
  });

  /**
   * New samples taking finished samples' rows (anytime refill): after a step of `a`, rows 0 and 2 get new samples
   * b; the next step must give b's rows exactly what a fresh neuron gives them, and row 1 what it gives without the
   * reset.
   */
  for (const layout of ["plain", "blocked16"] as const) {
    it(`resetSamples starts the given rows at v0 and keeps the others (${layout})`, () => {
      const inner = 64;
      const a = Tensor.randn([3, 16, 2, 2], new Rng(12), 1);
      const b = Tensor.randn([2, 16, 2, 2], new Rng(13), 1);
      const as = (t: Tensor): Tensor => (layout === "blocked16" ? t.toLayout("blocked16") : t);
      const rowsOf = (t: Tensor, rows: number[]): number[] => rows.flatMap((r) => [...t.data.subarray(r * inner, (r + 1) * inner)]);
      for (const make of [() => new IFNode({ theta: 0.9 }), () => new LIFNode()]) {
        const n = make();
        const ref = make();
        const fresh = make();
        for (const m of [n, ref, fresh]) m.setStepMode("single");
        noGrad(() => {
          n.forward(as(a));
          ref.forward(as(a));
          n.resetSamples(Int32Array.from([0, 2]));
          const x = Tensor.from([...rowsOf(b, [0]), ...rowsOf(a, [1]), ...rowsOf(b, [1])], [3, 16, 2, 2]);
          const y = n.forward(as(x));
          const yRef = ref.forward(as(a));
          const yFresh = fresh.forward(as(b));
          expect(rowsOf(y, [1])).toEqual(rowsOf(yRef, [1]));
          expect(rowsOf(y, [0, 2])).toEqual(Array.from(yFresh.data));
          expect(() => n.resetSamples(Int32Array.from([3]))).toThrow(/row 3 is outside the batch of 3/);
        });
      }
    });
  }
});

describe("fused kernels: native vs js backend", () => {
  const native = tryNativeBackend();
  it.skipIf(!native)("forward and BPTT backward agree to 1e-5", () => {
    for (const name of SURROGATE_NAMES) {
      for (const d of [lifDyn(surrogate(name)), ifDyn(1.3, surrogate(name))]) {
        const T = 8;
        const M = 256;
        const x0 = Tensor.randn([T, M], new Rng(9), 0.8);
        const g = Tensor.randn([T, M], new Rng(10));
        const gu = Tensor.randn([T, M], new Rng(11));
        const run = (be: "js" | "native") =>
          withBackend(be, () => {
            const x = new Tensor(new Float32Array(x0.data), [T, M], true);
            const r = neuronMultiStep(x, T, d);
            sum(add(mul(r.output, g), mul(r.membrane, gu))).backward();
            return { s: r.output.data, u: r.membrane.data, dx: x.grad!.data };
          });
        const a = run("js");
        const b = run("native");
        expect(Array.from(b.s)).toEqual(Array.from(a.s));
        for (let i = 0; i < T * M; i++) {
          expect(Math.abs(a.u[i]! - b.u[i]!)).toBeLessThanOrEqual(1e-5);
          expect(Math.abs(a.dx[i]! - b.dx[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(a.dx[i]!)));
        }
      }
    }
  });
});
