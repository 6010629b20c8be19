import { beforeAll, describe, expect, it } from "vitest";
import { convertToSNN } from "../../src/snn/index.js";
import { loadConfigData } from "../../src/train/data-loading.js";
import type { SplitSource } from "../../src/train/data.js";
import { collectOutputs, inferAnytime, loadModelCheckpoint, type CollectResult } from "../../src/inference/index.js";
import { getPolicy, predictionsAt, type PolicyName } from "../../src/cutoff/index.js";
import type { SpikingModel } from "../../src/models/index.js";
import { tinyAnn, TINY_SPEC } from "./helpers.js";
import { TEBN } from "../../src/snn/index.js";
import { join } from "node:path";
import { validateConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";
import { makeTempDir } from "../helpers/tmp.js";

const T = 8;

describe("anytime inference", () => {
  let snn: SpikingModel;
  let trainSplit: SplitSource;
  let testSplit: SplitSource;
  let cal: CollectResult;
  let test: CollectResult;

  beforeAll(async () => {
    const tiny = await tinyAnn();
    const { model } = loadModelCheckpoint(tiny.checkpoint);
    snn = convertToSNN(model, { T });
    const data = await loadConfigData({ ...tiny.config, augmentation: { cropPad: 0, flip: false, cutout: 0 } });
    trainSplit = data.train;
    testSplit = data.test;
    cal = collectOutputs(snn, trainSplit, { T, batchSize: 100, calibrationDropout: 0.3, seed: 1, limit: 400 });
    test = collectOutputs(snn, testSplit, { T, batchSize: 64, monitors: true });
  });

  it("collectOutputs: accumulated float32 sums of the per-step outputs, labels, cost input", () => {
    const { outputs, perStep, cost } = test;
    expect([outputs.T, outputs.N, outputs.K]).toEqual([T, 200, 10]);
    const NK = outputs.N * outputs.K;
    for (let i = 0; i < NK; i += 37) expect(outputs.Y[NK + i]).toBe(Math.fround(perStep[i]! + perStep[NK + i]!));
    expect(cost!.layers.length).toBe(4); // input + 3 spiking layers
    expect((cost!.spikes as { shape: number[] }).shape).toEqual([T, 200, 4]);
    // the trained network is better than chance at T
    let c = 0;
    for (let n = 0; n < outputs.N; n++) {
      const row = outputs.Y.subarray(((T - 1) * outputs.N + n) * 10, ((T - 1) * outputs.N + n + 1) * 10);
      if (row.indexOf(Math.max(...row)) === outputs.labels[n]) c++;
    }
    expect(c / outputs.N).toBeGreaterThan(0.4);
  });

  it("calibration dropout changes the calibration outputs; 0 gives the clean network", () => {
    const clean = collectOutputs(snn, trainSplit, { T, batchSize: 100, limit: 100 });
    const drop = collectOutputs(snn, trainSplit, { T, batchSize: 100, limit: 100, calibrationDropout: 0.3, seed: 1 });
    const again = collectOutputs(snn, trainSplit, { T, batchSize: 100, limit: 100, calibrationDropout: 0, seed: 1 });
    expect(Array.from(again.outputs.Y)).toEqual(Array.from(clean.outputs.Y));
    expect(Array.from(drop.outputs.Y)).not.toEqual(Array.from(clean.outputs.Y));
  });

  it("calibration dropout draws the same masks in both step modes: identical outputs", () => {
    const opts = { T, batchSize: 50, limit: 100, calibrationDropout: 0.3, seed: 4 };
    const multi = collectOutputs(snn, trainSplit, { ...opts, stepMode: "multi" });
    const single = collectOutputs(snn, trainSplit, { ...opts, stepMode: "single" });
    expect([multi.stepMode, single.stepMode]).toEqual(["multi", "single"]);
    expect(Array.from(single.outputs.Y)).toEqual(Array.from(multi.outputs.Y));
  });

  const cases: [PolicyName, number, Record<string, number>][] = [
    ["topk", 0.05, {}],
    ["confidence", 0.1, {}],
    ["conformal", 0.1, {}],
    ["timestep", 0, { timestep: 3 }],
  ];
  for (const [name, eps, o] of cases) {
    it(`${name}: predictions and stop times equal the post-hoc decide, sample-steps = Σ stop times`, () => {
      const policy = getPolicy(name);
      const state = policy.calibrate(cal.outputs, eps, { T, ...o });
      const post = policy.decide(state, test.outputs);
      const postPred = predictionsAt(test.outputs, post);
      const r = inferAnytime(snn, testSplit, { policy: name, state, T, batchSize: 64 });
      expect(Array.from(r.timesteps)).toEqual(Array.from(post));
      expect(Array.from(r.predictions)).toEqual(Array.from(postPred));
      expect(Array.from(r.labels)).toEqual(Array.from(test.outputs.labels));
      expect(r.stepsRun).toBe(post.reduce((a, b) => a + b, 0));
      if (name === "topk" || name === "confidence") {
        // non-trivial: samples really leave the batch early
        expect(r.meanTimestep).toBeLessThan(T);
        expect(r.activePerStep[0]![r.activePerStep[0]!.length - 1]!).toBeLessThan(64);
      }
    });
  }

  it("spikes and SOPs per sample count exactly the steps each sample ran", () => {
    const policy = getPolicy("topk");
    const state = policy.calibrate(cal.outputs, 0.05, { T });
    const r = inferAnytime(snn, testSplit, { policy, state, T, batchSize: 64, monitors: true });
    const sp = test.cost!.spikes as { data: ArrayLike<number>; shape: [number, number, number] };
    const [, N, L] = sp.shape;
    for (let n = 0; n < N; n += 7) {
      let s = 0;
      for (let t = 0; t < r.timesteps[n]!; t++) for (let l = 0; l < L; l++) s += sp.data[(t * N + n) * L + l]!;
      expect(r.spikesPerSample![n]).toBeCloseTo(s, 6);
    }
  });

  it("refill keeps the batch full; without it each batch drains: same predictions, stop times and counts", () => {
    const policy = getPolicy("topk");
    const state = policy.calibrate(cal.outputs, 0.05, { T });
    const on = inferAnytime(snn, testSplit, { policy, state, T, batchSize: 48, monitors: true });
    const off = inferAnytime(snn, testSplit, { policy, state, T, batchSize: 48, monitors: true, refill: false });
    expect(Array.from(on.timesteps)).toEqual(Array.from(off.timesteps));
    expect(Array.from(on.predictions)).toEqual(Array.from(off.predictions));
    expect(Array.from(on.labels)).toEqual(Array.from(off.labels));
    expect(on.stepsRun).toBe(off.stepsRun);
    expect(Array.from(on.spikesPerSample!)).toEqual(Array.from(off.spikesPerSample!));
    expect(Array.from(on.sopsPerSample!)).toEqual(Array.from(off.sopsPerSample!));
    // without refill: ceil(200 / 48) batches, each shrinking; with it: one run, full until the data runs out
    expect(off.activePerStep.length).toBe(5);
    expect(on.activePerStep.length).toBe(1);
    const steps = on.activePerStep[0]!;
    const full = steps.findIndex((a) => a < 48);
    expect(full).toBeGreaterThan(0);
    expect(steps.slice(0, full).every((a) => a === 48)).toBe(true);
    expect(steps.length).toBeLessThan(off.activePerStep.flat().length);
    expect(steps.reduce((a, b) => a + b, 0)).toBe(on.stepsRun);
  });

  it("event frames: each row reads the frame of its own step, across batch boundaries", () => {
    // [B, T, 1, 28, 28] frames made from test images, different at every step and for every sample
    const batches = [0, 1, 2].map((k) => {
      const idx = Int32Array.from({ length: 40 }, (_, i) => k * 40 + i);
      const b = testSplit.batch(idx, null);
      const per = b.x.length / 40;
      const x = new Float32Array(40 * T * per);
      for (let i = 0; i < 40; i++) {
        for (let t = 0; t < T; t++) {
          const gain = 0.6 + 0.1 * t + 0.01 * (i % 7);
          for (let j = 0; j < per; j++) x[(i * T + t) * per + j] = gain * b.x[i * per + j]!;
        }
      }
      return { x, shape: [40, T, ...b.shape.slice(1)], labels: b.labels };
    });
    const outs = collectOutputs(snn, batches, { T, batchSize: 40 }).outputs;
    const policy = getPolicy("confidence");
    const state = policy.calibrate(cal.outputs, 0.1, { T });
    const post = policy.decide(state, outs);
    const r = inferAnytime(snn, batches, { policy, state, T, batchSize: 24 });
    expect(r.meanTimestep).toBeLessThan(T);
    expect(Array.from(r.timesteps)).toEqual(Array.from(post));
    expect(Array.from(r.predictions)).toEqual(Array.from(predictionsAt(outs, post)));
    expect(() => inferAnytime(snn, [batches[0]!, { ...batches[1]!, shape: [40, T - 1, 1, 28, 28], x: batches[1]!.x.subarray(0, 40 * (T - 1) * 784) }], { policy, state, T })).toThrow(/frames per sample/);
  });

  it("rejects a state calibrated for fewer steps and an ANN", () => {
    const state = getPolicy("topk").calibrate(cal.outputs, 0.05, { T });
    expect(() => inferAnytime(snn, testSplit, { policy: "topk", state, T: 9 })).toThrow(/calibrated for T=8/);
    expect(() => inferAnytime(snn, testSplit, { policy: "confidence", state, T })).toThrow(/state is for policy "topk"/);
  });
});

describe("anytime inference of a direct-trained LIF network with TEBN", () => {
  it("each row applies its own step's p_t: same stop times and predictions as the post-hoc decide on multi-step outputs", async () => {
    const T = 4;
    const dir = makeTempDir("spikecut-tebn-");
    const config = validateConfig({
      dataset: { name: "fashion-mnist", bundled: true, subset: { train: 600, test: 200 } },
      model: { spec: TINY_SPEC, route: "snn" }, neuron: { type: "lif" }, tebn: true, loss: { type: "tet" },
      optimiser: { type: "sgd", lr: 0.1, momentum: 0.9 }, schedule: { type: "cosine", per: "step" },
      epochs: 2, batchSize: 32, evalBatchSize: 200, seed: 2, outDir: join(dir, "run"), logEvery: 1000, T,
    });
    const { model, lastAccuracy } = await train(config, { progress: false });
    expect(lastAccuracy).toBeGreaterThan(0.3);
    const snn = model as SpikingModel;
    expect(snn.options.tebn).toBe(true);
    const data = await loadConfigData({ ...config, augmentation: { cropPad: 0, flip: false, cutout: 0 } });
    // the trained per-step scales differ, so a row scaled with another step's p_t would change its output
    const p = snn.modules().find((m): m is TEBN => m instanceof TEBN)!.p.data;
    expect(new Set(Array.from(p)).size).toBe(T);
    snn.eval();
    const multi = collectOutputs(snn, data.test, { T, batchSize: 50, stepMode: "multi" });
    const single = collectOutputs(snn, data.test, { T, batchSize: 50 });
    expect([multi.stepMode, single.stepMode]).toEqual(["multi", "single"]);
    expect(Array.from(single.outputs.Y)).toEqual(Array.from(multi.outputs.Y));
    // calibration dropout draws the same masks in both modes on a LIF + TEBN net too
    const cal = { T, batchSize: 40, limit: 120, calibrationDropout: 0.3, seed: 5 };
    const calMulti = collectOutputs(snn, data.train, { ...cal, stepMode: "multi" });
    expect(Array.from(collectOutputs(snn, data.train, cal).outputs.Y)).toEqual(Array.from(calMulti.outputs.Y));
    const policy = getPolicy("confidence");
    // a confidence of 0.2 spreads this small network's stop times over all four steps
    const state = policy.calibrate(null, 0.8, { T });
    const post = policy.decide(state, multi.outputs);
    const r = inferAnytime(snn, data.test, { policy, state, T, batchSize: 32 });
    expect(new Set(Array.from(r.timesteps)).size).toBeGreaterThanOrEqual(3);
    expect(Array.from(r.timesteps)).toEqual(Array.from(post));
    expect(Array.from(r.predictions)).toEqual(Array.from(predictionsAt(multi.outputs, post)));
    const five = getPolicy("timestep").calibrate(null, 0, { T: 5 });
    expect(() => inferAnytime(snn, data.test, { policy: "timestep", state: five, T: 5 })).toThrow(/TEBN built for T=4/);
  }, 120_000);
});
