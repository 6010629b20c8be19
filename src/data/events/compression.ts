/**
 * Packet (de)compression for AEDAT 4. Decoding: LZ4 frames by lz4-frame.ts (the frame format read from its
 * spec, lz4js for the blocks), Zstandard by fzstd. Encoding: LZ4 via lz4js; Zstandard is written as a valid
 * frame of raw (stored) blocks (RFC 8878 §3.1.1), since no pure-JS Zstandard encoder is installed; DV software
 * reads such frames like any other.
 */
import * as lz4 from "lz4js";
import { decompress as zstdDecompress } from "fzstd";
import { decompressLz4Frames } from "./lz4-frame.js";

export type Compression = "none" | "lz4" | "lz4-high" | "zstd" | "zstd-high";
export const COMPRESSION_CODES: Record<Compression, number> = { none: 0, lz4: 1, "lz4-high": 2, zstd: 3, "zstd-high": 4 };
export const COMPRESSION_NAMES: Compression[] = ["none", "lz4", "lz4-high", "zstd", "zstd-high"];

export function decompressPacket(data: Uint8Array, c: Compression): Uint8Array {
  switch (c) {
    case "none":
      return data;
    case "lz4":
    case "lz4-high": {
      return decompressLz4Frames(data);
    }
    default:
      if (data.length < 4 || data[0] !== 0x28 || data[1] !== 0xb5 || data[2] !== 0x2f || data[3] !== 0xfd) throw new Error("not a Zstandard frame (bad magic)");
      return zstdDecompress(data);
  }
}

export function compressPacket(data: Uint8Array, c: Compression): Uint8Array {
  switch (c) {
    case "none":
      return data;
    case "lz4":
    case "lz4-high":
      return lz4.compress(data);
    default:
      return zstdStoredFrame(data);
  }
}

/** A Zstandard frame holding `data` in raw blocks (single segment, 4-byte content size). */
export function zstdStoredFrame(data: Uint8Array): Uint8Array {
  const BLOCK = 128 * 1024;
  const nBlocks = Math.max(1, Math.ceil(data.length / BLOCK));
  const out = new Uint8Array(4 + 1 + 4 + nBlocks * 3 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xfd2fb528, true);
  out[4] = 0xa0; // FCS flag 2 (4 bytes), single segment
  dv.setUint32(5, data.length, true);
  let pos = 9;
  for (let b = 0; b < nBlocks; b++) {
    const start = b * BLOCK;
    const size = Math.min(BLOCK, data.length - start);
    const last = b === nBlocks - 1 ? 1 : 0;
    const h = (size << 3) | (0 << 1) | last; // block type 0 = raw
    out[pos] = h & 0xff;
    out[pos + 1] = (h >> 8) & 0xff;
    out[pos + 2] = (h >> 16) & 0xff;
    pos += 3;
    out.set(data.subarray(start, start + size), pos);
    pos += size;
  }
  return out;
}
