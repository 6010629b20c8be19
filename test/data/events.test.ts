import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  makeStream,
  decodeNmnist,
  encodeNmnist,
  decodeAedat2,
  encodeAedat2,
  decodeAedat3,
  encodeAedat3,
  decodeAedat4,
  encodeAedat4,
  decodeNpyEvents,
  encodeNpyEvents,
  encodeNpzEvents,
  parseGestureLabels,
  splitByWindows,
  readEvents,
  writeEvents,
  detectFormat,
  writeIdx,
  zstdStoredFrame,
  decompressPacket,
  eventStats,
  EVENT_FORMATS,
  EVENT_EXTENSIONS,
  type EventStream,
} from "../../src/data/index.js";
import { writeZip } from "../../src/data/events/zip.js";
import { expectSameEvents, randomStream, splicePacket, tmp } from "./helpers.js";

const empty = (w: number, h: number): EventStream => makeStream(0, w, h, { format: "npy" });

describe("round trips (write a file in the format, read it back)", () => {
  it("N-MNIST binary", () => {
    const s = randomStream(5000, 34, 34);
    const r = decodeNmnist(encodeNmnist(s));
    expectSameEvents(r, s);
    expect([r.width, r.height]).toEqual([34, 34]);
    expect(decodeNmnist(encodeNmnist(empty(34, 34))).t.length).toBe(0);
  });

  it("AEDAT 2.0 (DVS128 layout, reference orientation and SpikingJelly's)", () => {
    const s = randomStream(5000, 128, 128);
    expectSameEvents(decodeAedat2(encodeAedat2(s)), s);
    expectSameEvents(decodeAedat2(encodeAedat2(s, { flipX: true, invertPolarity: true }), "f", { flipX: true, invertPolarity: true }), s);
    // the bit layout of spec §8.2: x = (addr & 0xFE) >> 1, y = (addr & 0x7F00) >> 8, p = addr & 1
    const one = makeStream(1, 128, 128, { format: "aedat2" });
    one.x[0] = 5;
    one.y[0] = 100;
    one.p[0] = 1;
    one.t[0] = 77;
    const b = encodeAedat2(one);
    const dv = new DataView(b.buffer, b.length - 8);
    expect(dv.getUint32(0, false)).toBe((100 << 8) | (5 << 1) | 1);
    expect(dv.getUint32(4, false)).toBe(77);
    expect(decodeAedat2(encodeAedat2(empty(128, 128))).t.length).toBe(0);
  });

  it("AEDAT 3.1 polarity packets", () => {
    const s = randomStream(10000, 128, 128);
    const r = decodeAedat3(encodeAedat3(s, { packetSize: 3000 }));
    expectSameEvents(r, s);
    expect(r.meta.packets).toBe(4);
    expect([r.width, r.height]).toEqual([128, 128]);
    const big = randomStream(100, 346, 260);
    expect(decodeAedat3(encodeAedat3(big)).width).toBe(346);
    expect(decodeAedat3(encodeAedat3(empty(128, 128))).t.length).toBe(0);
  });

  it("AEDAT 4 with no, LZ4 and Zstd packet compression, with and without a data table", () => {
    const s = randomStream(20000, 346, 260, 3, 1_700_000_000_000_000 / 1000);
    for (const compression of ["none", "lz4", "lz4-high", "zstd", "zstd-high"] as const) {
      for (const noDataTable of [false, true]) {
        const r = decodeAedat4(encodeAedat4(s, { compression, noDataTable, packetSize: 5000 }));
        expectSameEvents(r, s);
        expect([r.width, r.height]).toEqual([346, 260]);
        expect(r.meta.compression).toBe(compression);
        expect(r.meta.packets).toBe(4);
      }
    }
    expect(decodeAedat4(encodeAedat4(empty(128, 128), { compression: "lz4" })).t.length).toBe(0);
  });

  it("AEDAT 4 packets compressed by the reference zstd and lz4 tools", () => {
    const s = randomStream(3000, 128, 128);
    const d = tmp();
    for (const [tool, code, c] of [
      ["zstd", 3, "zstd"],
      ["lz4", 1, "lz4"],
    ] as const) {
      // the single packet body compressed by the CLI tool, spliced back with the header patched
      let file: Uint8Array;
      try {
        file = splicePacket(
          s,
          (body) => {
            writeFileSync(join(d, "p"), body);
            return execFileSync(tool, ["-q", "-c", join(d, "p")]);
          },
          code,
        );
      } catch {
        continue; // tool not installed
      }
      const r = decodeAedat4(file, `${tool}.aedat4`);
      expect(r.meta.compression).toBe(c);
      expectSameEvents(r, s);
    }
  });

  it("stored Zstandard frames are valid for fzstd", () => {
    const data = new Uint8Array(300_000).map((_, i) => i & 255);
    expect(decompressPacket(zstdStoredFrame(data), "zstd")).toEqual(data);
    expect(decompressPacket(zstdStoredFrame(new Uint8Array(0)), "zstd").length).toBe(0);
  });

  it("NumPy .npy structured arrays and .npz archives (separate x, y, t, p)", () => {
    const s = randomStream(4000, 128, 128);
    const a = decodeNpyEvents(encodeNpyEvents(s));
    expectSameEvents(a, s);
    for (const deflate of [false, true]) {
      const b = decodeNpyEvents(encodeNpzEvents(s, deflate));
      expectSameEvents(b, s);
      expect([b.width, b.height]).toEqual([128, 128]);
    }
    expect(decodeNpyEvents(encodeNpyEvents(empty(10, 10))).t.length).toBe(0);
  });

  it("tonic-style structured dtype with int64 fields and ±1 polarity", () => {
    const n = 3;
    let h = "{'descr': [('x', '<i8'), ('y', '<i8'), ('t', '<i8'), ('p', '<i8')], 'fortran_order': False, 'shape': (3,), }";
    h += " ".repeat(64 - ((10 + h.length + 1) % 64)) + "\n";
    const b = new Uint8Array(10 + h.length + 32 * n);
    b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const dv = new DataView(b.buffer);
    dv.setUint16(8, h.length, true);
    b.set(Buffer.from(h, "latin1"), 10);
    [
      [1, 2, 100, 1],
      [3, 4, 200, -1],
      [5, 6, 300, 1],
    ].forEach((e, i) => e.forEach((v, j) => dv.setBigInt64(10 + h.length + 32 * i + 8 * j, BigInt(v), true)));
    const s = decodeNpyEvents(b, "tonic.npy");
    expect(Array.from(s.p)).toEqual([1, 0, 1]);
    expect(Array.from(s.t)).toEqual([100, 200, 300]);
  });

  it("every format through readEvents / writeEvents / detectFormat", () => {
    const d = tmp();
    const s = randomStream(2000, 34, 34);
    for (const f of EVENT_FORMATS) {
      const p = join(d, `rec${EVENT_EXTENSIONS[f]}${f === "aedat3" ? "3" : ""}`);
      const src = f === "aedat2" ? { ...s, width: 128, height: 128 } : s;
      writeEvents(p, src, f);
      expect(detectFormat(p)).toBe(f);
      expectSameEvents(readEvents(p), s);
    }
    writeIdx(join(d, "train-images-idx3-ubyte.gz"), new Uint8Array(4), [1, 2, 2]);
    expect(detectFormat(join(d, "train-images-idx3-ubyte.gz"))).toBe("idx");
    writeFileSync(join(d, "what.xyz"), "hello");
    expect(() => detectFormat(join(d, "what.xyz"))).toThrow(/what\.xyz: cannot tell the format .* pass --format/);
  });
});

describe("timestamp wrap-around", () => {
  it("N-MNIST's 23-bit clock", () => {
    const s = makeStream(3, 34, 34, { format: "nmnist" });
    s.t.set([8_388_000, 8_388_600, 8_389_000]); // crosses 2^23 = 8 388 608
    const r = decodeNmnist(encodeNmnist(s));
    expect(Array.from(r.t)).toEqual([8_388_000, 8_388_600, 8_389_000]);
    expect(r.meta.wraps).toBe(1);
  });
  it("AEDAT 2.0's 32-bit clock", () => {
    const s = makeStream(3, 128, 128, { format: "aedat2" });
    s.t.set([4294967000, 4294967295, 4294967296 + 500]);
    const r = decodeAedat2(encodeAedat2(s));
    expect(Array.from(r.t)).toEqual(Array.from(s.t));
    expect(r.meta.wraps).toBe(1);
  });
  it("AEDAT 3.1's tsOverflow counter", () => {
    const s = makeStream(4, 128, 128, { format: "aedat3" });
    s.t.set([2147483000, 2147483647, 2147483648, 3 * 2147483648 + 5]);
    const r = decodeAedat3(encodeAedat3(s));
    expect(Array.from(r.t)).toEqual(Array.from(s.t));
    expect(r.meta.packets).toBe(3);
  });
});

describe("errors name the file and what was wrong", () => {
  const s = randomStream(100, 128, 128);
  it("truncated files", () => {
    const n = encodeNmnist(s);
    expect(() => decodeNmnist(n.subarray(0, n.length - 2), "a.bin")).toThrow(
      /a\.bin: truncated N-MNIST file: 498 bytes .* \(last event has 3 bytes\)/,
    );
    const a2 = encodeAedat2(s);
    expect(() => decodeAedat2(a2.subarray(0, a2.length - 3), "b.aedat")).toThrow(/b\.aedat: truncated AEDAT 2\.0 record/);
    const a3 = encodeAedat3(s);
    expect(() => decodeAedat3(a3.subarray(0, a3.length - 8), "c.aedat")).toThrow(
      /c\.aedat: truncated packet at byte \d+: declares 100 events of 8 bytes/,
    );
    expect(() => decodeAedat3(a3.subarray(0, a3.length - 810), "c.aedat")).toThrow(
      /c\.aedat: truncated packet header at byte \d+ \(18 of 28 bytes\)/,
    );
    const a4 = encodeAedat4(s, { compression: "lz4", noDataTable: true });
    expect(() => decodeAedat4(a4.subarray(0, a4.length - 10), "d.aedat4")).toThrow(/d\.aedat4: truncated packet at byte \d+/);
    const a4t = encodeAedat4(s, { compression: "zstd" });
    expect(() => decodeAedat4(a4t.subarray(0, a4t.length - 300), "e.aedat4")).toThrow(
      /e\.aedat4: truncated: the data table should start at byte/,
    );
    expect(() => decodeAedat4(a4.subarray(0, 20), "f.aedat4")).toThrow(/f\.aedat4: truncated IOHeader/);
    const np = encodeNpyEvents(s);
    expect(() => decodeNpyEvents(np.subarray(0, np.length - 1), "g.npy")).toThrow(
      /g\.npy: truncated data: shape \(100\) needs 1300 bytes, 1299 present/,
    );
    const nz = encodeNpzEvents(s);
    expect(() => decodeNpyEvents(nz.subarray(0, nz.length - 30), "h.npz")).toThrow(/h\.npz: not a readable \.npz archive/);
  });

  it("wrong magic", () => {
    expect(() => decodeAedat2(encodeAedat3(s), "x.aedat")).toThrow(/x\.aedat: wrong magic: this is AER-DAT3\.1/);
    expect(() => decodeAedat2(new Uint8Array(16), "x.aedat")).toThrow(
      /wrong magic: an AEDAT 2\.0 file starts with the header line #!AER-DAT2\.0/,
    );
    expect(() => decodeAedat3(encodeAedat2(s), "y.aedat")).toThrow(/y\.aedat: wrong magic: an AEDAT 3\.1 file/);
    expect(() => decodeAedat4(encodeAedat3(s), "z.aedat4")).toThrow(/z\.aedat4: wrong magic \(AER-DAT3\.1\)/);
    expect(() => decodeNpyEvents(new Uint8Array(20), "w.npy")).toThrow(/w\.npy: wrong magic/);
    expect(() => decodeAedat3(Buffer.from("#!AER-DAT3.1\r\n#Format: RAW\r\n"), "h.aedat")).toThrow(
      /h\.aedat: truncated header: no #!END-HEADER/,
    );
  });

  it("corrupt AEDAT 4 packets and stream declarations", () => {
    const a4 = encodeAedat4(s, { compression: "lz4", noDataTable: true });
    const hsize = new DataView(a4.buffer).getUint32(14, true);
    const pstart = 14 + 4 + hsize;
    const badId = a4.slice();
    new DataView(badId.buffer).setInt32(pstart, 7, true);
    expect(() => decodeAedat4(badId, "s.aedat4")).toThrow(
      /s\.aedat4: packet at byte \d+ belongs to stream 7, which the infoNode does not declare/,
    );
    const badBody = a4.slice();
    badBody[pstart + 8] = 0;
    expect(() => decodeAedat4(badBody, "b.aedat4")).toThrow(/b\.aedat4: packet at byte \d+: lz4 decompression failed \(not an LZ4 frame/);
    const zs = encodeAedat4(s, { compression: "zstd", noDataTable: true });
    const zp = 14 + 4 + new DataView(zs.buffer).getUint32(14, true) + 8;
    const badIdent = zs.slice();
    // the EVTS identifier sits 8 bytes into the decompressed packet: inside the stored zstd block (9-byte frame header + 3-byte block header)
    badIdent[zp + 12 + 8] = 0x58;
    expect(() => decodeAedat4(badIdent, "i.aedat4")).toThrow(/i\.aedat4: event packet at byte \d+ is corrupt \(identifier is "XVTS"/);
  });

  it("npy arrays without event fields", () => {
    const z = writeZip([{ name: "a.npy", data: encodeNpyEvents(s).slice() }]);
    expect(decodeNpyEvents(z, "ok.npz").t.length).toBe(100);
    const only = writeZip([]);
    expect(() => decodeNpyEvents(only, "none.npz")).toThrow(/none\.npz: event arrays need fields x, y, t, p; missing x, y, t, p/);
  });
});

describe("DVS128 Gesture labels", () => {
  it("cuts a recording into [start, end) windows with 0-based classes", () => {
    const s = makeStream(6, 128, 128, { format: "aedat3" });
    s.t.set([10, 20, 30, 40, 50, 60]);
    const w = parseGestureLabels("class,startTime_usec,endTime_usec\n1,20,40\n11,40,61\n");
    expect(w).toEqual([
      { label: 0, startUs: 20, endUs: 40 },
      { label: 10, startUs: 40, endUs: 61 },
    ]);
    const parts = splitByWindows(s, w);
    expect(Array.from(parts[0]!.events.t)).toEqual([20, 30]);
    expect(Array.from(parts[1]!.events.t)).toEqual([40, 50, 60]);
    expect(() => parseGestureLabels("class,a,b\n0,1,2\n", "u.csv")).toThrow(/u\.csv: line 2: class 0 is not a positive integer/);
    expect(() => parseGestureLabels("3,50,40\n", "u.csv")).toThrow(/line 1: end 40 is not after start 50/);
  });
});

describe("event statistics", () => {
  it("counts ON/OFF, duration and rate", () => {
    const s = makeStream(4, 10, 10, { format: "npy" });
    s.t.set([0, 250_000, 500_000, 1_000_000]);
    s.p.set([1, 0, 1, 1]);
    expect(eventStats(s)).toMatchObject({ events: 4, on: 3, off: 1, durationUs: 1_000_000, rate: 4 });
    expect(eventStats(empty(5, 5))).toMatchObject({ events: 0, durationUs: 0, rate: 0, tFirst: null });
    expect(existsSync("/")).toBe(true);
  });
});
