/** Per-timestep spike counts under cutoff, in the cost report and in the rendered report. */
import { describe, expect, test } from "vitest";
import { costAccounting, loadOutputsFile, sweepPolicy } from "../../src/cutoff/index.js";
import { REPORT_SCHEMA_VERSION, buildCutoffReport, renderMarkdown, reportToJson } from "../../src/report/index.js";
import { FIXTURE } from "./helpers.js";

// T=3, N=2, L=2: spikes[t][n][l]
const input = {
  layers: [
    { name: "a", neurons: 10, fanOut: 3 },
    { name: "b", neurons: 5, fanOut: 2 },
  ],
  spikes: [
    [[1, 2], [3, 4]],
    [[5, 6], [7, 8]],
    [[9, 10], [11, 12]],
  ],
};

describe("spikes_per_timestep_cutoff", () => {
  test("counts at t only the samples with stop time >= t, averaged over all samples", () => {
    // sample 0 stops at t=1, sample 1 runs to 3: after t=1 only sample 1 counts, still divided by N=2
    const c = costAccounting(input, [1, 3]);
    expect(c.layers[0].spikes_per_timestep_cutoff).toEqual([(1 + 3) / 2, 7 / 2, 11 / 2]);
    expect(c.layers[1].spikes_per_timestep_cutoff).toEqual([(2 + 4) / 2, 8 / 2, 12 / 2]);
    // the full-run vector is unchanged
    expect(c.layers[0].spikes_per_timestep).toEqual([2, 6, 10]);
    expect(c.layers[1].spikes_per_timestep).toEqual([3, 7, 11]);
  });
  test("a sample stopping at t still counts at t; nobody running gives 0", () => {
    const c = costAccounting(input, [2, 1]);
    expect(c.layers[0].spikes_per_timestep_cutoff).toEqual([(1 + 3) / 2, 5 / 2, 0]);
    expect(c.layers[1].spikes_per_timestep_cutoff).toEqual([(2 + 4) / 2, 6 / 2, 0]);
  });
  test("sums to spikes_per_sample.cutoff; equals the full run without cutoff", () => {
    for (const stops of [[1, 3], [2, 2], [3, 1]]) {
      const c = costAccounting(input, stops);
      for (const l of c.layers) expect(l.spikes_per_timestep_cutoff.reduce((s, v) => s + v, 0)).toBeCloseTo(l.spikes_per_sample.cutoff, 12);
    }
    const full = costAccounting(input, null);
    for (const l of full.layers) expect(l.spikes_per_timestep_cutoff).toEqual(l.spikes_per_timestep);
  });
  test("in the JSON report (schema minor bumped) and the Markdown table", () => {
    const data = loadOutputsFile(FIXTURE);
    const T = data.test.T, N = data.test.N;
    const spikes = Array.from({ length: T }, (_, t) => Array.from({ length: N }, (_, n) => [t + 1, 1000 * ((n % 3) + 1)]));
    const r = buildCutoffReport(data, [sweepPolicy("topk", data, [0.1])], { cost: { input: { layers: [{ name: "first", neurons: 4, fanOut: 1 }, { name: "second", neurons: 4, fanOut: 1 }], spikes } } });
    expect(r.schema_version).toBe("1.1");
    expect(REPORT_SCHEMA_VERSION).toBe("1.1");
    const back = JSON.parse(reportToJson(r));
    const layer0 = back.cost.report.layers[0];
    expect(layer0.spikes_per_timestep).toEqual(Array.from({ length: T }, (_, t) => t + 1));
    const stops: number[] = r.policies[0].results[0].timesteps!;
    const expected = Array.from({ length: T }, (_, t) => ((t + 1) * stops.filter((s) => s >= t + 1).length) / N);
    layer0.spikes_per_timestep_cutoff.forEach((v: number, t: number) => expect(v).toBeCloseTo(expected[t], 12));
    expect(expected[T - 1]).toBeLessThan(T); // some samples stopped early, so the check above is not vacuous
    const md = renderMarkdown(r);
    expect(md).toMatch(/Spikes per sample at each timestep/);
    expect(md).toContain(`| first | full | ${Array.from({ length: T }, (_, t) => (t + 1).toFixed(3)).join(" | ")} |`);
    expect(md).toMatch(/\| first \| cutoff \| 1\.000 \|/);
    expect(md).toMatch(/\| second \| cutoff \|/);
  });
});
