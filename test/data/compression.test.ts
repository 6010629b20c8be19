/**
 * LZ4 frames and Zstandard frames as the reference command-line tools write them (every frame option of `lz4`,
 * and the usual `zstd` settings), and AEDAT 4 files whose packets they compressed. The tools come from Debian's
 * lz4 and zstd packages (.ci/run installs them); a test is skipped only where a tool is missing.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeAedat4, decompressPacket, compressPacket, decompressLz4Frames } from "../../src/data/index.js";
import { Rng } from "../../src/engine/random.js";
import { expectSameEvents, randomStream, splicePacket, tmp } from "./helpers.js";

const has = (tool: string) => {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const LZ4 = has("lz4");
const ZSTD = has("zstd");

/** ~1.3 MB that compresses (repeats at all distances, so linked blocks reach back into earlier blocks) but not trivially. */
function sample(): Uint8Array {
  const r = new Rng(4);
  const out = new Uint8Array(1_300_000);
  for (let i = 0; i < out.length; i++) out[i] = i > 70_000 && r.uniform() < 0.9 ? out[i - 1 - r.int(70_000)]! : r.int(256);
  return out;
}

const dir = tmp("spikecut-compression-");
const data = sample();
writeFileSync(join(dir, "data"), data);

function tool(cmd: string, args: string[]): Uint8Array {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  // lz4 takes the output as a second file name, zstd after -o
  execFileSync(cmd, [...args, join(dir, "data"), ...(cmd === "zstd" ? ["-o"] : []), out], { stdio: "ignore" });
  return new Uint8Array(readFileSync(out));
}

describe.skipIf(!LZ4)("LZ4 frames written by the lz4 tool", () => {
  const variants: [string, string[]][] = [
    ["defaults (4 MB blocks, linked, content checksum)", []],
    ["block checksums (-BX)", ["-BX"]],
    ["independent blocks (-BD)", ["-BD"]],
    ["64 KB blocks + block checksums + content size", ["-B4", "-BX", "--content-size"]],
    ["256 KB independent blocks, no content checksum", ["-B5", "-BD", "--no-frame-crc"]],
    ["1 MB blocks, high compression (-12)", ["-B6", "-12"]],
    ["legacy format (-l)", ["-l"]],
  ];
  for (const [name, args] of variants) {
    it(name, () => {
      const comp = tool("lz4", ["-q", "-f", ...args]);
      expect(Buffer.from(decompressLz4Frames(comp)).equals(Buffer.from(data))).toBe(true);
    });
  }

  it("concatenated frames and skippable frames", () => {
    const a = tool("lz4", ["-q", "-f", "-BX"]);
    const skippable = new Uint8Array([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    const joined = Buffer.concat([skippable, a, skippable, tool("lz4", ["-q", "-f", "-B4", "-BD"])]);
    expect(Buffer.from(decompressLz4Frames(joined)).equals(Buffer.concat([data, data]))).toBe(true);
  });

  it("corruption and truncation are errors that say where", () => {
    const bx = tool("lz4", ["-q", "-f", "-BX", "-B4"]);
    const flipped = bx.slice();
    flipped[2000] ^= 0x40;
    expect(() => decompressLz4Frames(flipped)).toThrow(/frame 0 \(byte 0\): block 0 checksum mismatch/);
    const plain = tool("lz4", ["-q", "-f", "-B4", "-BD"]);
    const bad = plain.slice();
    bad[plain.length - 100] ^= 0x55;
    expect(() => decompressLz4Frames(bad)).toThrow(/content checksum mismatch|corrupt block/);
    expect(() => decompressLz4Frames(plain.subarray(0, plain.length - 7))).toThrow(
      /truncated frame 0 \(byte 0\) block \d+ header \(no end mark\) at byte \d+: needs 4 bytes, 1 remain/,
    );
    const header = plain.slice();
    header[5] ^= 0x10;
    expect(() => decompressLz4Frames(header)).toThrow(/header checksum mismatch/);
    expect(() => decompressLz4Frames(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/not an LZ4 frame \(bad magic 0x04030201\)/);
  });

  it("the lz4 tool reads what spikecut writes", () => {
    const ours = compressPacket(data, "lz4");
    writeFileSync(join(dir, "ours.lz4"), ours);
    expect(Buffer.from(execFileSync("lz4", ["-d", "-c", join(dir, "ours.lz4")], { maxBuffer: 1 << 24 })).equals(Buffer.from(data))).toBe(
      true,
    );
  });

  it("AEDAT 4 packets compressed with lz4 -BX decode (lz4js 0.2.0 read them as ' VTS')", () => {
    const s = randomStream(3000, 128, 128);
    const file = splicePacket(
      s,
      (body) => {
        writeFileSync(join(dir, "packet"), body);
        return new Uint8Array(execFileSync("lz4", ["-q", "-c", "-BX", join(dir, "packet")]));
      },
      1,
    );
    const r = decodeAedat4(file, "bx.aedat4");
    expect(r.meta.compression).toBe("lz4");
    expectSameEvents(r, s);
  });
});

describe.skipIf(!ZSTD)("Zstandard frames written by the zstd tool", () => {
  const variants: [string, string[]][] = [
    ["level 1", ["-1"]],
    ["level 19", ["-19"]],
    ["--ultra -22", ["--ultra", "-22"]],
    ["--long=27 window", ["--long=27"]],
    ["no checksum, no content size", ["--no-check", "--no-content-size"]],
  ];
  for (const [name, args] of variants) {
    it(name, () => {
      const comp = tool("zstd", ["-q", "-f", ...args]);
      expect(Buffer.from(decompressPacket(comp, "zstd")).equals(Buffer.from(data))).toBe(true);
    });
  }

  it("AEDAT 4 packets compressed by zstd -19 decode", () => {
    const s = randomStream(3000, 346, 260);
    const file = splicePacket(
      s,
      (body) => {
        writeFileSync(join(dir, "packet"), body);
        return new Uint8Array(execFileSync("zstd", ["-q", "-c", "-19", join(dir, "packet")]));
      },
      3,
    );
    const r = decodeAedat4(file, "z.aedat4");
    expect(r.meta.compression).toBe("zstd");
    expectSameEvents(r, s);
  });
});

/** An AEDAT 4 file with one packet compressed by `compress`, and the IOHeader's compression field set to `code`. */
