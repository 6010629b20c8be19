import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors } from "../../src/train/safetensors.js";
import { makeTempDir } from "../helpers/tmp.js";

const dir = makeTempDir("spikecut-st-");

function sample() {
  return {
    "conv.weight": { data: Float32Array.from([1.5, -2, 3.25, 0, 1e-8, -7]), shape: [2, 3] },
    "bn.running_mean": { data: Float32Array.from([0.1, 0.2]), shape: [2] },
    "labels": { data: Int32Array.from([3, -1, 7]), shape: [3] },
    "f64": { data: Float64Array.from([Math.PI]), shape: [] },
    "bytes": { data: Uint8Array.from([1, 2, 3, 4, 5]), shape: [5] },
    "empty": { data: new Float32Array(0), shape: [0, 4] },
  };
}

/** Builds a file from a raw header object and data bytes. */
function raw(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const h = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe("safetensors", () => {
  it("round trips tensors of every dtype and metadata", () => {
    const path = join(dir, "a.safetensors");
    saveSafetensors(path, sample(), { format: "spikecut", note: "héllo" });
    const f = loadSafetensors(path);
    expect(f.metadata).toEqual({ format: "spikecut", note: "héllo" });
    for (const [name, t] of Object.entries(sample())) {
      const got = f.tensors.get(name)!;
      expect(got.shape).toEqual(t.shape);
      expect(Array.from(got.data as ArrayLike<number>)).toEqual(Array.from(t.data));
      expect(got.data.constructor).toBe(t.data.constructor);
    }
    expect(f.tensors.get("labels")!.dtype).toBe("I32");
    // no temp file left behind
    expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("writes the documented layout: u64 LE header size, 8-aligned JSON header, contiguous offsets", () => {
    const bytes = encodeSafetensors({ b: { data: Float32Array.from([1, 2]), shape: [2] }, a: { data: Int32Array.from([5]), shape: [1] } }, { k: "v" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__).toEqual({ k: "v" });
    expect(header.a).toEqual({ dtype: "I32", shape: [1], data_offsets: [0, 4] });
    expect(header.b).toEqual({ dtype: "F32", shape: [2], data_offsets: [4, 12] });
    expect(bytes.length).toBe(8 + n + 12);
    expect(new Float32Array(bytes.slice(8 + n + 4).buffer)).toEqual(Float32Array.from([1, 2]));
  });

  it("reads a file written by the Python safetensors library layout (unpadded header)", () => {
    const data = new Uint8Array(Float32Array.from([1, 2, 3]).buffer);
    const f = decodeSafetensors(raw({ x: { dtype: "F32", shape: [3], data_offsets: [0, 12] } }, data));
    expect(Array.from(f.tensors.get("x")!.data as Float32Array)).toEqual([1, 2, 3]);
  });

  const cases: [string, Uint8Array, RegExp][] = [
    ["a file shorter than 8 bytes", new Uint8Array(5), /bad\.st: truncated/],
    ["a header length past the end", (() => { const b = raw({}, new Uint8Array(0)); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; })(), /truncated: header says 1000/],
    ["an absurd header length", (() => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })(), /larger than the/],
    ["a header that is not JSON", raw(null, new Uint8Array(0), "{not json"), /invalid JSON/],
    ["a header that is not an object", raw(null, new Uint8Array(0), "[1,2]"), /must be a JSON object/],
    ["an unknown dtype", raw({ x: { dtype: "Q7", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor "x": unsupported dtype "Q7"/],
    ["a bad shape", raw({ x: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor "x": shape \[-1\]/],
    ["offsets past the data (truncated data)", raw({ x: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /tensor "x": data_offsets \[0, 16\] are out of range: the data buffer has 8 bytes/],
    ["dtype/shape not matching the offsets", raw({ x: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor "x": dtype F32 and shape \[3\] need 12 bytes, data_offsets give 8/],
    ["reversed offsets", raw({ x: { dtype: "U8", shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4)), /tensor "x": data_offsets \[4, 0\] end before/],
    ["overlapping tensors", raw({ x: { dtype: "U8", shape: [4], data_offsets: [0, 4] }, y: { dtype: "U8", shape: [2], data_offsets: [2, 4] } }, new Uint8Array(4)), /tensor "y" overlaps/],
    ["a hole in the buffer", raw({ x: { dtype: "U8", shape: [2], data_offsets: [2, 4] } }, new Uint8Array(4)), /hole in the data buffer before tensor "x"/],
    ["trailing bytes", raw({ x: { dtype: "U8", shape: [2], data_offsets: [0, 2] } }, new Uint8Array(4)), /index only 2/],
    ["non-string metadata", raw({ __metadata__: { a: 1 } }, new Uint8Array(0)), /__metadata__\["a"\] is not a string/],
    ["a missing data_offsets", raw({ x: { dtype: "U8", shape: [2] } }, new Uint8Array(2)), /tensor "x": data_offsets undefined/],
  ];
  for (const [what, bytes, re] of cases) {
    it(`rejects ${what} with an error naming the file`, () => {
      const path = join(dir, "bad.st");
      writeFileSync(path, bytes);
      expect(() => loadSafetensors(path)).toThrow(re);
      expect(() => loadSafetensors(path)).toThrow(/bad\.st/);
    });
  }

  it("rejects a truncated real file", () => {
    const path = join(dir, "t.safetensors");
    saveSafetensors(path, sample());
    const full = readFileSync(path);
    writeFileSync(path, full.subarray(0, full.length - 3));
    expect(() => loadSafetensors(path)).toThrow(/t\.safetensors: tensor ".*": data_offsets .* out of range/);
  });

  it("names a missing file", () => {
    expect(() => loadSafetensors(join(dir, "nope.safetensors"))).toThrow(/nope\.safetensors: not found/);
  });

  it("refuses to write inconsistent tensors", () => {
    expect(() => encodeSafetensors({ x: { data: new Float32Array(3), shape: [2, 2] } })).toThrow(/"x": shape \[2, 2\] needs 4/);
    expect(() => encodeSafetensors({ x: { data: new Float32Array(1), shape: [1], dtype: "I32" } })).toThrow(/"x": dtype I32/);
  });
});
