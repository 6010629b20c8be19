import { describe, expect, it } from "vitest";
import { Rng, Tensor, noGrad } from "../../src/engine/index.js";
import { BatchNorm2d, BasicBlock, Conv2d, Flatten, Linear, Parameter, ReLU, Sequential, StateDictError, AvgPool2d, Dropout } from "../../src/nn/index.js";

const net = (seed: number) => {
  const rng = new Rng(seed);
  return new Sequential(new Conv2d(1, 4, 3, { padding: 1, rng }), new BatchNorm2d(4), new ReLU(), new AvgPool2d(2), new Flatten(), new Linear(16, 3, { rng }));
};

describe("Module", () => {
  it("dotted names, buffers, weight-decay flags", () => {
    const m = net(0);
    expect(m.namedParameters().map(([n]) => n)).toEqual(["0.weight", "0.bias", "1.weight", "1.bias", "5.weight", "5.bias"]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(["1.runningMean", "1.runningVar"]);
    expect(m.parameters().map((p) => p.weightDecay)).toEqual([true, true, false, false, true, true]);
    expect(m.parameters().every((p) => p instanceof Parameter && p.requiresGrad)).toBe(true);
    expect(Object.keys(m.stateDict())).toHaveLength(8);
  });

  it("train/eval propagate; apply visits children first", () => {
    const m = net(0);
    m.eval();
    expect(m.modules().every((x) => !x.training)).toBe(true);
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
    const seen: string[] = [];
    m.apply((x) => seen.push(x.constructor.name));
    expect(seen.at(-1)).toBe("Sequential");
  });

  it("stateDict round trip reproduces outputs", () => {
    const a = net(1).eval();
    const b = net(2).eval();
    const x = Tensor.randn([2, 1, 4, 4], new Rng(3));
    const ya = noGrad(() => a.forward(x));
    expect(Array.from(noGrad(() => b.forward(x)).data)).not.toEqual(Array.from(ya.data));
    const w = b.parameters()[0]!;
    b.loadStateDict(a.stateDict());
    expect(b.parameters()[0]).toBe(w); // identity kept for optimisers
    expect(Array.from(noGrad(() => b.forward(x)).data)).toEqual(Array.from(ya.data));
  });

  it("loadStateDict names missing, unexpected and mismatched keys, and writes nothing on error", () => {
    const a = net(1);
    const sd = { ...a.stateDict() };
    delete sd["5.bias"];
    sd["9.weight"] = Tensor.zeros([1]);
    sd["0.weight"] = Tensor.zeros([4, 1, 5, 5]);
    const b = net(2);
    const before = Array.from(b.parameters()[1]!.data);
    let err: unknown;
    try {
      b.loadStateDict(sd, { context: "ckpt.safetensors" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    const msg = (err as Error).message;
    expect(msg).toContain("ckpt.safetensors");
    expect(msg).toContain("missing keys: 5.bias");
    expect(msg).toContain("unexpected keys: 9.weight");
    expect(msg).toContain("shape mismatch for 0.weight: model has [4, 1, 3, 3], state dict has [4, 1, 5, 5]");
    expect(Array.from(b.parameters()[1]!.data)).toEqual(before);
    // non-strict tolerates missing/unexpected but never a shape mismatch
    delete sd["0.weight"];
    expect(() => b.loadStateDict(sd, { strict: false })).not.toThrow();
  });

  it("forward hooks run through call()", () => {
    const m = net(0);
    const shapes: number[][] = [];
    const off = m.at(2).registerForwardHook((_m, _x, y) => shapes.push([...y.shape]));
    noGrad(() => m.forward(Tensor.zeros([1, 1, 4, 4])));
    off();
    noGrad(() => m.forward(Tensor.zeros([1, 1, 4, 4])));
    expect(shapes).toEqual([[1, 4, 4, 4]]);
  });
});

describe("layers", () => {
  it("Conv2d Kaiming-normal fan_out init, zero bias", () => {
    const c = new Conv2d(16, 64, 3, { rng: new Rng(0) });
    let s = 0;
    for (const v of c.weight.data) s += v * v;
    const std = Math.sqrt(s / c.weight.size);
    expect(std).toBeGreaterThan(Math.sqrt(2 / (64 * 9)) * 0.95);
    expect(std).toBeLessThan(Math.sqrt(2 / (64 * 9)) * 1.05);
    expect(Array.from(c.bias!.data).every((v) => v === 0)).toBe(true);
  });

  it("Linear PyTorch default init bounds", () => {
    const l = new Linear(100, 10, { rng: new Rng(0) });
    expect(Math.max(...Array.from(l.weight.data).map(Math.abs))).toBeLessThanOrEqual(0.1);
    expect(Math.max(...Array.from(l.bias!.data).map(Math.abs))).toBeLessThanOrEqual(0.1);
  });

  it("shape errors name the layer", () => {
    expect(() => new Conv2d(3, 8, 3).forward(Tensor.zeros([1, 2, 5, 5]))).toThrow(/Conv2d: expects \[N, 3, H, W\]/);
    expect(() => new Linear(4, 2).forward(Tensor.zeros([1, 5]))).toThrow(/Linear: expects \[N, 4\]/);
    expect(() => new BatchNorm2d(3).forward(Tensor.zeros([1, 4, 2, 2]))).toThrow(/BatchNorm2d/);
  });

  it("BasicBlock with downsample shortcut; Dropout is identity in eval", () => {
    const b = new BasicBlock(4, 8, { stride: 2, rng: new Rng(0) });
    expect(b.namedParameters().map(([n]) => n)).toContain("shortcut.0.weight");
    const y = noGrad(() => b.forward(Tensor.randn([2, 4, 6, 6], new Rng(1))));
    expect(y.shape).toEqual([2, 8, 3, 3]);
    const d = new Dropout(0.5).eval();
    const x = Tensor.ones([10]);
    expect(d.forward(x)).toBe(x);
  });
});
