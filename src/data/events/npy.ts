/**
 * NumPy `.npy` / `.npz` event arrays (format spec: numpy.lib.format). A `.npy` file: magic `\x93NUMPY`,
 * version (1.0: uint16 header length; 2.0/3.0: uint32), an ASCII (3.0: UTF-8) Python dict literal
 * {'descr', 'fortran_order', 'shape'}, padding, then the raw array. Events are either one structured
 * array with fields x, y, t, p (tonic; aliases ts/timestamp, pol/polarity) or, in an `.npz`, separate
 * 1-D arrays x, y, t, p (SpikingJelly). Timestamps are µs.
 */
import { asDataFormat, DataFormatError } from "../errors.js";
import { readBytes, writeFileAtomic } from "../fsutil.js";
import { readNpyFields, writeNpy, writeNpyRecords, type NpyFields } from "../../io/npy.js";
import { readZip, writeZip } from "../../io/zip.js";
import { checkStream, type EventStream } from "./types.js";

export { parsePyLiteral, type NpyFields as NpyArray } from "../../io/npy.js";

/** Decode any supported .npy array into one Float64Array per field (structured: by name; plain: field ""). */
export function decodeNpy(bytes: Uint8Array, file = "<npy>"): NpyFields {
  return asDataFormat(file, () => readNpyFields(bytes));
}

const ALIASES: Record<string, string[]> = { x: ["x"], y: ["y"], t: ["t", "ts", "timestamp"], p: ["p", "pol", "polarity"] };

function pick(fields: Record<string, Float64Array>, key: string): Float64Array | undefined {
  for (const a of ALIASES[key]!) if (fields[a]) return fields[a];
  return undefined;
}

function toStream(fields: Record<string, Float64Array>, file: string, format: "npy", size?: [number, number]): EventStream {
  const x = pick(fields, "x");
  const y = pick(fields, "y");
  const t = pick(fields, "t");
  const p = pick(fields, "p");
  const missing = (["x", "y", "t", "p"] as const).filter((k, i) => ![x, y, t, p][i]);
  if (missing.length) throw new DataFormatError(file, `event arrays need fields x, y, t, p; missing ${missing.join(", ")} (found ${Object.keys(fields).join(", ") || "none"})`);
  const n = t!.length;
  if (x!.length !== n || y!.length !== n || p!.length !== n) throw new DataFormatError(file, `inconsistent counts: x ${x!.length}, y ${y!.length}, t ${n}, p ${p!.length}`);
  const s: EventStream = { x: Uint16Array.from(x!), y: Uint16Array.from(y!), t: Float64Array.from(t!), p: new Uint8Array(n), width: 0, height: 0, meta: { format, file } };
  let mx = -1;
  let my = -1;
  for (let i = 0; i < n; i++) {
    s.p[i] = p![i]! > 0 ? 1 : 0; // accepts {0,1} and {-1,+1}
    if (x![i]! > mx) mx = x![i]!;
    if (y![i]! > my) my = y![i]!;
  }
  s.width = size?.[0] ?? mx + 1;
  s.height = size?.[1] ?? my + 1;
  return s;
}

export function decodeNpyEvents(bytes: Uint8Array, file = "<npy>"): EventStream {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return decodeNpzEvents(bytes, file);
  const a = decodeNpy(bytes, file);
  if (a.shape.length !== 1) throw new DataFormatError(file, `expected a 1-D structured array of events, got shape (${a.shape.join(", ")})`);
  return toStream(a.fields, file, "npy");
}

export function decodeNpzEvents(bytes: Uint8Array, file = "<npz>"): EventStream {
  let members;
  try {
    members = readZip(bytes);
  } catch (e) {
    throw new DataFormatError(file, `not a readable .npz archive (${(e as Error).message})`);
  }
  const fields: Record<string, Float64Array> = {};
  let size: [number, number] | undefined;
  for (const m of members) {
    const key = m.name.replace(/\.npy$/, "");
    const a = decodeNpy(m.data, `${file}:${m.name}`);
    if (key === "sensor_size") {
      const v = a.fields[""]!;
      if (v.length >= 2) size = [v[0]!, v[1]!];
    } else if (a.fields[""]) fields[key] = a.fields[""];
    else Object.assign(fields, a.fields);
  }
  const s = toStream(fields, file, "npy", size);
  s.meta.container = "npz";
  return s;
}

export function readNpyEvents(path: string): EventStream {
  return decodeNpyEvents(readBytes(path), path);
}

/** One structured array: [('x','<u2'), ('y','<u2'), ('t','<i8'), ('p','|u1')]. */
export function encodeNpyEvents(s: EventStream): Uint8Array {
  const n = checkStream(s, "encodeNpyEvents");
  return writeNpyRecords(
    [
      { name: "x", dtype: "<u2", values: s.x },
      { name: "y", dtype: "<u2", values: s.y },
      { name: "t", dtype: "<i8", values: s.t },
      { name: "p", dtype: "|u1", values: s.p },
    ],
    [n],
  );
}

/** SpikingJelly-style archive: separate arrays t (int64), x, y (uint16), p (uint8), plus sensor_size. */
export function encodeNpzEvents(s: EventStream, compress = false): Uint8Array {
  checkStream(s, "encodeNpzEvents");
  return writeZip(
    [
      { name: "t.npy", data: writeNpy(s.t, [s.t.length], "<i8") },
      { name: "x.npy", data: writeNpy(s.x, [s.x.length], "<u2") },
      { name: "y.npy", data: writeNpy(s.y, [s.y.length], "<u2") },
      { name: "p.npy", data: writeNpy(s.p, [s.p.length], "|u1") },
      { name: "sensor_size.npy", data: writeNpy([s.width, s.height], [2], "<i8") },
    ],
    compress ? 8 : 0,
  );
}

export function writeNpyEvents(path: string, s: EventStream): void {
  writeFileAtomic(path, path.endsWith(".npz") ? encodeNpzEvents(s, true) : encodeNpyEvents(s));
}
