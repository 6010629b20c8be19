import { describe, expect, it } from "vitest";
import { Tensor } from "../../src/engine/tensor.js";
import { SGD } from "../../src/train/optim/sgd.js";
import { Adam } from "../../src/train/optim/adam.js";
import { LrSchedule } from "../../src/train/schedule.js";

const P0 = [0.5, -1.0, 2.0];
const GRADS = [
  [0.1, -0.2, 0.3],
  [0.05, 0.4, -0.1],
  [-0.3, 0.1, 0.2],
];
// produced by PyTorch 1.13 (torch.optim.SGD / Adam / AdamW) with the same parameters and gradients
const TORCH = {
  sgd_m: [0.49064040184020996, -1.0262306928634644, 1.9065935611724854],
  sgd_nesterov: [0.5051634311676025, -1.0506463050842285, 1.8701324462890625],
  sgd_plain: [0.51500004529953, -1.0299999713897705, 1.9600000381469727],
  adam: [0.4838418960571289, -0.9972104430198669, 1.9787455797195435],
  adamw: [0.4826812744140625, -0.9948369860649109, 1.9739969968795776],
};

function param(values = P0, weightDecay?: boolean): Tensor & { weightDecay?: boolean } {
  const p = Tensor.from(values, [values.length], true) as Tensor & { weightDecay?: boolean };
  if (weightDecay !== undefined) p.weightDecay = weightDecay;
  return p;
}

function runSteps(opt: { step(): void }, p: Tensor, grads = GRADS): number[] {
  for (const g of grads) {
    p.grad = Tensor.from(g, [g.length]);
    opt.step();
  }
  return Array.from(p.data);
}

/** PyTorch's documented SGD rule, in float64. */
function refSgd(lr: number, mom: number, wd: number, nesterov: boolean): number[] {
  const p = [...P0];
  const buf: number[] = [];
  GRADS.forEach((g, step) => {
    for (let i = 0; i < p.length; i++) {
      let d = g[i]! + wd * p[i]!;
      if (mom !== 0) {
        buf[i] = step === 0 ? d : mom * buf[i]! + d;
        d = nesterov ? d + mom * buf[i]! : buf[i]!;
      }
      p[i] = p[i]! - lr * d;
    }
  });
  return p;
}

/** PyTorch's documented Adam / AdamW rule, in float64. */
function refAdam(lr: number, wd: number, decoupled: boolean, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[] {
  const p = [...P0];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  GRADS.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < 3; i++) {
      let gi = g[i]!;
      if (decoupled) p[i] = p[i]! * (1 - lr * wd);
      else gi += wd * p[i]!;
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
      const mh = m[i]! / (1 - b1 ** t);
      const vh = v[i]! / (1 - b2 ** t);
      p[i] = p[i]! - (lr * mh) / (Math.sqrt(vh) + eps);
    }
  });
  return p;
}

function close(a: number[], b: number[], tol = 1e-6): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(Math.abs(x - b[i]!)).toBeLessThan(tol));
}

describe("SGD", () => {
  it("momentum + weight decay matches the documented rule and PyTorch", () => {
    const p = param();
    const got = runSteps(new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }), p);
    close(got, refSgd(0.1, 0.9, 0.01, false));
    close(got, TORCH.sgd_m);
  });
  it("nesterov matches PyTorch", () => {
    const p = param();
    const got = runSteps(new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true }), p);
    close(got, refSgd(0.1, 0.9, 0.01, true));
    close(got, TORCH.sgd_nesterov);
  });
  it("plain SGD (no momentum)", () => {
    const p = param();
    close(runSteps(new SGD([p], { lr: 0.1 }), p), TORCH.sgd_plain);
  });
  it("excludes parameters flagged weightDecay=false unless decayAll", () => {
    const a = param(P0, false);
    const b = param(P0, false);
    const c = param(P0);
    runSteps(new SGD([["a", a]], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }), a);
    runSteps(new SGD([["b", b]], { lr: 0.1, momentum: 0.9, weightDecay: 0.01, decayAll: true }), b);
    runSteps(new SGD([["c", c]], { lr: 0.1, momentum: 0.9, weightDecay: 0 }), c);
    close(Array.from(a.data), refSgd(0.1, 0.9, 0, false));
    expect(Array.from(a.data)).toEqual(Array.from(c.data));
    close(Array.from(b.data), TORCH.sgd_m);
  });
  it("skips parameters without a gradient and keeps their buffer", () => {
    const p = param();
    const q = param([1, 2]);
    const opt = new SGD([["p", p], ["q", q]], { lr: 0.1, momentum: 0.9 });
    p.grad = Tensor.from([1, 1, 1], [3]);
    opt.step();
    expect(Array.from(q.data)).toEqual([1, 2]);
    expect(opt.stateDict().buffers.has("q.momentum")).toBe(false);
  });
  it("state round trip continues identically", () => {
    const p1 = param();
    const o1 = new SGD([["w", p1]], { lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true });
    runSteps(o1, p1, GRADS.slice(0, 2));
    const state = o1.stateDict();
    const p2 = param(Array.from(p1.data));
    const o2 = new SGD([["w", p2]], { lr: 0.5, momentum: 0.9, weightDecay: 0.01, nesterov: true });
    o2.loadStateDict(state);
    expect(o2.lr).toBe(0.1);
    runSteps(o1, p1, GRADS.slice(2));
    runSteps(o2, p2, GRADS.slice(2));
    expect(Array.from(p2.data)).toEqual(Array.from(p1.data));
  });
  it("rejects state of another optimiser or shape", () => {
    const p = param();
    const a = new Adam([["w", p]], { lr: 0.1 });
    p.grad = Tensor.from([1, 1, 1], [3]);
    a.step();
    expect(() => new SGD([["w", p]], { lr: 0.1 }).loadStateDict(a.stateDict())).toThrow(/adamw/);
    const s = new SGD([["w", p]], { lr: 0.1, momentum: 0.9 });
    s.step();
    expect(() => new SGD([["w", param([1])]], { lr: 0.1 }).loadStateDict(s.stateDict())).toThrow(/w\.momentum.*3 elements/);
  });
});

describe("Adam / AdamW", () => {
  it("Adam with L2 weight decay matches the documented rule and PyTorch", () => {
    const p = param();
    const got = runSteps(new Adam([p], { lr: 0.01, weightDecay: 0.01, decoupled: false }), p);
    close(got, refAdam(0.01, 0.01, false));
    close(got, TORCH.adam);
  });
  it("AdamW with decoupled weight decay matches PyTorch", () => {
    const p = param();
    const got = runSteps(new Adam([p], { lr: 0.01, weightDecay: 0.1 }), p);
    close(got, refAdam(0.01, 0.1, true));
    close(got, TORCH.adamw);
  });
  it("state round trip continues identically (step counts included)", () => {
    const p1 = param();
    const o1 = new Adam([["w", p1]], { lr: 0.01, weightDecay: 0.1 });
    runSteps(o1, p1, GRADS.slice(0, 2));
    const p2 = param(Array.from(p1.data));
    const o2 = new Adam([["w", p2]], { lr: 0.01, weightDecay: 0.1 });
    o2.loadStateDict(o1.stateDict());
    runSteps(o1, p1, GRADS.slice(2));
    runSteps(o2, p2, GRADS.slice(2));
    expect(Array.from(p2.data)).toEqual(Array.from(p1.data));
  });
});

describe("LR schedules", () => {
  it("per-epoch cosine equals CosineAnnealingLR(T_max=epochs) stepped per epoch", () => {
    const s = new LrSchedule({ type: "cosine", baseLr: 0.1, epochs: 8, stepsPerEpoch: 10 });
    for (let e = 0; e < 8; e++) {
      const want = (0.1 * (1 + Math.cos((Math.PI * e) / 8))) / 2;
      expect(s.lrAt(e * 10)).toBeCloseTo(want, 12);
      expect(s.lrAt(e * 10 + 9)).toBeCloseTo(want, 12);
    }
  });
  it("per-step cosine is smooth and ends near minLr", () => {
    const s = new LrSchedule({ type: "cosine", per: "step", baseLr: 0.1, epochs: 2, stepsPerEpoch: 5, minLr: 0.001 });
    expect(s.lrAt(0)).toBeCloseTo(0.1, 12);
    expect(s.lrAt(5)).toBeCloseTo(0.001 + 0.099 / 2, 12);
    expect(s.lrAt(1)).toBeLessThan(s.lrAt(0));
    expect(s.lrAt(9)).toBeCloseTo(0.001 + (0.099 * (1 + Math.cos((Math.PI * 9) / 10))) / 2, 12);
  });
  it("step schedule decays by gamma every stepSize epochs", () => {
    const s = new LrSchedule({ type: "step", baseLr: 1, epochs: 10, stepsPerEpoch: 3, stepSize: 3, gamma: 0.5 });
    expect([0, 8, 9, 17, 18, 29].map((g) => s.lrAt(g))).toEqual([1, 1, 0.5, 0.5, 0.25, 0.125]);
  });
  it("linear warm-up, then the main schedule over the remaining epochs", () => {
    const s = new LrSchedule({ type: "cosine", baseLr: 0.2, epochs: 5, stepsPerEpoch: 4, warmupEpochs: 1 });
    close([0, 1, 2, 3].map((g) => s.lrAt(g)), [0.05, 0.1, 0.15, 0.2], 1e-12);
    expect(s.lrAt(4)).toBeCloseTo(0.2, 12);
    expect(s.lrAt(8)).toBeCloseTo((0.2 * (1 + Math.cos(Math.PI / 4))) / 2, 12);
  });
  it("rejects a warm-up as long as training", () => {
    expect(() => new LrSchedule({ type: "cosine", baseLr: 0.1, epochs: 2, stepsPerEpoch: 1, warmupEpochs: 2 })).toThrow(/warmupEpochs/);
  });
});
