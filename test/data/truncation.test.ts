/** Files cut short must fail loudly, naming the file and what is missing, never read as fewer events. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeAedat2, decodeAedat4, detectFormat, encodeAedat2, encodeAedat4, encodeNmnist, readEvents } from "../../src/data/index.js";
import { randomStream, tmp } from "./helpers.js";

const s = randomStream(3000, 128, 128);

describe("AEDAT 2.0 cut inside its text header", () => {
  it("is a truncated-header error, not an empty recording", () => {
    const a = encodeAedat2(s);
    for (const cut of [5, 20, 60, 100]) {
      expect(() => decodeAedat2(a.subarray(0, cut), "h.aedat")).toThrow(/h\.aedat: truncated header: the file \(\d+ bytes\) ends inside (header line \d+|the #!AER-DAT2\.0 line)/);
    }
    // a complete header with no events is a valid, empty recording
    const headerOnly = encodeAedat2({ ...s, x: s.x.subarray(0, 0), y: s.y.subarray(0, 0), t: s.t.subarray(0, 0), p: s.p.subarray(0, 0) });
    expect(decodeAedat2(headerOnly).t.length).toBe(0);
  });
});

describe("AEDAT 4 with a cut FileDataTable", () => {
  for (const compression of ["none", "lz4", "zstd"] as const) {
    it(`${compression}: the table is checked against the file size`, () => {
      const a = encodeAedat4(s, { compression, packetSize: 500 });
      expect(decodeAedat4(a).meta.dataTableRows).toBe(6);
      for (const cut of [1, 4, 30]) {
        expect(() => decodeAedat4(a.subarray(0, a.length - cut), "t.aedat4")).toThrow(/t\.aedat4: truncated FileDataTable: the IOHeader places it at byte \d+, .*the file was cut short/);
      }
    });
  }

  it("a table cut to nothing, or describing other packets, is an error too", () => {
    const tableAt = (f: Uint8Array) => {
      const dv = new DataView(f.buffer, f.byteOffset);
      const root = 18 + dv.getUint32(18, true);
      const vt = root - dv.getInt32(root, true);
      return Number(dv.getBigInt64(root + dv.getUint16(vt + 6, true), true));
    };
    const a = encodeAedat4(s, { compression: "none", packetSize: 500 });
    expect(() => decodeAedat4(a.subarray(0, tableAt(a)), "n.aedat4")).toThrow(/n\.aedat4: truncated FileDataTable: the IOHeader places it at byte \d+, where the file ends/);
    // the packets of one file followed by the table of another (600 events per packet instead of 500)
    const b = encodeAedat4(s, { compression: "none", packetSize: 600 });
    const mixed = new Uint8Array([...a.subarray(0, tableAt(a)), ...b.subarray(tableAt(b))]);
    expect(() => decodeAedat4(mixed, "r.aedat4")).toThrow(/r\.aedat4: FileDataTable row 0 says stream 0, 9\d\d\d bytes at byte \d+; the packet there says stream 0, 8\d\d\d bytes/);
  });
});

describe("format detection of a cut N-MNIST file", () => {
  it("says it looks like a truncated N-MNIST file instead of asking for --format", () => {
    const d = tmp();
    const n = encodeNmnist(randomStream(100, 34, 34));
    const p = join(d, "00001.bin");
    writeFileSync(p, n.subarray(0, n.length - 2));
    expect(() => detectFormat(p)).toThrow(/00001\.bin: looks like a truncated N-MNIST file: 498 bytes is not a multiple of 5 \(the 5-byte event record; the last event has 3 bytes\)/);
    expect(() => readEvents(p)).toThrow(/truncated N-MNIST/);
    writeFileSync(p, n);
    expect(detectFormat(p)).toBe("nmnist");
  });
});
