import { describe, expect, it } from "vitest";
import { Rng, Tensor, noGrad, tryNativeBackend, withBackend } from "../../src/engine/index.js";
import { jsBackend } from "../../src/engine/js/backend.js";
import { buildModel, type ModelSpec } from "../../src/models/index.js";
import { convertToSNN, IFNode, QCFS } from "../../src/snn/index.js";
import type { Module } from "../../src/nn/index.js";
import { BatchNorm2d } from "../../src/nn/index.js";

const spec: ModelSpec = {
  name: "conv-test",
  inputShape: [1, 8, 8],
  layers: [
    { type: "conv", out: 6, kernel: 3, padding: 1 }, { type: "bn" }, { type: "act" },
    { type: "conv", out: 6, kernel: 3, padding: 1 }, { type: "bn" }, { type: "act" }, { type: "avgpool", kernel: 2 },
    { type: "block", out: 8, stride: 2 },
    { type: "flatten" }, { type: "linear", out: 16 }, { type: "act" }, { type: "linear", out: "classes" },
  ],
};

/** A QCFS ANN with non-trivial BN statistics and λ set to each layer's activation scale. */
function trainedLikeAnn(): ReturnType<typeof buildModel> {
  const ann = buildModel(spec, { route: "ann", numClasses: 5, L: 4, seed: 3 });
  const rng = new Rng(11);
  for (const m of ann.modules()) {
    if (m instanceof BatchNorm2d) {
      for (let c = 0; c < m.numFeatures; c++) {
        m.runningMean.data[c] = 0.2 * rng.normal();
        m.runningVar.data[c] = 0.5 + rng.uniform();
        m.weight!.data[c] = 0.8 + 0.4 * rng.uniform();
        m.bias!.data[c] = 0.3 * rng.normal();
      }
    }
  }
  ann.eval();
  // λ ≈ the 99th percentile of each layer's input, layer by layer (what training would make of it)
  const x = Tensor.randn([16, 1, 8, 8], new Rng(5), 1);
  for (const a of ann.activationLayers() as QCFS[]) {
    let seen: Float32Array | null = null;
    const off = a.registerForwardHook((_m, inp) => (seen = inp.data));
    noGrad(() => ann.forward(x));
    off();
    const v = Array.from(seen!).filter((u) => u > 0).sort((p, q) => p - q);
    a.lambda.data[0] = v[Math.floor(0.99 * (v.length - 1))]!;
  }
  return ann;
}

function activations(model: ReturnType<typeof buildModel>, x: Tensor): Float32Array[] {
  const outs: Float32Array[] = [];
  const offs = model.activationLayers().map((a: Module) => a.registerForwardHook((_m, _i, y) => outs.push(y.data)));
  noGrad(() => model.forward(x));
  offs.forEach((o) => o());
  return outs;
}

describe("convertToSNN", () => {
  const ann = trainedLikeAnn();

  it("QCFS → IF with θ = λ, soft reset, v0 = θ/2; weights and BN copied; eval + single-step", () => {
    const snn = convertToSNN(ann, { T: 8 });
    const qs = ann.activationLayers() as QCFS[];
    const ifs = snn.activationLayers();
    expect(ifs.every((m) => m instanceof IFNode)).toBe(true);
    ifs.forEach((n, i) => {
      const f = n as IFNode;
      expect(f.thresholdValue).toBe(qs[i]!.lambda.data[0]);
      expect(f.hardReset).toBe(false);
      expect(f.tau).toBe(1);
      expect(f.dynamics().v0).toBe(f.thresholdValue / 2);
    });
    expect(snn.training).toBe(false);
    expect(snn.stepMode).toBe("single");
    expect(Array.from(snn.stateDict()["net.0.weight"]!.data)).toEqual(Array.from(ann.stateDict()["net.0.weight"]!.data));
    expect(() => convertToSNN(snn)).toThrow(/already an SNN/);
    expect(() => convertToSNN(buildModel(spec, { activation: "relu", numClasses: 5 }))).toThrow(/ReLU/);
  });

  it("single-step inference folds each eval batch norm into the following IF step: same outputs as running both layers", () => {
    const x = Tensor.randn([5, 1, 8, 8], new Rng(21), 1.5);
    const run = (fuse: boolean) => {
      const snn = convertToSNN(ann, { T: 6 });
      // a forward hook on a layer turns its fusion off (hooks must see each layer's own output)
      const off = fuse ? [] : snn.modules().filter((m) => m instanceof BatchNorm2d).map((m) => m.registerForwardHook(() => {}));
      expect(off.length > 0).toBe(!fuse);
      const outs = noGrad(() => {
        snn.resetState();
        return Array.from({ length: 6 }, () => Array.from(snn.step(x).data));
      });
      return { outs, membrane: snn.neurons()[0]!.lastMembrane };
    };
    const backends = [jsBackend, ...(tryNativeBackend() ? [tryNativeBackend()!] : [])];
    for (const be of backends) {
      withBackend(be, () => {
        const fused = run(true);
        const plain = run(false);
        expect(fused.outs).toEqual(plain.outs);
        expect(fused.outs.flat().some((v) => v !== 0)).toBe(true);
        // inference steps do not compute the membrane
        expect(fused.membrane).toBeNull();
      });
    }
  });

  it("time-averaged IF activations track the QCFS activations with bounded error at T = L·k (constant input)", () => {
    const x = Tensor.randn([4, 1, 8, 8], new Rng(9), 1);
    const want = activations(ann, x);
    const thetas = (ann.activationLayers() as QCFS[]).map((q) => q.lambda.data[0]!);
    const L = 4;
    /** Per layer, in units of the layer's θ: max and mean |error|, and the mean signed error (bias). */
    const errAt = (T: number) => {
      const snn = convertToSNN(ann, { T, stepMode: "multi" });
      const got = activations(snn, x); // [T·B, ...] per layer
      return got.map((g, l) => {
        const n = want[l]!.length;
        let mx = 0, abs = 0, signed = 0;
        for (let i = 0; i < n; i++) {
          let avg = 0;
          for (let t = 0; t < T; t++) avg += g[t * n + i]!;
          const e = (avg / T - want[l]![i]!) / thetas[l]!;
          mx = Math.max(mx, Math.abs(e));
          abs += Math.abs(e) / n;
          signed += e / n;
        }
        return { mx, abs, signed };
      });
    };
    const eL = errAt(L);
    // the first layer sees the same input every step: at T = L the IF rate is exactly the QCFS quantisation
    expect(eL[0]!.mx).toBeLessThan(1e-6);
    for (const k of [1, 2, 4, 16]) {
      const e = errAt(L * k);
      // first layer: within half a quantisation step θ/(2L) everywhere (the QCFS bound, φ = 1/2)
      expect(e[0]!.mx).toBeLessThanOrEqual(0.5 / L + 1e-6);
      for (const le of e) {
        // deeper layers: errors compound but stay bounded and unbiased (QCFS: expected error 0)
        expect(le.abs).toBeLessThan(0.1);
        expect(Math.abs(le.signed)).toBeLessThan(0.05);
      }
    }
  });

  it("outputs: mean SNN output approaches the ANN output; BN folding changes nothing", () => {
    const x = Tensor.randn([4, 1, 8, 8], new Rng(9), 1);
    const yAnn = noGrad(() => ann.forward(x)).data;
    const err = (T: number, fold: boolean): number => {
      const snn = convertToSNN(ann, { T, foldBatchNorm: fold, stepMode: "multi" });
      const y = noGrad(() => snn.forward(x)).data; // [T, B, K]
      const n = yAnn.length;
      let e = 0, s = 0;
      for (let i = 0; i < n; i++) {
        let avg = 0;
        for (let t = 0; t < T; t++) avg += y[t * n + i]!;
        e += Math.abs(avg / T - yAnn[i]!);
        s += Math.abs(yAnn[i]!);
      }
      return e / s;
    };
    expect(err(64, false)).toBeLessThan(err(4, false));
    expect(Math.abs(err(16, true) - err(16, false))).toBeLessThan(1e-3);
    const folded = convertToSNN(ann, { T: 8, foldBatchNorm: true });
    expect(folded.modules().some((m) => m instanceof BatchNorm2d)).toBe(false);
    expect(folded.clone().stateDict()["net.0.bias"]).toBeDefined();
  });
});
