/**
 * AEDAT 2.0 (jAER), as used by CIFAR10-DVS: ASCII header lines starting with `#` (the first is
 * `#!AER-DAT2.0`), then 8-byte big-endian records: uint32 address, uint32 timestamp (µs).
 * DVS128 address layout (the reference decoder, spec §8.2): x = (addr & 0xFE) >> 1,
 * y = (addr & 0x7F00) >> 8, p = addr & 1; no x flip and no polarity inversion by default (SpikingJelly
 * flips x and inverts polarity: pass `flipX` / `invertPolarity` to match it).
 * The 32-bit clock wraps every 71.6 min; a decrease of more than 2^31 µs is undone as a wrap.
 */
import { DataFormatError } from "../errors.js";
import { dataView, readBytes, writeFileAtomic } from "../fsutil.js";
import { readTextHeader, startsWithAscii } from "./header.js";
import { checkStream, makeStream, type EventStream } from "./types.js";

export interface Aedat2Options {
  flipX?: boolean;
  invertPolarity?: boolean;
}

const TWO32 = 4294967296;

export function decodeAedat2(bytes: Uint8Array, name = "<aedat2>", opts: Aedat2Options = {}): EventStream {
  if (startsWithAscii(bytes, "#!AER-DAT3") || startsWithAscii(bytes, "#!AER-DAT4")) {
    throw new DataFormatError(name, `wrong magic: this is ${Buffer.from(bytes.subarray(2, 12)).toString("latin1")}, not AEDAT 2.0 (use the aedat3/aedat4 reader)`);
  }
  if (bytes.length > 0 && bytes.length < 10 && "#!AER-DAT2".startsWith(Buffer.from(bytes).toString("latin1"))) {
    throw new DataFormatError(name, `truncated header: the file (${bytes.length} bytes) ends inside the #!AER-DAT2.0 line`);
  }
  if (!startsWithAscii(bytes, "#!AER-DAT2")) {
    throw new DataFormatError(name, "wrong magic: an AEDAT 2.0 file starts with the header line #!AER-DAT2.0");
  }
  const header = readTextHeader(bytes);
  if (header.cutInLine) {
    throw new DataFormatError(name, `truncated header: the file (${bytes.length} bytes) ends inside header line ${header.lines.length} ("${header.lines[header.lines.length - 1]!.slice(0, 40)}"), before any event`);
  }
  const body = bytes.length - header.end;
  if (body % 8 !== 0) {
    throw new DataFormatError(name, `truncated AEDAT 2.0 record: ${body} data bytes after the header is not a multiple of 8 (last record has ${body % 8} bytes)`);
  }
  const n = body / 8;
  const s = makeStream(n, 128, 128, { format: "aedat2", file: name, header: header.lines });
  const dv = dataView(bytes);
  let wraps = 0;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const o = header.end + 8 * i;
    const addr = dv.getUint32(o, false);
    const ts = dv.getUint32(o + 4, false);
    if (prev >= 0 && ts < prev && prev - ts > TWO32 / 2) wraps++;
    prev = ts;
    const x = (addr & 0xfe) >> 1;
    s.x[i] = opts.flipX ? 127 - x : x;
    s.y[i] = (addr & 0x7f00) >> 8;
    const p = addr & 1;
    s.p[i] = opts.invertPolarity ? 1 - p : p;
    s.t[i] = ts + wraps * TWO32;
  }
  s.meta.wraps = wraps;
  return s;
}

export function readAedat2(path: string, opts: Aedat2Options = {}): EventStream {
  return decodeAedat2(readBytes(path), path, opts);
}

/** Encodes a 128×128 stream in the DVS128 layout; timestamps are written modulo 2^32. */
export function encodeAedat2(s: EventStream, opts: Aedat2Options & { comments?: string[] } = {}): Uint8Array {
  const n = checkStream(s, "encodeAedat2");
  const lines = ["#!AER-DAT2.0", "# This is a raw AE data file created by spikecut", "# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event", "# Timestamps tick is 1 us", ...(opts.comments ?? []).map((c) => `# ${c}`)];
  const head = Buffer.from(lines.join("\r\n") + "\r\n", "latin1");
  const out = new Uint8Array(head.length + 8 * n);
  out.set(head, 0);
  const dv = dataView(out);
  for (let i = 0; i < n; i++) {
    let x = s.x[i]!;
    const y = s.y[i]!;
    if (x > 127 || y > 127) throw new Error(`encodeAedat2: event ${i} at (${x}, ${y}) does not fit the DVS128 address (0..127)`);
    if (opts.flipX) x = 127 - x;
    const p = opts.invertPolarity ? 1 - s.p[i]! : s.p[i]!;
    const t = Math.round(s.t[i]!);
    if (t < 0) throw new Error(`encodeAedat2: event ${i} has a negative timestamp ${t}`);
    dv.setUint32(head.length + 8 * i, (y << 8) | (x << 1) | (p & 1), false);
    dv.setUint32(head.length + 8 * i + 4, t % TWO32, false);
  }
  return out;
}

export function writeAedat2(path: string, s: EventStream, opts: Aedat2Options = {}): void {
  writeFileAtomic(path, encodeAedat2(s, opts));
}
