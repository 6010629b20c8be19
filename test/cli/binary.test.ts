/**
 * The real `spikecut` binary (dist/src/cli/main.js, built by `npm test`'s pretest): global flags, exit codes,
 * config validation errors, and the demo end to end in its quick form.
 */
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FIXTURE } from "../cutoff/helpers.js";
import { makeTempDir, trackChild } from "../helpers/tmp.js";

const BIN = resolve("dist/src/cli/main.js");

/** Runs the binary without blocking the test worker (vitest's RPC needs its event loop). */
function run(args: string[], timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = trackChild(spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] }));
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe("spikecut binary", () => {
  it("is built", () => {
    expect(existsSync(BIN), `${BIN} missing: run npm run build`).toBe(true);
  });

  it("stops quietly when its reader closes the pipe early (spikecut ... | head)", async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const child = trackChild(spawn(process.execPath, [BIN, "cutoff", "--input", FIXTURE, "--policy", "topk",
        "--epsilon", "0", "--epsilon", "0.01", "--epsilon", "0.02"], { stdio: ["ignore", "pipe", "pipe"] }));
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.stdout.once("data", () => child.stdout.destroy());
      child.on("close", (code) => done({ code, stderr }));
    });
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(r.code).toBe(0);
  });

  it("--version names the compute path", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^spikecut \d+\.\d+\.\d+/);
    expect(r.stdout).toMatch(/backend: (native|js)/);
  });

  it("--help lists every command; each command has --help with examples", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    const commands = ["train", "convert", "calibrate", "eval", "infer", "cutoff", "oct", "data", "bench", "demo"];
    for (const c of commands) {
      expect(r.stdout).toContain(c);
      const h = await run([c, "--help"]);
      expect(h.code, c).toBe(0);
      expect(h.stdout, c).toMatch(/example/i);
    }
  });

  it("unknown command and unknown flag: one line, exit 1", async () => {
    const a = await run(["frobnicate"]);
    expect(a.code).toBe(1);
    expect(a.stderr.trim().split("\n")).toHaveLength(1);
    const b = await run(["oct", "--input", "x.json", "--bogus"]);
    expect(b.code).toBe(1);
    expect(b.stderr.trim().split("\n")).toHaveLength(1);
    expect(b.stderr).toContain("bogus");
  });

  it("negative numbers given as separate arguments reach the command: its one-line range error", async () => {
    for (const flag of ["--epsilon", "-e"]) {
      const r = await run(["cutoff", "--input", FIXTURE, "--policy", "topk", flag, "-0.1"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe("spikecut cutoff: --epsilon: -0.1 is out of range, expected >= 0\n");
    }
    // a flag followed by another flag is still refused (parseArgs' ambiguity check), on one line
    const m = await run(["cutoff", "--input", "--policy", "topk"]);
    expect(m.code).toBe(1);
    expect(m.stderr.trim().split("\n")).toHaveLength(1);
    expect(m.stderr).toMatch(/ambiguous/);
  });

  it("train: a typo'd config key is reported with the allowed keys before any work starts", async () => {
    const dir = makeTempDir("spikecut-cfg-");
    const cfg = join(dir, "bad.yaml");
    writeFileSync(cfg, "dataset:\n  name: fashion-mnist\nmodel:\n  preset: vgg-small\n  route: ann\noptimiser:\n  lrr: 0.1\n");
    const r = await run(["train", "--config", cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown key "optimiser.lrr"');
    expect(r.stderr).toContain("allowed keys");
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("train: an out-of-range value names the key and the bound", async () => {
    const r = await run(["train", "--preset", "vgg-small", "--route", "ann", "--bundled", "--set", "optimiser.momentum=1.5"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("optimiser.momentum");
  });

  it("train: an invalid enum value lists the allowed values", async () => {
    const r = await run(["train", "--preset", "vgg-small", "--route", "spiking", "--bundled"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("model.route");
    expect(r.stderr).toMatch(/"ann"/);
  });

  it("train: a missing config file is a user error", async () => {
    const r = await run(["train", "--config", "/nonexistent/run.yaml"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("/nonexistent/run.yaml");
  });

  it("demo --quick runs the whole pipeline through the binary and writes the report", async () => {
    const out = makeTempDir("spikecut-demo-");
    const r = await run(["demo", "--quick", "--out", out, "--json"], 600_000);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as {
      report: { html: string; markdown: string; json: string };
      accuracy_per_timestep: number[];
      anytime: { matches_post_hoc: boolean };
      ann_accuracy: number;
    };
    expect(summary.accuracy_per_timestep).toHaveLength(4);
    expect(summary.anytime.matches_post_hoc).toBe(true);
    // a quick run on 2000 real images still learns well above chance (10 %)
    expect(summary.ann_accuracy).toBeGreaterThan(0.4);
    for (const f of [summary.report.html, summary.report.markdown, summary.report.json]) expect(existsSync(f)).toBe(true);
    const html = readFileSync(summary.report.html, "utf8");
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/); // self-contained
  });
});
