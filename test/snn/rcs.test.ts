import { describe, expect, it } from "vitest";
import { Rng, Tensor } from "../../src/engine/index.js";
import { RcsCollector, rcsAnnStat, rcsLoss, rcsMask, rcsSnnStat, rcsTailSteps } from "../../src/snn/index.js";
import { gradcheck } from "../helpers/gradcheck.js";

describe("RCS tail length int(0.3·T), 0 ⇒ all (spec §4.2, §13)", () => {
  it("worked values", () => {
    expect([2, 3, 4, 6, 10, 16].map((T) => rcsTailSteps(T))).toEqual([2, 3, 1, 1, 3, 4]);
  });
});

describe("RCS-ANN statistic", () => {
  it("value: batch-global max over per-sample RMS", () => {
    const x = Tensor.from([[1, -2, 3, 0], [0.5, 0.5, -1, 0]]);
    const r = rcsAnnStat(x).data;
    const M = 3;
    expect(r[0]).toBeCloseTo(M / Math.sqrt((1 + 9) / 4 + 1e-5), 5);
    expect(r[1]).toBeCloseTo(M / Math.sqrt((0.25 + 0.25) / 4 + 1e-5), 5);
  });
  it("gradient (finite differences)", () => {
    const x = Tensor.randn([3, 2, 2, 2], new Rng(1), 1, true);
    gradcheck((a) => rcsAnnStat(a), [x]);
  });
});

describe("RCS-SNN statistic", () => {
  function manual(S: number[][][], U: number[][][], theta: number): number[] {
    const T = S.length, B = S[0]!.length, D = S[0]![0]!.length;
    const K = rcsTailSteps(T);
    const R = S.map((st, t) => st.map((sb, b) => sb.map((s, i) => s + Math.max(0, U[t]![b]![i]! / theta))));
    const out: number[] = [];
    for (let b = 0; b < B; b++) {
      const rb = new Array(D).fill(0);
      for (let t = T - K; t < T; t++) for (let i = 0; i < D; i++) rb[i] += R[t]![b]![i]! / K;
      let c = 0;
      for (let t = 0; t < T; t++) {
        let dot = 0, n1 = 0, n2 = 0;
        for (let i = 0; i < D; i++) {
          dot += R[t]![b]![i]! * rb[i];
          n1 += R[t]![b]![i]! ** 2;
          n2 += rb[i] ** 2;
        }
        c += dot / (Math.sqrt(n1 + 1e-5) * Math.sqrt(n2 + 1e-5)) / T;
      }
      out.push(1 / (c + 1e-5));
    }
    return out;
  }
  for (const T of [2, 4, 10]) {
    it(`value at T=${T} (tail ${rcsTailSteps(T)})`, () => {
      const rng = new Rng(T);
      const S = Tensor.from(Array.from({ length: T * 2 * 3 }, () => (rng.uniform() > 0.6 ? 1 : 0)), [T, 2, 3]);
      const U = Tensor.randn([T, 2, 3], rng, 0.5);
      const got = rcsSnnStat(S, U, 1.5).data;
      const want = manual(S.toArray() as number[][][], U.toArray() as number[][][], 1.5);
      want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 4));
    });
  }
  it("silent layer gives r = 1e5 (finite)", () => {
    const r = rcsSnnStat(Tensor.zeros([4, 1, 3]), Tensor.full([4, 1, 3], -1), 1).data[0]!;
    expect(r).toBeCloseTo(1e5, -1);
  });
  it("gradient wrt spikes and membrane, R̄ detached (finite differences)", () => {
    const rng = new Rng(7);
    const S = Tensor.rand([4, 2, 3], rng, 0.1, 1, true);
    const U = Tensor.rand([4, 2, 3], rng, 0.1, 1, true);
    // R̄ is detached, so finite differences must not move it: perturb only the first T−K = 3 steps
    // (K = 1 at T = 4) and keep the last step fixed
    const S3 = Tensor.from(S.data.subarray(0, 18), [3, 2, 3], true);
    const U3 = Tensor.from(U.data.subarray(0, 18), [3, 2, 3], true);
    const tailS = Tensor.from(S.data.subarray(18), [1, 2, 3]);
    const tailU = Tensor.from(U.data.subarray(18), [1, 2, 3]);
    gradcheck((s, u) => rcsSnnStat(catT(s, tailS), catT(u, tailU), 1), [S3, U3]);
  });
});

import { concat } from "../../src/engine/index.js";
const catT = (a: Tensor, b: Tensor): Tensor => concat([a, b], 0);

describe("rcsMask and rcsLoss", () => {
  it("mask uses per-step outputs of the last int(0.3T) steps (all when 0)", () => {
    // T=2 → both steps; sample 0 correct at both, sample 1 wrong at t=0 only
    const O = Tensor.from([[[1, 0], [0, 1]], [[1, 0], [1, 0]]]);
    expect(Array.from(rcsMask(O, [0, 0]))).toEqual([1, 0]);
    // T=4 → last step only
    const O4 = Tensor.from([[[0, 1]], [[0, 1]], [[0, 1]], [[1, 0]]]);
    expect(Array.from(rcsMask(O4, [0]))).toEqual([1]);
  });

  it("mean over layers of the masked max over samples; gradient reaches the statistics", () => {
    const c = new RcsCollector();
    c.enabled = true;
    const r1 = Tensor.from([3, 5, 4], [3], true);
    const r2 = Tensor.from([2, 1, 7], [3], true);
    c.push("a", r1);
    c.push("b", r2);
    const O = Tensor.from([[[1, 0], [1, 0], [0, 1]]]); // predictions 0, 0, 1
    const labels = [0, 1, 1]; // correct: samples 0 and 2
    const L = rcsLoss(c, O, labels, 1);
    expect(L.item()).toBeCloseTo((4 + 7) / 2, 6);
    L.backward();
    expect(Array.from(r1.grad!.data)).toEqual([0, 0, 0.5]);
    expect(Array.from(r2.grad!.data)).toEqual([0, 0, 0.5]);
    gradcheck((a, b) => {
      const cc = new RcsCollector();
      cc.enabled = true;
      cc.push("a", a);
      cc.push("b", b);
      return rcsLoss(cc, O, labels);
    }, [Tensor.from([3, 5, 4.2], [3], true), Tensor.from([2, 1, 7], [3], true)]);
  });

  it("no correct sample ⇒ 0; disabled collector stores nothing", () => {
    const c = new RcsCollector();
    c.push("a", Tensor.from([1, 2]));
    expect(c.size).toBe(0);
    c.enabled = true;
    c.push("a", Tensor.from([1, 2]));
    expect(rcsLoss(c, Tensor.from([[[1, 0], [1, 0]]]), [1, 1]).item()).toBe(0);
    expect(() => rcsLoss(c, Tensor.from([[[1, 0], [1, 0], [1, 0]]]), [1, 1, 1])).toThrow(/batch of 3/);
  });
});
