import { readFileSync } from "node:fs";
import type { CliCommand } from "../../src/cli/command.js";

export const FIXTURE = "/work/shared/fixtures/cutoff-reference.json";

export interface Fixture {
  T: number;
  classes: number;
  calibration: { per_step: number[][][]; labels: number[] };
  test: { per_step: number[][][]; labels: number[] };
  expected: Record<string, any>;
}

let fx: Fixture | null = null;
export function fixture(): Fixture {
  return (fx ??= JSON.parse(readFileSync(FIXTURE, "utf8")) as Fixture);
}

/** The policy cases of the fixture's expected section: key, policy, ε. */
export function expectedCases(): { key: string; policy: "topk" | "confidence" | "conformal"; epsilon: number; e: any }[] {
  const out = [];
  for (const [key, e] of Object.entries(fixture().expected)) {
    const m = /^(topk|confidence|conformal)_eps_(.+)$/.exec(key);
    if (m) out.push({ key, policy: m[1] as "topk" | "confidence" | "conformal", epsilon: Number(m[2]), e });
  }
  return out;
}

/** Run a CLI command's run() with the flag parsing main.ts uses, capturing output. */
export async function runCommand(cmd: CliCommand, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { parseCommandArgs } = await import("../../src/cli/args.js");
  const { UserError } = await import("../../src/cli/command.js");
  let stdout = "", stderr = "";
  const io = { stdout: (s: string) => { stdout += s; }, stderr: (s: string) => { stderr += s; } };
  try {
    const code = await cmd.run(parseCommandArgs(cmd, argv), io);
    return { code, stdout, stderr };
  } catch (e) {
    if (e instanceof UserError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      stderr += (e as Error).message + "\n";
      return { code: 1, stdout, stderr };
    }
    throw e;
  }
}

/** Seeded PRNG (mulberry32) for synthetic data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Synthetic per-step outputs [T, N, K] with labels: the true class gets a drift that varies by sample,
 * plus Gaussian-ish noise, so accuracy grows with t like an SNN's.
 */
export function synthetic(seed: number, T: number, N: number, K: number): { perStep: Float32Array; labels: Int32Array } {
  const r = rng(seed);
  const gauss = () => (r() + r() + r() + r() - 2) * 1.2;
  const perStep = new Float32Array(T * N * K);
  const labels = new Int32Array(N);
  const drift = new Float64Array(N);
  for (let n = 0; n < N; n++) { labels[n] = Math.floor(r() * K); drift[n] = r() * 1.2 - 0.1; }
  for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
    perStep[(t * N + n) * K + k] = gauss() + (k === labels[n] ? drift[n] : 0);
  }
  return { perStep, labels };
}
