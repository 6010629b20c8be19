import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, resolveConfig, validateConfig } from "../../src/train/config.js";
import { makeTempDir } from "../helpers/tmp.js";

const dir = makeTempDir("spikecut-cfg-");
const base = { dataset: { name: "fashion-mnist" }, model: { preset: "vgg-small", route: "ann" } };

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("run config", () => {
  it("fills defaults", () => {
    const c = validateConfig(base);
    expect(c.optimiser).toMatchObject({ type: "sgd", lr: 0.1, momentum: 0.9, weightDecay: 5e-4, decayAll: false });
    expect(c.schedule).toMatchObject({ type: "cosine", per: "epoch", warmupEpochs: 0 });
    expect(c.loss).toMatchObject({ type: "mean", lambda: 1e-3, phi: 1 });
    expect(c.rcs).toEqual({ alpha: 0, n: 0.3 });
    expect(c.L).toBe(4);
  });

  it("loads every config in configs/", async () => {
    const { readdirSync } = await import("node:fs");
    const files = readdirSync("configs").filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) expect(() => loadConfig(join("configs", f))).not.toThrow();
  });

  it("names a typo'd key and the allowed keys", () => {
    const e = errorOf(() => validateConfig({ ...base, optimiser: { lrr: 0.1 } }));
    expect(e.message).toMatch(/unknown key "optimiser\.lrr" \(allowed keys in "optimiser": type, lr, momentum/);
    const top = errorOf(() => validateConfig({ ...base, epoch: 3 }));
    expect(top.message).toMatch(/unknown key "epoch" \(allowed keys: name, dataset, model, T, L/);
  });

  it("names the key and allowed values of an enum", () => {
    const e = errorOf(() => validateConfig({ ...base, optimiser: { type: "rmsprop" } }));
    expect(e.message).toMatch(/"optimiser\.type": got string "rmsprop", allowed values: "sgd", "adamw", "adam"/);
    const s = errorOf(() => validateConfig({ ...base, neuron: { surrogate: "tri" } }));
    expect(s.message).toMatch(/"neuron\.surrogate".*"triangle", "sigmoid", "arctan"/);
  });

  it("reports wrong types, ranges and missing keys", () => {
    expect(errorOf(() => validateConfig({ ...base, epochs: "ten" })).message).toMatch(/"epochs": expected number, got string "ten"/);
    expect(errorOf(() => validateConfig({ ...base, optimiser: { lr: -1 } })).message).toMatch(/"optimiser\.lr": number -1 is too small \(must be > 0\)/);
    expect(errorOf(() => validateConfig({ ...base, optimiser: { momentum: 1.5 } })).message).toMatch(/"optimiser\.momentum".*too large \(must be < 1\)/);
    expect(errorOf(() => validateConfig({ model: base.model })).message).toMatch(/"dataset" is required/);
    expect(errorOf(() => validateConfig({ ...base, batchSize: 1.5 })).message).toMatch(/"batchSize"/);
  });

  it("lists every problem at once", () => {
    const e = errorOf(() => validateConfig({ ...base, epochs: 0, seed: -1, foo: 1 }));
    expect(e.issues.length).toBeGreaterThanOrEqual(3);
    expect(e.message).toMatch(/"epochs"[\s\S]*"seed"[\s\S]*unknown key "foo"/);
  });

  it("checks cross-field rules", () => {
    expect(errorOf(() => validateConfig({ ...base, loss: { type: "tet" } })).message).toMatch(/"loss\.type": TET needs per-step outputs/);
    expect(errorOf(() => validateConfig({ ...base, tebn: true })).message).toMatch(/"tebn"/);
    expect(errorOf(() => validateConfig({ ...base, model: { route: "ann" } })).message).toMatch(/exactly one of model\.preset or model\.spec/);
    expect(errorOf(() => validateConfig({ ...base, epochs: 2, schedule: { warmupEpochs: 2 } })).message).toMatch(/warmupEpochs.*smaller than epochs/);
  });

  it("applies nested and dotted overrides before validating", () => {
    const c = resolveConfig(base, { "optimiser.lr": 0.05, epochs: 3, rcs: { alpha: 0.002 } });
    expect(c.optimiser.lr).toBe(0.05);
    expect(c.optimiser.momentum).toBe(0.9);
    expect(c.epochs).toBe(3);
    expect(c.rcs.alpha).toBe(0.002);
    expect(() => resolveConfig(base, { "optimiser.lrr": 1 })).toThrow(/optimiser\.lrr/);
  });

  it("loads YAML and JSON files and names the file in errors", () => {
    const y = join(dir, "a.yaml");
    writeFileSync(y, "dataset: {name: fashion-mnist}\nmodel: {preset: vgg-small, route: snn}\nT: 4\nloss: {type: tet}\n");
    expect(loadConfig(y).loss.type).toBe("tet");
    const j = join(dir, "a.json");
    writeFileSync(j, JSON.stringify({ ...base, epochs: 2 }));
    expect(loadConfig(j).epochs).toBe(2);
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "dataset: {name: fashion-mnist}\nmodel: {preset: vgg-small, route: ann}\nshedule: {}\n");
    expect(() => loadConfig(bad)).toThrow(/bad\.yaml[\s\S]*unknown key "shedule"/);
    writeFileSync(bad, "a: [1, 2\n");
    expect(() => loadConfig(bad)).toThrow(/bad\.yaml: cannot parse YAML/);
    expect(() => loadConfig(join(dir, "missing.yaml"))).toThrow(/missing\.yaml: not found/);
  });
});
