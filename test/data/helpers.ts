import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeStream, type EventStream } from "../../src/data/index.js";
import { Rng } from "../../src/engine/random.js";
import { command as dataCommand } from "../../src/cli/commands/data.js";
import { parseCommandArgs } from "../../src/cli/args.js";

/** Runs `spikecut data ...` in-process with the CLI's own flag parsing; stdout captured. */
export async function runDataCommand(...args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await dataCommand.run(parseCommandArgs(dataCommand, args), { stdout: (s) => (out += s), stderr: () => {} });
  return { code, out };
}

export function tmp(prefix = "spikecut-data-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A random sorted stream on a w×h sensor starting at t0 with mean gap `gap` µs. */
export function randomStream(n: number, w: number, h: number, seed = 1, t0 = 1000, gap = 50): EventStream {
  const r = new Rng(seed);
  const s = makeStream(n, w, h, { format: "npy" });
  let t = t0;
  for (let i = 0; i < n; i++) {
    t += r.int(gap * 2);
    s.x[i] = r.int(w);
    s.y[i] = r.int(h);
    s.t[i] = t;
    s.p[i] = r.int(2);
  }
  return s;
}

export function expectSameEvents(a: EventStream, b: EventStream): void {
  if (a.t.length !== b.t.length) throw new Error(`lengths differ: ${a.t.length} vs ${b.t.length}`);
  for (let i = 0; i < a.t.length; i++) {
    if (a.x[i] !== b.x[i] || a.y[i] !== b.y[i] || a.t[i] !== b.t[i] || a.p[i] !== b.p[i]) {
      throw new Error(`event ${i} differs: (${a.x[i]},${a.y[i]},${a.t[i]},${a.p[i]}) vs (${b.x[i]},${b.y[i]},${b.t[i]},${b.p[i]})`);
    }
  }
}
