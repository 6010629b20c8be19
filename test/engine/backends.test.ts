/**
 * Every op under the JS reference backend and the native backend: outputs and gradients must agree to a
 * relative error below 1e-4. Without the native addon the comparison is skipped (the op still runs on js).
 */
import { describe, expect, it } from "vitest";
import * as E from "../../src/engine/index.js";
import { Tensor, withBackend } from "../../src/engine/index.js";
import { compareBackends, forwardBackward, nativeAvailable, rand, randn } from "../helpers/gradcheck.js";

type Case = [name: string, inputs: () => Tensor[], fn: (...xs: Tensor[]) => Tensor];

const r = (shape: number[], seed: number, std = 1): Tensor => randn(shape, seed, true, std);
const pos = (shape: number[], seed: number): Tensor => rand(shape, seed, 0.5, 2, true);
/** A leaf requiring grad with a large offset (tests cancellation in variance computations). */
const shifted = (shape: number[], seed: number, offset: number): Tensor => {
  const t = randn(shape, seed, true);
  for (let i = 0; i < t.size; i++) t.data[i]! += offset;
  return t;
};
const labels = Array.from({ length: 32 }, (_, i) => (i * 7) % 10);

const cases: Case[] = [
  ["add same shape", () => [r([64, 130], 1), r([64, 130], 2)], (a, b) => E.add(a!, b!)],
  ["add channel bias", () => [r([4, 16, 9, 9], 1), r([1, 16, 1, 1], 2)], (a, b) => E.add(a!, b!)],
  ["sub same shape", () => [r([33, 70], 1), r([33, 70], 2)], (a, b) => E.sub(a!, b!)],
  ["sub broadcast", () => [r([8, 1, 5], 1), r([7, 1], 2)], (a, b) => E.sub(a!, b!)],
  ["mul same shape", () => [r([64, 130], 1), r([64, 130], 2)], (a, b) => E.mul(a!, b!)],
  ["mul scalar", () => [r([3, 50], 1)], (a) => E.mul(a!, 0.3)],
  ["div", () => [r([6, 20], 1), pos([20], 2)], (a, b) => E.div(a!, b!)],
  ["maximum", () => [r([6, 20], 1), r([6, 20], 2)], (a, b) => E.maximum(a!, b!)],
  ["minimum", () => [r([6, 20], 1), r([20], 2)], (a, b) => E.minimum(a!, b!)],
  ["neg", () => [r([100], 1)], (a) => E.neg(a!)],
  ["exp", () => [r([100], 1)], (a) => E.exp(a!)],
  ["log", () => [pos([100], 1)], (a) => E.log(a!)],
  ["sqrt", () => [pos([100], 1)], (a) => E.sqrt(a!)],
  ["pow", () => [pos([100], 1)], (a) => E.pow(a!, 2.5)],
  ["abs", () => [r([100], 1)], (a) => E.abs(a!)],
  ["relu", () => [r([64, 130], 1)], (a) => E.relu(a!)],
  ["sigmoid", () => [r([100], 1)], (a) => E.sigmoid(a!)],
  ["tanh", () => [r([100], 1)], (a) => E.tanh(a!)],
  ["clamp", () => [r([100], 1)], (a) => E.clamp(a!, -0.5, 0.7)],
  ["floorSte", () => [r([100], 1, 3)], (a) => E.floorSte(a!)],
  ["where", () => [r([10, 10], 1), r([10], 2)], (a, b) => E.where(E.Tensor.from(Array.from({ length: 10 }, (_, i) => i % 2), [10, 1]), a!, b!)],
  ["sum all", () => [r([300, 70], 1)], (a) => E.sum(a!)],
  ["sum axes", () => [r([4, 5, 6], 1)], (a) => E.sum(a!, [0, 2])],
  ["mean", () => [r([4, 5, 6], 1)], (a) => E.mean(a!, 1, true)],
  ["max", () => [r([4, 5, 6], 1)], (a) => E.max(a!, -1)],
  ["transpose", () => [r([3, 40, 30], 1)], (a) => E.transpose(a!, 1, 2)],
  ["permute", () => [r([2, 3, 4, 5], 1)], (a) => E.permute(a!, [3, 1, 0, 2])],
  ["concat", () => [r([2, 3, 4], 1), r([2, 5, 4], 2)], (a, b) => E.concat([a!, b!], 1)],
  ["stack", () => [r([3, 4], 1), r([3, 4], 2)], (a, b) => E.stack([a!, b!], 1)],
  ["repeatTime", () => [r([4, 6], 1)], (a) => E.repeatTime(a!, 4)],
  ["matmul", () => [r([64, 48], 1), r([48, 40], 2)], (a, b) => E.matmul(a!, b!)],
  ["matmul batched", () => [r([3, 16, 24], 1), r([3, 24, 8], 2)], (a, b) => E.matmul(a!, b!)],
  ["linear", () => [r([32, 100], 1), r([24, 100], 2, 0.1), r([24], 3)], (x, w, b) => E.linear(x!, w!, b!)],
  ["conv2d 3x3 pad 1", () => [r([4, 8, 10, 10], 1), r([16, 8, 3, 3], 2, 0.2), r([16], 3)], (x, w, b) => E.conv2d(x!, w!, b!, { padding: 1 })],
  ["conv2d first layer", () => [randn([4, 1, 12, 12], 1), r([8, 1, 3, 3], 2, 0.3), r([8], 3)], (x, w, b) => E.conv2d(x!, w!, b!, { padding: 1 })],
  ["conv2d stride 2 groups 2", () => [r([2, 4, 9, 9], 1), r([6, 2, 3, 3], 2, 0.3)], (x, w) => E.conv2d(x!, w!, null, { stride: 2, groups: 2 })],
  ["conv2d 1x1 rect pad", () => [r([2, 6, 7, 5], 1), r([4, 6, 1, 3], 2, 0.3)], (x, w) => E.conv2d(x!, w!, null, { padding: [0, 1] })],
  ["conv2d 32ch 14x14 (bench shape, smaller batch)", () => [r([4, 32, 14, 14], 1), r([32, 32, 3, 3], 2, 0.1)], (x, w) => E.conv2d(x!, w!, null, { padding: 1 })],
  ["conv2d 1ch 28x28 first layer (bench shape, smaller batch)", () => [randn([8, 1, 28, 28], 1), r([32, 1, 3, 3], 2, 0.3)], (x, w) => E.conv2d(x!, w!, null, { padding: 1 })],
  ["avgPool2d", () => [r([2, 4, 8, 8], 1)], (x) => E.avgPool2d(x!, 2)],
  ["avgPool2d pad", () => [r([2, 4, 7, 7], 1)], (x) => E.avgPool2d(x!, 3, 2, 1)],
  ["maxPool2d", () => [r([2, 4, 8, 8], 1)], (x) => E.maxPool2d(x!, 2)],
  ["maxPool2d pad", () => [r([2, 4, 7, 7], 1)], (x) => E.maxPool2d(x!, 3, 2, 1)],
  ["adaptiveAvgPool2d", () => [r([2, 4, 5, 5], 1)], (x) => E.adaptiveAvgPool2d(x!, 1)],
  ["batchNorm train", () => [r([8, 6, 5, 5], 1, 2), pos([6], 2), r([6], 3)],
    (x, g, b) => E.batchNorm(x!, g!, b!, Tensor.zeros([6]), Tensor.ones([6]), { training: true })],
  ["batchNorm train, large channel means", () => [shifted([16, 4, 6, 6], 1, 1000), pos([4], 2), r([4], 3)],
    (x, g, b) => E.batchNorm(x!, g!, b!, null, null, { training: true })],
  ["batchNorm eval", () => [r([8, 6, 5, 5], 1, 2), pos([6], 2), r([6], 3)],
    (x, g, b) => E.batchNorm(x!, g!, b!, Tensor.from([0.1, 0.2, 0, -0.1, 0.3, 0]), Tensor.from([1, 2, 0.5, 1, 3, 1]), { training: false })],
  ["dropout", () => [r([20, 20], 1)], (x) => E.dropout(x!, 0.4, true, new E.Rng(3))],
  ["softmax", () => [r([8, 10], 1)], (x) => E.softmax(x!)],
  ["logSoftmax", () => [r([8, 10], 1)], (x) => E.logSoftmax(x!, 0)],
  ["crossEntropy", () => [r([32, 10], 1)], (x) => E.crossEntropy(x!, labels, { labelSmoothing: 0.1 })],
  ["mseLoss", () => [r([8, 10], 1), r([8, 10], 2)], (a, b) => E.mseLoss(a!, b!)],
  ["topk", () => [r([8, 20], 1)], (x) => E.topk(x!, 5).values],
];

describe("native vs js backend", () => {
  it("reports whether the native backend is available", () => {
    if (!nativeAvailable()) console.warn(`native backend unavailable (${E.nativeLoadError()}): comparisons skipped`);
    expect(typeof nativeAvailable()).toBe("boolean");
  });
  for (const [name, inputs, fn] of cases) {
    it(name, () => {
      const run = (): Float32Array[] => forwardBackward(fn, inputs());
      // always runs on the reference backend; compared with native when available
      const ref = withBackend("js", run);
      for (const buf of ref) expect(buf.every((v) => Number.isFinite(v))).toBe(true);
      const compared = compareBackends(run, 1e-4, name);
      expect(compared).toBe(nativeAvailable());
    });
  }
});

describe("kernels on views", () => {
  it("sliced tensors (storage at a non-zero offset) give the same results as copies, on every backend", () => {
    const backends: ("js" | "native")[] = nativeAvailable() ? ["js", "native"] : ["js"];
    for (const be of backends) {
      withBackend(be, () => {
        const x = randn([5, 3, 6, 6], 1);
        const w = randn([4, 3, 3, 3], 2);
        const v = x.slice(2, 4);
        expect(v.data.byteOffset).toBeGreaterThan(0);
        const c = v.clone();
        const pairs: [Tensor, Tensor][] = [
          [E.conv2d(v, w, null, { padding: 1 }), E.conv2d(c, w, null, { padding: 1 })],
          [E.add(v, v), E.add(c, c)],
          [E.mul(v, v), E.mul(c, c)],
          [E.relu(v), E.relu(c)],
          [E.sum(v), E.sum(c)],
          [E.maxPool2d(v, 2), E.maxPool2d(c, 2)],
          [E.avgPool2d(v, 2), E.avgPool2d(c, 2)],
          [E.batchNorm(v, null, null, null, null, { training: true }), E.batchNorm(c, null, null, null, null, { training: true })],
          [E.matmul(v.reshape([6, 36]), E.transpose(c.reshape([6, 36]), 0, 1)), E.matmul(c.reshape([6, 36]), E.transpose(c.reshape([6, 36]), 0, 1))],
        ];
        pairs.forEach(([p, q], i) => {
          if (!p.data.every((val, j) => val === q.data[j])) throw new Error(`${be}: view case ${i} differs from the copy`);
        });
      });
    }
  });
});
