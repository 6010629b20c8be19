/**
 * AEDAT 3.1 (cAER / DV legacy), as used by DVS128 Gesture. Header: ASCII lines starting with `#`, the
 * first `#!AER-DAT3.1`, the last `#!END-HEADER`. Then a sequence of event packets, little-endian:
 *   28-byte header: int16 eventType, int16 eventSource, int32 eventSize, int32 eventTSOffset,
 *                   int32 eventTSOverflow, int32 eventCapacity, int32 eventNumber, int32 eventValid,
 *   then eventCapacity × eventSize bytes of events (eventNumber of them are used).
 * Polarity events (type 1, 8 bytes): uint32 data (bit 0 valid, bit 1 polarity, bits 2..16 y,
 * bits 17..31 x), int32 timestamp; full timestamp = ts | (eventTSOverflow << 31) (µs).
 * Other packet types are skipped. The validity bit is not checked (as the reference decoder).
 * DVS128 Gesture labels: `user01_fluorescent_labels.csv` with rows `class,startTime_usec,endTime_usec`.
 */
import { readFileSync } from "node:fs";
import { DataFormatError } from "../errors.js";
import { dataView, readBytes, writeFileAtomic } from "../fsutil.js";
import { readTextHeader, startsWithAscii } from "./header.js";
import { checkStream, sliceByTime, type EventStream } from "./types.js";

const HEADER = 28;
const POLARITY = 1;
const KNOWN_SOURCES: Record<string, [number, number]> = { DVS128: [128, 128], DAVIS240: [240, 180], DAVIS240C: [240, 180], DAVIS346: [346, 260], DAVIS640: [640, 480] };

export function decodeAedat3(bytes: Uint8Array, name = "<aedat3>"): EventStream {
  if (!startsWithAscii(bytes, "#!AER-DAT3")) {
    throw new DataFormatError(name, "wrong magic: an AEDAT 3.1 file starts with the header line #!AER-DAT3.1");
  }
  const header = readTextHeader(bytes, "#!END-HEADER");
  if (header.lines[header.lines.length - 1] !== "#!END-HEADER") {
    throw new DataFormatError(name, "truncated header: no #!END-HEADER line");
  }
  const dv = dataView(bytes);
  const xs: Uint16Array[] = [];
  const ys: Uint16Array[] = [];
  const ts: Float64Array[] = [];
  const ps: Uint8Array[] = [];
  let total = 0;
  let pos = header.end;
  let packets = 0;
  let maxOverflow = 0;
  while (pos < bytes.length) {
    if (pos + HEADER > bytes.length) {
      throw new DataFormatError(name, `truncated packet header at byte ${pos} (${bytes.length - pos} of 28 bytes)`);
    }
    const type = dv.getInt16(pos, true);
    const size = dv.getInt32(pos + 4, true);
    const tsOffset = dv.getInt32(pos + 8, true);
    const overflow = dv.getInt32(pos + 12, true);
    const capacity = dv.getInt32(pos + 16, true);
    const number = dv.getInt32(pos + 20, true);
    if (size <= 0 || capacity < 0 || number < 0 || number > capacity) {
      throw new DataFormatError(name, `corrupt packet header at byte ${pos}: eventSize ${size}, capacity ${capacity}, number ${number}`);
    }
    const body = pos + HEADER;
    const end = body + capacity * size;
    if (end > bytes.length) {
      throw new DataFormatError(name, `truncated packet at byte ${pos}: declares ${capacity} events of ${size} bytes, only ${bytes.length - body} bytes remain`);
    }
    if (type === POLARITY) {
      if (size < 8 || tsOffset + 4 > size) throw new DataFormatError(name, `polarity packet at byte ${pos} has eventSize ${size} / tsOffset ${tsOffset}`);
      const x = new Uint16Array(number);
      const y = new Uint16Array(number);
      const t = new Float64Array(number);
      const p = new Uint8Array(number);
      const base = overflow * 2147483648;
      for (let i = 0; i < number; i++) {
        const o = body + i * size;
        const data = dv.getUint32(o, true);
        x[i] = data >>> 17;
        y[i] = (data >>> 2) & 0x7fff;
        p[i] = (data >>> 1) & 1;
        t[i] = base + (dv.getInt32(o + tsOffset, true) >>> 0);
      }
      xs.push(x);
      ys.push(y);
      ts.push(t);
      ps.push(p);
      total += number;
      if (overflow > maxOverflow) maxOverflow = overflow;
    }
    packets++;
    pos = end;
  }
  const out: EventStream = {
    x: concatU16(xs, total), y: concatU16(ys, total), t: concatF64(ts, total), p: concatU8(ps, total),
    width: 0, height: 0,
    meta: { format: "aedat3", file: name, header: header.lines, packets, wraps: maxOverflow },
  };
  const [w, h] = sensorSize(header.lines, out);
  out.width = w;
  out.height = h;
  return out;
}

function sensorSize(lines: string[], s: EventStream): [number, number] {
  for (const l of lines) {
    const m = /^#Source \d+:\s*(.*)$/.exec(l);
    if (!m) continue;
    const src = m[1]!.trim();
    const wh = /(\d+)x(\d+)/.exec(src);
    if (wh) return [Number(wh[1]), Number(wh[2])];
    for (const [k, v] of Object.entries(KNOWN_SOURCES)) if (src.toUpperCase().startsWith(k)) return v;
  }
  let mx = 0;
  let my = 0;
  for (let i = 0; i < s.x.length; i++) {
    if (s.x[i]! > mx) mx = s.x[i]!;
    if (s.y[i]! > my) my = s.y[i]!;
  }
  return [Math.max(128, mx + 1), Math.max(128, my + 1)];
}

export function readAedat3(path: string): EventStream {
  return decodeAedat3(readBytes(path), path);
}

/**
 * Encodes polarity events. A new packet starts every `packetSize` events and whenever the timestamp
 * crosses a 2^31 µs boundary (the packet's eventTSOverflow counter).
 */
export function encodeAedat3(s: EventStream, opts: { packetSize?: number; source?: string } = {}): Uint8Array {
  const n = checkStream(s, "encodeAedat3");
  const source = opts.source ?? (s.width === 128 && s.height === 128 ? "DVS128" : `spikecut-${s.width}x${s.height}`);
  const head = Buffer.from(["#!AER-DAT3.1", "#Format: RAW", `#Source 1: ${source}`, "#Start-Time: 1970-01-01 00:00:00 (TZ+0000)", "#!END-HEADER"].join("\r\n") + "\r\n", "latin1");
  const packetSize = opts.packetSize ?? 4096;
  // group into packets
  const packets: [number, number, number][] = [];
  let i = 0;
  while (i < n) {
    const ov = Math.floor(Math.round(s.t[i]!) / 2147483648);
    let j = i;
    while (j < n && j - i < packetSize && Math.floor(Math.round(s.t[j]!) / 2147483648) === ov) j++;
    packets.push([i, j, ov]);
    i = j;
  }
  const out = new Uint8Array(head.length + packets.length * HEADER + n * 8);
  out.set(head, 0);
  const dv = dataView(out);
  let pos = head.length;
  for (const [a, b, ov] of packets) {
    const k = b - a;
    dv.setInt16(pos, POLARITY, true);
    dv.setInt16(pos + 2, 1, true);
    dv.setInt32(pos + 4, 8, true);
    dv.setInt32(pos + 8, 4, true);
    dv.setInt32(pos + 12, ov, true);
    dv.setInt32(pos + 16, k, true);
    dv.setInt32(pos + 20, k, true);
    dv.setInt32(pos + 24, k, true);
    pos += HEADER;
    for (let e = a; e < b; e++) {
      const x = s.x[e]!;
      const y = s.y[e]!;
      if (x > 0x7fff || y > 0x7fff) throw new Error(`encodeAedat3: event ${e} at (${x}, ${y}) does not fit 15 bits`);
      const t = Math.round(s.t[e]!);
      if (t < 0) throw new Error(`encodeAedat3: event ${e} has a negative timestamp ${t}`);
      dv.setUint32(pos, ((x << 17) | (y << 2) | ((s.p[e]! & 1) << 1) | 1) >>> 0, true);
      dv.setInt32(pos + 4, t - ov * 2147483648, true);
      pos += 8;
    }
  }
  return out;
}

export function writeAedat3(path: string, s: EventStream, opts: { packetSize?: number; source?: string } = {}): void {
  writeFileAtomic(path, encodeAedat3(s, opts));
}

export interface GestureWindow {
  /** 0-based class (the CSV's 1..11 minus 1). */
  label: number;
  startUs: number;
  endUs: number;
}

/** Parses a DVS128 Gesture `*_labels.csv` (header `class,startTime_usec,endTime_usec`). */
export function parseGestureLabels(text: string, name = "<labels.csv>"): GestureWindow[] {
  const out: GestureWindow[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const l = line.trim();
    if (l.length === 0 || /^[a-z]/i.test(l)) return;
    const parts = l.split(",").map((v) => Number(v.trim()));
    if (parts.length < 3 || parts.some((v) => !Number.isFinite(v))) throw new DataFormatError(name, `line ${i + 1}: expected class,startTime_usec,endTime_usec, got "${l}"`);
    const [c, a, b] = parts as [number, number, number];
    if (c < 1 || !Number.isInteger(c)) throw new DataFormatError(name, `line ${i + 1}: class ${c} is not a positive integer (classes are 1-based)`);
    if (b <= a) throw new DataFormatError(name, `line ${i + 1}: end ${b} is not after start ${a}`);
    out.push({ label: c - 1, startUs: a, endUs: b });
  });
  return out;
}

export function readGestureLabels(path: string): GestureWindow[] {
  return parseGestureLabels(readFileSync(path, "utf8"), path);
}

/** Cuts a recording into labelled samples, each holding the events with start <= t < end. */
export function splitByWindows(s: EventStream, windows: GestureWindow[]): { label: number; events: EventStream }[] {
  return windows.map((w) => ({ label: w.label, events: sliceByTime(s, w.startUs, w.endUs) }));
}

type Concatenable = Uint16Array | Uint8Array | Float64Array;
/** Joins per-packet chunks into one array of n elements. */
function concat<A extends Concatenable>(parts: A[], n: number, make: (n: number) => A): A {
  const o = make(n);
  let k = 0;
  for (const x of parts) {
    o.set(x, k);
    k += x.length;
  }
  return o;
}
function concatU16(a: Uint16Array[], n: number): Uint16Array {
  return concat(a, n, (m) => new Uint16Array(m));
}
function concatU8(a: Uint8Array[], n: number): Uint8Array {
  return concat(a, n, (m) => new Uint8Array(m));
}
function concatF64(a: Float64Array[], n: number): Float64Array {
  return concat(a, n, (m) => new Float64Array(m));
}
