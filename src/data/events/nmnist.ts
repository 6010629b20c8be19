/**
 * N-MNIST / N-Caltech101 binary (Orchard et al. 2015): 5 bytes (40 bits) per event, no header.
 *   byte 0: x (8 bits), byte 1: y (8 bits),
 *   byte 2 bit 7: polarity (1 = ON), bits 6..0 of byte 2 + bytes 3..4: 23-bit timestamp in µs, big-endian.
 * The 23-bit clock wraps every 8.39 s; a decrease of more than half the range is undone as a wrap.
 * N-MNIST's sensor area is 34×34; readers infer a larger size from the data when needed.
 */
import { DataFormatError } from "../errors.js";
import { readBytes, writeFileAtomic } from "../fsutil.js";
import { checkStream, makeStream, type EventStream } from "./types.js";

const TS_RANGE = 1 << 23;

export interface NmnistOptions {
  /** Sensor size when the data does not exceed it (default 34×34, N-MNIST). */
  width?: number;
  height?: number;
}

export function decodeNmnist(bytes: Uint8Array, name = "<nmnist>", opts: NmnistOptions = {}): EventStream {
  if (bytes.length % 5 !== 0) {
    throw new DataFormatError(name, `truncated N-MNIST file: ${bytes.length} bytes is not a multiple of 5 (last event has ${bytes.length % 5} bytes)`);
  }
  const n = bytes.length / 5;
  let maxX = -1;
  let maxY = -1;
  const s = makeStream(n, 0, 0, { format: "nmnist", file: name });
  let wraps = 0;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const o = 5 * i;
    const x = bytes[o]!;
    const y = bytes[o + 1]!;
    const b2 = bytes[o + 2]!;
    const raw = ((b2 & 0x7f) << 16) | (bytes[o + 3]! << 8) | bytes[o + 4]!;
    if (prev >= 0 && raw < prev && prev - raw > TS_RANGE / 2) wraps++;
    prev = raw;
    s.x[i] = x;
    s.y[i] = y;
    s.p[i] = b2 >> 7;
    s.t[i] = raw + wraps * TS_RANGE;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  }
  s.width = Math.max(opts.width ?? 34, maxX + 1);
  s.height = Math.max(opts.height ?? 34, maxY + 1);
  s.meta.wraps = wraps;
  return s;
}

export function readNmnist(path: string, opts: NmnistOptions = {}): EventStream {
  return decodeNmnist(readBytes(path), path, opts);
}

/** Encodes events; timestamps are written modulo 2^23 (the reader undoes wraps). x, y must be < 256. */
export function encodeNmnist(s: EventStream): Uint8Array {
  const n = checkStream(s, "encodeNmnist");
  const out = new Uint8Array(5 * n);
  for (let i = 0; i < n; i++) {
    const x = s.x[i]!;
    const y = s.y[i]!;
    if (x > 255 || y > 255) throw new Error(`encodeNmnist: event ${i} at (${x}, ${y}) does not fit the 8-bit address`);
    const t = Math.round(s.t[i]!);
    if (t < 0) throw new Error(`encodeNmnist: event ${i} has a negative timestamp ${t}`);
    const ts = t % TS_RANGE;
    const o = 5 * i;
    out[o] = x;
    out[o + 1] = y;
    out[o + 2] = ((s.p[i]! ? 1 : 0) << 7) | (ts >> 16);
    out[o + 3] = (ts >> 8) & 0xff;
    out[o + 4] = ts & 0xff;
  }
  return out;
}

export function writeNmnist(path: string, s: EventStream): void {
  writeFileAtomic(path, encodeNmnist(s));
}
