import { describe, expect, it } from "vitest";
import { Tensor } from "../../src/engine/tensor.js";
import { Rng } from "../../src/engine/random.js";
import { countCorrect, meanOutputLoss, predictions, taskLoss, tetLoss, withRegulariser } from "../../src/train/losses.js";

const T = 3, B = 2, K = 4;
const rng = new Rng(7);
const O = Array.from({ length: T * B * K }, () => rng.normal() * 2);
const y = Int32Array.from([2, 0]);
const at = (t: number, b: number, k: number): number => O[(t * B + b) * K + k]!;

/** float64 cross-entropy of one row with optional label smoothing (PyTorch's definition). */
function ce(row: number[], label: number, eps = 0): number {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  const logp = row.map((v) => v - lse);
  return -(1 - eps) * logp[label]! - (eps / row.length) * logp.reduce((s, v) => s + v, 0);
}
function softmax(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
const tensor = () => Tensor.from(O, [T, B, K], true);

describe("mean-output CE", () => {
  it("equals CE of the time-averaged output (with and without label smoothing)", () => {
    for (const eps of [0, 0.1]) {
      let want = 0;
      for (let b = 0; b < B; b++) {
        const row = Array.from({ length: K }, (_, k) => (at(0, b, k) + at(1, b, k) + at(2, b, k)) / T);
        want += ce(row, y[b]!, eps) / B;
      }
      expect(meanOutputLoss(tensor(), y, eps).item()).toBeCloseTo(want, 5);
    }
  });
  it("T = 1 is plain CE", () => {
    const x = Tensor.from(O.slice(0, B * K), [1, B, K]);
    const want = (ce(O.slice(0, K), 2) + ce(O.slice(K, 2 * K), 0)) / 2;
    expect(taskLoss(x, y, { type: "mean" }).item()).toBeCloseTo(want, 5);
  });
});

describe("TET", () => {
  const lambda = 0.3, phi = 1; // a large λ so the MSE term matters in the checks
  function tetRef(o: number[]): number {
    let ceSum = 0;
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) {
      ceSum += ce(Array.from({ length: K }, (_, k) => o[(t * B + b) * K + k]!), y[b]!);
    }
    const mse = o.reduce((s, v) => s + (v - phi) ** 2, 0) / o.length;
    return (1 - lambda) * (ceSum / (T * B)) + lambda * mse;
  }

  it("matches (1−λ)·mean_t CE(O_t) + λ·MSE(O, φ) computed by hand", () => {
    expect(tetLoss(tensor(), y, { lambda, phi }).item()).toBeCloseTo(tetRef(O), 5);
    // default λ = 1e-3, φ = 1
    const l0 = taskLoss(tensor(), y, { type: "tet" }).item();
    let ceSum = 0;
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) ceSum += ce(Array.from({ length: K }, (_, k) => at(t, b, k)), y[b]!);
    const mse = O.reduce((s, v) => s + (v - 1) ** 2, 0) / O.length;
    expect(l0).toBeCloseTo(0.999 * (ceSum / (T * B)) + 1e-3 * mse, 5);
  });

  it("λ = 0 drops the MSE term", () => {
    const l = tetLoss(tensor(), y, { lambda: 0 }).item();
    let ceSum = 0;
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) ceSum += ce(Array.from({ length: K }, (_, k) => at(t, b, k)), y[b]!);
    expect(l).toBeCloseTo(ceSum / (T * B), 5);
  });

  it("gradient equals the analytic one and finite differences", () => {
    const x = tensor();
    tetLoss(x, y, { lambda, phi }).backward();
    const g = x.grad!.data;
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) {
      const p = softmax(Array.from({ length: K }, (_, k) => at(t, b, k)));
      for (let k = 0; k < K; k++) {
        const i = (t * B + b) * K + k;
        const analytic = ((1 - lambda) * (p[k]! - (k === y[b] ? 1 : 0))) / (T * B) + (lambda * 2 * (O[i]! - phi)) / (T * B * K);
        expect(g[i]!).toBeCloseTo(analytic, 6);
        const h = 1e-4;
        const plus = [...O]; plus[i]! += h;
        const minus = [...O]; minus[i]! -= h;
        expect(g[i]!).toBeCloseTo((tetRef(plus) - tetRef(minus)) / (2 * h), 5);
      }
    }
  });

  it("gradient of the mean-output CE spreads 1/T over the steps", () => {
    const x = tensor();
    meanOutputLoss(x, y).backward();
    const g = x.grad!.data;
    for (let b = 0; b < B; b++) {
      const p = softmax(Array.from({ length: K }, (_, k) => (at(0, b, k) + at(1, b, k) + at(2, b, k)) / T));
      for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) {
        expect(g[(t * B + b) * K + k]!).toBeCloseTo((p[k]! - (k === y[b] ? 1 : 0)) / (B * T), 6);
      }
    }
  });

  it("rejects outputs that are not [T, B, K] or a label count mismatch", () => {
    expect(() => tetLoss(Tensor.zeros([B, K]), y)).toThrow(/\[T, B, K\]/);
    expect(() => meanOutputLoss(Tensor.zeros([T, 3, K]), y)).toThrow(/2 labels for a batch of 3/);
  });
});

describe("combination and accuracy", () => {
  it("loss = task + α·rcs, switchable", () => {
    const task = Tensor.from([1.5], [], true);
    const rcs = Tensor.from([10], [], true);
    expect(withRegulariser(task, rcs, 0.002).item()).toBeCloseTo(1.52, 6);
    expect(withRegulariser(task, rcs, 0)).toBe(task);
    expect(withRegulariser(task, null, 0.5)).toBe(task);
    const l = withRegulariser(task, rcs, 0.002);
    l.backward();
    expect(rcs.grad!.item()).toBeCloseTo(0.002, 8);
    expect(task.grad!.item()).toBeCloseTo(1, 8);
  });
  it("predictions use the summed output over time, first max on ties", () => {
    const x = Tensor.from([[[0, 1, 0], [2, 2, 0]], [[0, 1, 5], [0, 0, 0]]]);
    expect(Array.from(predictions(x))).toEqual([2, 0]);
    expect(countCorrect(x, Int32Array.from([2, 1]))).toBe(1);
  });
});
