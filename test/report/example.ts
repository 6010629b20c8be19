/**
 * The committed example report (docs/example-report/) built from the shared fixture. Regenerate with
 *   SPIKECUT_WRITE_EXAMPLE=1 npx vitest run test/report/example.test.ts
 */
import { loadOutputsFile, sweepPolicy, type CostInput } from "../../src/cutoff/index.js";
import { buildCutoffReport, type CutoffReport } from "../../src/report/index.js";
import { FIXTURE, rng } from "../cutoff/helpers.js";

export const EXAMPLE_DIR = "docs/example-report";

export const EXAMPLE_EPSILONS = {
  topk: [0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2],
  confidence: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5],
  conformal: [0.05, 0.1, 0.15, 0.2, 0.3],
};

/**
 * SYNTHETIC spike counts for the fixture's 400 test samples (the fixture holds outputs only), shaped like a
 * small conv SNN: they only illustrate the cost section of the report.
 */
export function syntheticCost(T: number, N: number): CostInput {
  const layers = [
    { name: "conv1", neurons: 16384, fanOut: 288, macsFirstLayer: 442368, rate: 0.12 },
    { name: "conv2", neurons: 8192, fanOut: 576, rate: 0.08 },
    { name: "conv3", neurons: 4096, fanOut: 576, rate: 0.06 },
    { name: "fc1", neurons: 256, fanOut: 10, rate: 0.15 },
  ];
  const r = rng(2024);
  const spikes = Array.from({ length: T }, (_, t) => Array.from({ length: N }, () => layers.map((l) => Math.round(l.neurons * l.rate * (0.7 + 0.6 * r()) * (1 - 0.03 * t)))));
  return { layers: layers.map(({ rate: _r, ...l }) => l), spikes };
}

export function buildExampleReport(): CutoffReport {
  const data = loadOutputsFile(FIXTURE);
  const sweeps = (["topk", "confidence", "conformal"] as const).map((p) => sweepPolicy(p, data, EXAMPLE_EPSILONS[p]));
  return buildCutoffReport({ ...data, source: "shared/fixtures/cutoff-reference.json" }, sweeps, {
    title: "spikecut example: cutoff policies on the shared reference fixture",
    generator: "spikecut 0.1.0",
    created: "2025-01-01T00:00:00.000Z",
    policyOptions: { topk: { k: 2, mode: "grid", bins: 100 } },
    operatingEpsilon: { topk: 0.02, confidence: 0.1, conformal: 0.1 },
    includeTimesteps: false,
    cost: {
      input: syntheticCost(data.test.T, data.test.N),
      source: "synthetic spike counts",
      note: "ILLUSTRATION ONLY: the fixture holds network outputs, not spikes, so these spike counts are synthetic (a made-up 4-layer conv SNN); with a real model the monitors supply them.",
    },
    notes: ["Synthetic outputs (T=8, K=10, 600 calibration / 400 test samples) from the paper's reference code; every number above is checked against the reference in test/cutoff/fixture.test.ts."],
  });
}
