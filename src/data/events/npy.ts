/**
 * NumPy `.npy` / `.npz` event arrays (format spec: numpy.lib.format). A `.npy` file: magic `\x93NUMPY`,
 * version (1.0: uint16 header length; 2.0/3.0: uint32), an ASCII (3.0: UTF-8) Python dict literal
 * {'descr', 'fortran_order', 'shape'}, padding, then the raw array. Events are either one structured
 * array with fields x, y, t, p (tonic; aliases ts/timestamp, pol/polarity) or, in an `.npz`, separate
 * 1-D arrays x, y, t, p (SpikingJelly). Timestamps are µs.
 */
import { DataFormatError } from "../errors.js";
import { dataView, readBytes, writeFileAtomic } from "../fsutil.js";
import { readZip, writeZip } from "./zip.js";
import { checkStream, type EventStream } from "./types.js";

type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

/** Parses the subset of Python literals NumPy writes in headers. */
export function parsePyLiteral(src: string): PyValue {
  let i = 0;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const fail = (m: string): never => {
    throw new Error(`${m} at character ${i} of header ${JSON.stringify(src.slice(0, 120))}`);
  };
  const value = (): PyValue => {
    ws();
    const c = src[i];
    if (c === "{") {
      i++;
      const o: Record<string, PyValue> = {};
      for (;;) {
        ws();
        if (src[i] === "}") return i++, o;
        const k = value();
        if (typeof k !== "string") fail("dict key is not a string");
        ws();
        if (src[i++] !== ":") fail("expected ':'");
        o[k as string] = value();
        ws();
        if (src[i] === ",") i++;
      }
    }
    if (c === "[" || c === "(") {
      const close = c === "[" ? "]" : ")";
      i++;
      const a: PyValue[] = [];
      for (;;) {
        ws();
        if (src[i] === close) return i++, a;
        a.push(value());
        ws();
        if (src[i] === ",") i++;
        else if (src[i] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (c === "'" || c === '"') {
      const e = src.indexOf(c, i + 1);
      if (e < 0) fail("unterminated string");
      const s = src.slice(i + 1, e);
      i = e + 1;
      return s;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(src.slice(i));
    if (!m) fail("unexpected token");
    i += m![0].length;
    if (m![0] === "True") return true;
    if (m![0] === "False") return false;
    if (m![0] === "None") return null;
    return parseInt(m![0], 10);
  };
  const v = value();
  return v;
}

interface Dtype {
  kind: string;
  size: number;
  little: boolean;
}

function parseDtype(s: string, file: string): Dtype {
  const m = /^([<>|=]?)([biuf])(\d+)$/.exec(s);
  if (!m) throw new DataFormatError(file, `unsupported dtype "${s}" (expected bool, int, uint or float)`);
  return { kind: m[2]!, size: Number(m[3]), little: m[1] !== ">" };
}

export interface NpyArray {
  shape: number[];
  /** Structured: one Float64Array per field; plain: a single field named "". */
  fields: Record<string, Float64Array>;
}

function readScalar(dv: DataView, o: number, d: Dtype): number {
  switch (d.kind + d.size) {
    case "b1":
    case "u1":
      return dv.getUint8(o);
    case "i1":
      return dv.getInt8(o);
    case "u2":
      return dv.getUint16(o, d.little);
    case "i2":
      return dv.getInt16(o, d.little);
    case "u4":
      return dv.getUint32(o, d.little);
    case "i4":
      return dv.getInt32(o, d.little);
    case "u8":
      return d.little ? dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 4294967296 : dv.getUint32(o + 4, false) + dv.getUint32(o, false) * 4294967296;
    case "i8":
      return d.little ? dv.getUint32(o, true) + dv.getInt32(o + 4, true) * 4294967296 : dv.getUint32(o + 4, false) + dv.getInt32(o, false) * 4294967296;
    case "f4":
      return dv.getFloat32(o, d.little);
    case "f8":
      return dv.getFloat64(o, d.little);
    default:
      throw new Error(`unsupported scalar ${d.kind}${d.size}`);
  }
}

export function decodeNpy(bytes: Uint8Array, file = "<npy>"): NpyArray {
  if (bytes.length < 10 || bytes[0] !== 0x93 || Buffer.from(bytes.subarray(1, 6)).toString("latin1") !== "NUMPY") {
    throw new DataFormatError(file, "wrong magic: a .npy file starts with \\x93NUMPY");
  }
  const major = bytes[6]!;
  const dv = dataView(bytes);
  const hl = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  if (hstart + hl > bytes.length) throw new DataFormatError(file, `truncated header: declares ${hl} bytes`);
  const htext = Buffer.from(bytes.subarray(hstart, hstart + hl)).toString(major >= 3 ? "utf8" : "latin1");
  let header: PyValue;
  try {
    header = parsePyLiteral(htext);
  } catch (e) {
    throw new DataFormatError(file, `unreadable header (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new DataFormatError(file, "header is not a dict");
  const descr = header.descr;
  const shape = header.shape;
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== "number")) throw new DataFormatError(file, "header has no shape tuple");
  if (header.fortran_order === true && shape.length > 1) throw new DataFormatError(file, "Fortran-ordered arrays are not supported");
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const fieldDefs: { name: string; dt: Dtype; offset: number }[] = [];
  let itemsize = 0;
  if (typeof descr === "string") {
    const dt = parseDtype(descr, file);
    fieldDefs.push({ name: "", dt, offset: 0 });
    itemsize = dt.size;
  } else if (Array.isArray(descr)) {
    for (const f of descr) {
      if (!Array.isArray(f) || f.length < 2 || typeof f[0] !== "string" || typeof f[1] !== "string") {
        throw new DataFormatError(file, `unsupported structured dtype field ${JSON.stringify(f)}`);
      }
      if (f.length > 2) throw new DataFormatError(file, `field ${f[0]} has a sub-array shape, which is not supported`);
      const dt = parseDtype(f[1], file);
      fieldDefs.push({ name: f[0], dt, offset: itemsize });
      itemsize += dt.size;
    }
  } else throw new DataFormatError(file, "header has no descr");
  const dataStart = hstart + hl;
  const need = count * itemsize;
  if (bytes.length - dataStart < need) {
    throw new DataFormatError(file, `truncated data: shape (${(shape as number[]).join(", ")}) needs ${need} bytes, ${bytes.length - dataStart} present`);
  }
  const fields: Record<string, Float64Array> = {};
  for (const f of fieldDefs) {
    const a = new Float64Array(count);
    for (let i = 0; i < count; i++) a[i] = readScalar(dv, dataStart + i * itemsize + f.offset, f.dt);
    fields[f.name] = a;
  }
  return { shape: shape as number[], fields };
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

function npyHeader(descr: string, shape: number[]): Uint8Array {
  let h = `{'descr': ${descr}, 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const total = 10 + h.length + 1;
  h += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + h.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(Buffer.from(h, "latin1"), 10);
  return out;
}

/** One structured array: [('x','<u2'), ('y','<u2'), ('t','<i8'), ('p','u1')]. */
export function encodeNpyEvents(s: EventStream): Uint8Array {
  const n = checkStream(s, "encodeNpyEvents");
  const head = npyHeader("[('x', '<u2'), ('y', '<u2'), ('t', '<i8'), ('p', '|u1')]", [n]);
  const out = new Uint8Array(head.length + 13 * n);
  out.set(head, 0);
  const dv = dataView(out);
  for (let i = 0; i < n; i++) {
    const o = head.length + 13 * i;
    dv.setUint16(o, s.x[i]!, true);
    dv.setUint16(o + 2, s.y[i]!, true);
    const t = Math.round(s.t[i]!);
    const hi = Math.floor(t / 4294967296);
    dv.setUint32(o + 4, t - hi * 4294967296, true);
    dv.setInt32(o + 8, hi, true);
    dv.setUint8(o + 12, s.p[i]!);
  }
  return out;
}

function plainNpy(descr: string, values: ArrayLike<number>, size: number, put: (dv: DataView, o: number, v: number) => void): Uint8Array {
  const head = npyHeader(descr, [values.length]);
  const out = new Uint8Array(head.length + size * values.length);
  out.set(head, 0);
  const dv = dataView(out);
  for (let i = 0; i < values.length; i++) put(dv, head.length + size * i, values[i]!);
  return out;
}

/** SpikingJelly-style archive: separate arrays t (int64), x, y (uint16), p (uint8), plus sensor_size. */
export function encodeNpzEvents(s: EventStream, compress = false): Uint8Array {
  checkStream(s, "encodeNpzEvents");
  const i64 = (dv: DataView, o: number, v: number) => {
    const t = Math.round(v);
    const hi = Math.floor(t / 4294967296);
    dv.setUint32(o, t - hi * 4294967296, true);
    dv.setInt32(o + 4, hi, true);
  };
  return writeZip(
    [
      { name: "t.npy", data: plainNpy("'<i8'", s.t, 8, i64) },
      { name: "x.npy", data: plainNpy("'<u2'", s.x, 2, (dv, o, v) => dv.setUint16(o, v, true)) },
      { name: "y.npy", data: plainNpy("'<u2'", s.y, 2, (dv, o, v) => dv.setUint16(o, v, true)) },
      { name: "p.npy", data: plainNpy("'|u1'", s.p, 1, (dv, o, v) => dv.setUint8(o, v)) },
      { name: "sensor_size.npy", data: plainNpy("'<i8'", [s.width, s.height], 8, i64) },
    ],
    compress,
  );
}

export function writeNpyEvents(path: string, s: EventStream): void {
  writeFileAtomic(path, path.endsWith(".npz") ? encodeNpzEvents(s, true) : encodeNpyEvents(s));
}
