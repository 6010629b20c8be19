import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/engine/random.js";
import { Tensor } from "../../src/engine/tensor.js";
import { BatchNorm1d, Linear, Sequential } from "../../src/nn/index.js";
import { CheckpointError, CHECKPOINT_VERSION, loadCheckpoint, loadWeightsInto, saveCheckpoint } from "../../src/train/checkpoint.js";
import { SGD } from "../../src/train/optim/sgd.js";
import { encodeSafetensors, decodeSafetensors, saveSafetensors } from "../../src/train/safetensors.js";
import { makeTempDir } from "../helpers/tmp.js";

const dir = makeTempDir("spikecut-ckpt-");
const net = (seed: number) => new Sequential(new Linear(4, 3, { rng: new Rng(seed) }), new BatchNorm1d(3), new Linear(3, 2, { rng: new Rng(seed + 1) }));

describe("checkpoints", () => {
  it("round trips weights, optimiser state and every metadata field", () => {
    const m = net(1);
    const opt = new SGD(m.namedParameters(), { lr: 0.1, momentum: 0.9 });
    for (const p of m.parameters()) p.grad = Tensor.full(p.shape, 0.5);
    opt.step();
    const rng = new Rng(3);
    rng.normal(); // leaves a spare normal: a non-NaN 5th state word
    const path = join(dir, "a.safetensors");
    saveCheckpoint(path, {
      state: m.stateDict(),
      optimiser: opt.stateDict(),
      meta: {
        modelSpec: { preset: "tiny" }, config: { seed: 3 }, epoch: 2, step: 17, stepInEpoch: 5, rng: { data: rng.getState(), fresh: new Rng(1).getState() },
        bestAccuracy: 0.875, thresholds: { "act.0": 7.5 }, calibration: { topk: { betas: [1, 2] } }, extra: { history: [1] },
      },
    });
    const c = loadCheckpoint(path);
    expect(c.meta).toMatchObject({ formatVersion: CHECKPOINT_VERSION, modelSpec: { preset: "tiny" }, config: { seed: 3 }, epoch: 2, step: 17, stepInEpoch: 5,
      bestAccuracy: 0.875, thresholds: { "act.0": 7.5 }, calibration: { topk: { betas: [1, 2] } }, extra: { history: [1] } });
    expect(c.meta.rng!.data).toEqual(rng.getState());
    expect(Number.isNaN(c.meta.rng!.fresh![4])).toBe(true);
    const m2 = net(99);
    loadWeightsInto(m2, c);
    for (const [k, t] of Object.entries(m.stateDict())) expect(Array.from(m2.stateDict()[k]!.data)).toEqual(Array.from(t.data));
    const opt2 = new SGD(m2.namedParameters(), { lr: 0.1, momentum: 0.9 });
    opt2.loadStateDict(c.optimiser!);
    expect([...opt2.stateDict().buffers.keys()].sort()).toEqual([...opt.stateDict().buffers.keys()].sort());
    // weights are plain safetensors under their own names
    const raw = decodeSafetensors(readFileSync(path));
    expect(raw.tensors.has("0.weight")).toBe(true);
    expect(raw.tensors.has("1.runningMean")).toBe(true);
    expect(raw.metadata.format).toBe("spikecut-checkpoint");
  });

  it("refuses a checkpoint written by an incompatible format version", () => {
    const path = join(dir, "v.safetensors");
    saveCheckpoint(path, { state: net(1).stateDict(), meta: {} });
    const f = decodeSafetensors(readFileSync(path));
    for (const v of [CHECKPOINT_VERSION + 1, 0]) {
      const bytes = encodeSafetensors(f.tensors, { ...f.metadata, format_version: String(v) });
      writeFileSync(path, bytes);
      expect(() => loadCheckpoint(path)).toThrow(new RegExp(`v\\.safetensors was written in checkpoint format version ${v}.*reads format version ${CHECKPOINT_VERSION}`));
      expect(() => loadCheckpoint(path)).toThrow(CheckpointError);
    }
  });

  it("refuses a safetensors file that is not a spikecut checkpoint", () => {
    const path = join(dir, "plain.safetensors");
    saveSafetensors(path, { w: { data: new Float32Array(2), shape: [2] } });
    expect(() => loadCheckpoint(path)).toThrow(/plain\.safetensors is not a spikecut checkpoint/);
  });

  it("names the file for a truncated checkpoint", () => {
    const path = join(dir, "trunc.safetensors");
    saveCheckpoint(path, { state: net(1).stateDict(), meta: {} });
    const b = readFileSync(path);
    writeFileSync(path, b.subarray(0, b.length - 10));
    expect(() => loadCheckpoint(path)).toThrow(/cannot read checkpoint: safetensors file .*trunc\.safetensors: tensor ".*": data_offsets/);
  });

  it("names the file and tensors when the weights do not fit the model", () => {
    const path = join(dir, "m.safetensors");
    saveCheckpoint(path, { state: net(1).stateDict(), meta: {} });
    const other = new Sequential(new Linear(5, 3), new BatchNorm1d(3), new Linear(3, 2));
    expect(() => loadWeightsInto(other, loadCheckpoint(path))).toThrow(/m\.safetensors.*0\.weight.*\[3, 5\].*\[3, 4\]/);
    const fewer = new Sequential(new Linear(4, 3));
    expect(() => loadWeightsInto(fewer, loadCheckpoint(path))).toThrow(/unexpected keys: .*2\.weight/);
  });
});
