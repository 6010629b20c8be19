import { encodeAedat4, makeStream, type EventStream } from "../../src/data/index.js";
import { Rng } from "../../src/engine/random.js";
import { command as dataCommand } from "../../src/cli/commands/data.js";
import { parseCommandArgs } from "../../src/cli/args.js";
import { makeTempDir } from "../helpers/tmp.js";

/** Runs `spikecut data ...` in-process with the CLI's own flag parsing; stdout captured. */
export async function runDataCommand(...args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await dataCommand.run(parseCommandArgs(dataCommand, args), { stdout: (s) => (out += s), stderr: () => {} });
  return { code, out };
}

export function tmp(prefix = "spikecut-data-"): string {
  return makeTempDir(prefix);
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

/** A single-packet AEDAT 4 file of s whose packet body is compress(body), with the IOHeader compression field set to code. */
export function splicePacket(s: ReturnType<typeof randomStream>, compress: (body: Uint8Array) => Uint8Array, code: number): Uint8Array {
  const plain = encodeAedat4(s, { compression: "none", packetSize: s.t.length, noDataTable: true });
  const hsize = new DataView(plain.buffer).getUint32(14, true);
  const pstart = 14 + 4 + hsize;
  const comp = compress(plain.subarray(pstart + 8));
  const file = new Uint8Array(pstart + 8 + comp.length);
  file.set(plain.subarray(0, pstart + 8));
  file.set(comp, pstart + 8);
  const dv = new DataView(file.buffer);
  dv.setInt32(pstart + 4, comp.length, true);
  const root = 18 + dv.getUint32(18, true);
  const vt = root - dv.getInt32(root, true);
  dv.setInt32(root + dv.getUint16(vt + 4, true), code, true);
  return file;
}
