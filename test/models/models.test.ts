import { describe, expect, it } from "vitest";
import { Rng, Tensor, noGrad, sum, conv2d } from "../../src/engine/index.js";
import { buildModel, parseModelSpec, PRESET_NAMES, ModelSpecError, type ModelSpec } from "../../src/models/index.js";
import { BaseNeuron, setCalibrationDropout, TEBN } from "../../src/snn/index.js";
import { fanoutFrom } from "../../src/models/fanout.js";

describe("presets build and run (small batch)", () => {
  const inputs: Record<string, [number, number, number]> = { vggann: [2, 64, 64], vggsnn: [2, 64, 64] };
  for (const name of PRESET_NAMES) {
    it(name, () => {
      const inputShape = inputs[name];
      const ann = buildModel(name, { route: "ann", numClasses: 7, inputShape, seed: 1 });
      const shape = ann.options.inputShape;
      const x = Tensor.randn([1, ...shape], new Rng(0));
      const y = noGrad(() => ann.forward(x));
      expect(y.shape).toEqual([1, 1, 7]);
      expect(Array.from(y.data).every(Number.isFinite)).toBe(true);
      if (["vgg-small", "resnet20", "vggsnn"].includes(name)) {
        const snn = buildModel(name, { route: "snn", numClasses: 7, inputShape, T: 2, seed: 1 });
        expect(noGrad(() => snn.forward(x)).shape).toEqual([2, 1, 7]);
      }
    });
  }

  it("activation counts match spec §7", () => {
    const count = (n: string) => buildModel(n, { inputShape: n.startsWith("vgg") && n.length > 7 ? [2, 64, 64] : undefined }).activationLayers().length;
    expect(count("vgg16")).toBe(15);
    expect(count("resnet18")).toBe(17);
    expect(count("vggann")).toBe(9);
    expect(count("vgg-small")).toBe(5);
  });
});

describe("model spec validation", () => {
  const base = (layers: unknown[]) => ({ name: "t", inputShape: [1, 8, 8], layers });
  it("unknown layer type names the index", () => {
    expect(() => parseModelSpec(base([{ type: "conv", out: 4, kernel: 3 }, { type: "convv" }]))).toThrow(/layers\[1\]\.type: unknown layer type "convv"/);
  });
  it("bad field names the index and field", () => {
    expect(() => parseModelSpec(base([{ type: "conv", out: -1, kernel: 3 }]))).toThrow(/layers\[0\] \(conv\)\.out/);
    expect(() => parseModelSpec(base([{ type: "conv", out: 4, kernel: 3, strid: 2 }]))).toThrow(/layers\[0\] \(conv\)/);
  });
  it("shape mismatches name the layer", () => {
    expect(() => buildModel(base([{ type: "conv", out: 4, kernel: 3 }, { type: "linear", out: "classes" }]))).toThrow(ModelSpecError);
    expect(() => buildModel(base([{ type: "conv", out: 4, kernel: 3 }, { type: "linear", out: "classes" }]))).toThrow(/layers\[1\] \(linear\): needs a flat input but gets \[4, 6, 6\]/);
    expect(() => buildModel(base([{ type: "conv", out: 4, kernel: 9 }, { type: "flatten" }, { type: "linear", out: "classes" }]))).toThrow(/layers\[0\] \(conv\): kernel 9x9/);
    expect(() => buildModel(base([{ type: "flatten" }, { type: "linear", out: 5 }]), { numClasses: 10 })).toThrow(/outputs 5 values but numClasses is 10/);
    expect(() => buildModel(base([{ type: "flatten" }, { type: "linear", out: "classes" }, { type: "act" }]))).toThrow(/last layer must be the linear output/);
    expect(() => buildModel("vgg-17")).toThrow(/unknown model preset "vgg-17"/);
  });
});

describe("fan-out geometry", () => {
  it("conv fan-out equals the synapse count from conv backprop with unit weights (borders included)", () => {
    const layers = parseModelSpec({ name: "t", inputShape: [2, 5, 6], layers: [{ type: "conv", out: 3, kernel: 3, stride: 2, padding: 1 }, { type: "flatten" }, { type: "linear", out: "classes" }] }).layers;
    const f = fanoutFrom(layers, 0, [2, 5, 6], 10);
    const x = Tensor.zeros([1, 2, 5, 6], true);
    sum(conv2d(x, Tensor.ones([3, 2, 3, 3]), null, { stride: 2, padding: 1 })).backward();
    expect(Array.from(f)).toEqual(Array.from(x.grad!.data));
  });
  it("pool then linear: every neuron reaches out_features synapses via its pooling cell", () => {
    const layers = parseModelSpec({ name: "t", inputShape: [1, 4, 4], layers: [{ type: "avgpool", kernel: 2 }, { type: "flatten" }, { type: "linear", out: 6 }] }).layers;
    expect(Array.from(fanoutFrom(layers, 0, [1, 4, 4], 6)).every((v) => v === 6)).toBe(true);
  });
});

const tiny: ModelSpec = {
  name: "tiny",
  inputShape: [1, 6, 6],
  layers: [
    { type: "conv", out: 4, kernel: 3, padding: 1 }, { type: "bn" }, { type: "act" }, { type: "avgpool", kernel: 2 },
    { type: "block", out: 6, stride: 1 },
    { type: "flatten" }, { type: "linear", out: 8 }, { type: "act" }, { type: "linear", out: "classes" },
  ],
};

describe("SpikingModel", () => {
  it("single-step == multi-step (LIF+BN, LIF+TEBN in eval, IF)", () => {
    for (const o of [{ tebn: false }, { tebn: true }, { neuron: "if" as const, tebn: false }]) {
      const m = buildModel(tiny, { route: "snn", T: 4, numClasses: 3, seed: 2, ...o }).eval();
      const x = Tensor.randn([4, 3, 1, 6, 6], new Rng(1), 2);
      const multi = noGrad(() => m.forward(x));
      m.setStepMode("single");
      const single = noGrad(() => m.forward(x));
      expect(Array.from(single.data)).toEqual(Array.from(multi.data));
      m.resetState();
      const y0 = noGrad(() => m.step(x.index(0)));
      expect(Array.from(y0.data)).toEqual(Array.from(multi.data.subarray(0, 9)));
    }
  });

  it("static input is repeated over T; step() needs single-step mode", () => {
    const m = buildModel(tiny, { route: "snn", T: 3, numClasses: 3 });
    const x = Tensor.randn([2, 1, 6, 6], new Rng(0));
    expect(noGrad(() => m.forward(x)).shape).toEqual([3, 2, 3]);
    expect(() => m.step(x)).toThrow(/single-step mode/);
    expect(() => m.forward(Tensor.zeros([2, 1, 5, 5]))).toThrow(/expects input/);
  });

  it("monitors: spikes and exact SOPs per layer, step and sample; multi == single; cost input", () => {
    const m = buildModel(tiny, { route: "snn", T: 3, numClasses: 3, tebn: false, seed: 5 }).eval();
    const neurons = m.neurons();
    expect(neurons.map((n) => n.monitor!.geometry.name)).toEqual(["net.2", "net.4.act1", "net.4.act2", "net.7"]);
    const outs: Float32Array[] = [];
    neurons.forEach((n) => n.registerForwardHook((_m, _x, y) => outs.push(y.data)));
    m.monitors.enable();
    const x = Tensor.randn([3, 2, 1, 6, 6], new Rng(1), 3);
    noGrad(() => m.forward(x));
    const rec = m.monitors.collect();
    expect([rec.T, rec.N, rec.layers.length]).toEqual([3, 2, 4]);
    rec.layers.forEach((l, li) => {
      const s = outs[li]!;
      for (let t = 0; t < 3; t++) {
        for (let b = 0; b < 2; b++) {
          let c = 0, o = 0;
          for (let i = 0; i < l.neurons; i++) {
            const v = s[(t * 2 + b) * l.neurons + i]!;
            c += v;
            o += v * l.fanout![i]!;
          }
          expect(l.spikes[t * 2 + b]).toBe(c);
          expect(l.sops[t * 2 + b]).toBeCloseTo(o, 3);
        }
      }
    });
    expect(rec.layers[3]!.fanout!.every((v) => v === 3)).toBe(true);
    expect(rec.inputMacs).toBe(4 * 36 * 9);
    m.monitors.clear();
    m.setStepMode("single");
    noGrad(() => m.forward(x));
    const rec2 = m.monitors.collect();
    rec2.layers.forEach((l, i) => expect(Array.from(l.spikes)).toEqual(Array.from(rec.layers[i]!.spikes)));
    const ci = m.monitors.toCostInput(rec);
    expect(ci.layers.map((l) => l.name)).toEqual(["input", "net.2", "net.4.act1", "net.4.act2", "net.7"]);
    expect((ci.spikes as { shape: number[] }).shape).toEqual([3, 2, 5]);
  });

  it("monitors follow samples leaving the batch (anytime inference)", () => {
    const m = buildModel(tiny, { route: "snn", T: 3, numClasses: 3, tebn: false }).eval().setStepMode("single");
    m.monitors.enable();
    const x = Tensor.randn([3, 2, 1, 6, 6], new Rng(1), 3);
    noGrad(() => {
      m.step(x.index(0));
      m.selectSamples([1]);
      m.step(x.index(1).slice(1, 2));
    });
    m.resetState();
    const rec = m.monitors.collect();
    expect([rec.T, rec.N]).toEqual([2, 2]);
    for (const l of rec.layers) expect(l.spikes[1 * 2 + 0]).toBe(0); // sample 0 stopped after step 1
  });

  it("RCS statistics are pushed by every activation layer when enabled", () => {
    for (const route of ["ann", "snn"] as const) {
      const m = buildModel(tiny, { route, T: route === "ann" ? 1 : 4, numClasses: 3 });
      m.rcs.enabled = true;
      m.forward(Tensor.randn([2, 1, 6, 6], new Rng(0)));
      expect(m.rcs.layers.map((s) => s.layer)).toEqual(["net.2", "net.4.act1", "net.4.act2", "net.7"]);
      expect(m.rcs.layers.every((s) => s.r.shape[0] === 2 && s.r.requiresGrad)).toBe(true);
    }
  });

  it("calibration dropout perturbs every spiking output and is removed afterwards", () => {
    const m = buildModel(tiny, { route: "snn", neuron: "if", T: 4, numClasses: 3, tebn: false }).eval();
    const x = Tensor.randn([2, 1, 6, 6], new Rng(0), 3);
    const clean = noGrad(() => m.forward(x)).data;
    const undo = setCalibrationDropout(m, 0.3, new Rng(1));
    expect(m.neurons().every((n: BaseNeuron) => n.outputDropout?.p === 0.3)).toBe(true);
    const noisy = noGrad(() => m.forward(x)).data;
    expect(Array.from(noisy)).not.toEqual(Array.from(clean));
    undo();
    expect(Array.from(noGrad(() => m.forward(x)).data)).toEqual(Array.from(clean));
  });

  it("stateDict round trip, clone and a clear error on a mismatched checkpoint", () => {
    const a = buildModel(tiny, { route: "snn", T: 4, numClasses: 3, seed: 1 });
    expect(a.modules().some((m) => m instanceof TEBN)).toBe(true);
    const b = buildModel(tiny, { route: "snn", T: 4, numClasses: 3, seed: 2 });
    b.loadStateDict(a.stateDict());
    const x = Tensor.randn([1, 1, 6, 6], new Rng(0));
    a.eval();
    b.eval();
    expect(Array.from(noGrad(() => b.forward(x)).data)).toEqual(Array.from(noGrad(() => a.forward(x)).data));
    expect(Array.from(noGrad(() => a.clone().forward(x)).data)).toEqual(Array.from(noGrad(() => a.forward(x)).data));
    const c = buildModel(tiny, { route: "snn", T: 4, numClasses: 5 });
    expect(() => c.loadStateDict(a.stateDict())).toThrow(/shape mismatch for net\.8\.weight: model has \[5, 8\], state dict has \[3, 8\]/);
  });
});
