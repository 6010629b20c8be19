import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { costAccounting, loadOutputsFile, sweepPolicy, DEFAULT_ENERGY } from "../../src/cutoff/index.js";
import {
  REPORT_SCHEMA, buildCutoffReport, niceTicks, renderHtml, renderMarkdown, reportToJson, writeFileAtomic, writeReport,
} from "../../src/report/index.js";
import { command as cutoffCommand } from "../../src/cli/commands/cutoff.js";
import { FIXTURE, runCommand } from "../cutoff/helpers.js";
import { syntheticCost } from "./example.js";
import { makeTempDir } from "../helpers/tmp.js";

const dir = makeTempDir("spikecut-report-");

describe("cost accounting", () => {
  const input = {
    layers: [
      { name: "a", neurons: 10, fanOut: 3, macsFirstLayer: 100 },
      { name: "b", neurons: 5, fanOut: 2 },
    ],
    // T=3, N=2, L=2
    spikes: [
      [[1, 2], [3, 4]],
      [[5, 6], [7, 8]],
      [[9, 10], [11, 12]],
    ],
  };
  test("sums only up to each sample's stop time", () => {
    const c = costAccounting(input, [1, 3]);
    // sample 0 stops at t=1: a=1, b=2; sample 1 runs all: a=3+7+11=21, b=4+8+12=24
    expect(c.layers[0].spikes_per_sample.cutoff).toBe((1 + 21) / 2);
    expect(c.layers[1].spikes_per_sample.cutoff).toBe((2 + 24) / 2);
    expect(c.layers[0].spikes_per_sample.full).toBe((1 + 5 + 9 + 21) / 2);
    expect(c.layers[0].sops_per_sample.cutoff).toBe(((1 + 21) * 3) / 2);
    expect(c.layers[0].macs_per_sample).toEqual({ full: 300, cutoff: 200 });
    expect(c.layers[1].firing_rate.cutoff).toBeCloseTo(26 / (5 * 4));
    expect(c.layers[1].firing_rate.full).toBeCloseTo((2 + 6 + 10 + 24) / (5 * 6));
    expect(c.layers[0].spikes_per_timestep).toEqual([2, 6, 10]);
    const sops = c.totals.sops_per_sample.cutoff;
    expect(c.totals.energy_pj_per_sample.cutoff).toBeCloseTo(200 * DEFAULT_ENERGY.pjPerMAC + sops * DEFAULT_ENERGY.pjPerAC);
    expect(c.assumption).toMatch(/not a measurement/);
    expect(c.totals.mean_timestep).toEqual({ full: 3, cutoff: 2 });
  });
  test("exact per-(t, n, l) SOPs override spikes × fanOut; flat input; configurable energy", () => {
    const sops = { data: new Array(12).fill(10), shape: [3, 2, 2] as [number, number, number] };
    const c = costAccounting({ ...input, sops }, null, { pjPerAC: 1, pjPerMAC: 0 });
    expect(c.totals.sops_per_sample.full).toBe(60);
    expect(c.totals.energy_pj_per_sample.full).toBe(60);
  });
  test("bad cost input names the field", () => {
    expect(() => costAccounting({ ...input, spikes: [[[1, 2]], [[1]]] }, null, DEFAULT_ENERGY, "c.json")).toThrow(/c\.json: field "spikes\[1\]\[0\]"/);
    expect(() => costAccounting({ ...input, layers: input.layers.slice(1) }, null, DEFAULT_ENERGY, "c.json")).toThrow(/layers/);
  });
});

describe("report rendering", () => {
  const data = loadOutputsFile(FIXTURE);
  const sweeps = [sweepPolicy("topk", data, [0, 0.02, 0.1]), sweepPolicy("conformal", data, [0.1])];
  const withCost = buildCutoffReport(data, sweeps, { cost: { input: syntheticCost(8, 400) }, created: "2025-01-01T00:00:00Z" });
  const noCost = buildCutoffReport(data, sweeps);
  test("versioned JSON that round-trips", () => {
    expect(withCost.schema).toBe(REPORT_SCHEMA);
    expect(withCost.schema_version).toBe("1.1");
    const back = JSON.parse(reportToJson(withCost));
    expect(back).toEqual(JSON.parse(JSON.stringify(withCost)));
    expect(back.policies[0].results[1].state.beta).toHaveLength(8);
    expect(back.policies[0].results[1].timesteps).toHaveLength(400);
    expect(back.cost.report.layers).toHaveLength(4);
  });
  test("HTML is self-contained: inline SVG, no scripts, no external assets", () => {
    for (const [r, charts] of [[withCost, 4], [noCost, 3]] as const) {
      const html = renderHtml(r);
      expect(html.match(/<svg /g)?.length).toBe(charts);
      expect(html).not.toMatch(/<script|<link|<img|\bsrc=|url\(|@import/i);
      expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, "")).not.toMatch(/https?:\/\//);
    }
  });
  test("Markdown has a table per policy and the energy assumption", () => {
    const md = renderMarkdown(withCost);
    expect(md).toMatch(/## Policy: Top-K gap/);
    expect(md).toMatch(/## Policy: conformal/);
    expect(md).toMatch(/\*\*Assumption:\*\*/);
  });
  test("niceTicks", () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1, 8, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe("atomic writes", () => {
  test("writeReport writes json, md and html and leaves no temp files", () => {
    const data = loadOutputsFile(FIXTURE);
    const r = buildCutoffReport(data, [sweepPolicy("confidence", data, [0.1])]);
    const out = writeReport(join(dir, "r1"), r);
    expect(JSON.parse(readFileSync(out.json, "utf8")).schema).toBe(REPORT_SCHEMA);
    expect(readdirSync(join(dir, "r1")).sort()).toEqual(["report.html", "report.json", "report.md"]);
  });
  test("a failed write leaves the old file intact and no temp file", () => {
    const p = join(dir, "keep.txt");
    writeFileSync(p, "old");
    mkdirSync(join(dir, "blocker"));
    expect(() => writeFileAtomic(join(dir, "blocker"), "new")).toThrow();
    expect(readFileSync(p, "utf8")).toBe("old");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

describe("CLI --report", () => {
  test("cutoff --report DIR with cost data and a sweep", async () => {
    const cost = join(dir, "cost.json");
    writeFileSync(cost, JSON.stringify(syntheticCost(8, 400)));
    const rep = join(dir, "cli-report");
    const r = await runCommand(cutoffCommand, ["--input", FIXTURE, "--policy", "topk", "--epsilon", "0", "--epsilon", "0.1", "--report", rep, "--cost", cost, "--pj-ac", "1", "--title", "T"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/report written/);
    const j = JSON.parse(readFileSync(join(rep, "report.json"), "utf8"));
    expect(j.title).toBe("T");
    expect(j.policies[0].results).toHaveLength(2);
    expect(j.cost.energy_model).toEqual({ pjPerAC: 1, pjPerMAC: 4.6 });
    expect(existsSync(join(rep, "report.html"))).toBe(true);
  });
  test("report into a path that is a file fails with one line and writes nothing", async () => {
    const f = join(dir, "a-file");
    writeFileSync(f, "x");
    const r = await runCommand(cutoffCommand, ["--input", FIXTURE, "--policy", "confidence", "--report", join(f, "sub")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--report/);
  });
});
