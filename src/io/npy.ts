/**
 * NumPy .npy reader/writer, written from the NPY format specification (numpy.lib.format, versions 1.0,
 * 2.0, 3.0): magic "\x93NUMPY", major, minor, header length (uint16 LE for v1, uint32 LE for v2/3), then a
 * Python-literal dict {'descr': '<f4', 'fortran_order': False, 'shape': (T, N, K), } (ASCII; UTF-8 in v3)
 * padded with spaces and a newline, then the raw C-order data.
 *
 * dtypes: bool, int, uint (1/2/4/8 bytes) and float32/float64, little or big endian; either one plain
 * scalar dtype (`readNpyArray`, `readNpyFields` with field "") or a structured dtype of such scalars,
 * e.g. [('x', '<u2'), ('t', '<i8')] (`readNpyFields`). Fortran order is accepted only when it is
 * indistinguishable from C order (at most one dimension > 1); otherwise re-save with np.ascontiguousarray.
 * Errors are BinaryFormatError (see ./errors.ts).
 */
import { BinaryFormatError } from "./errors.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const TWO32 = 4294967296;

/** A numpy scalar descr, as the writers accept it. */
export type NpyDescr = `${"<" | ">" | "|"}${"b" | "i" | "u" | "f"}${1 | 2 | 4 | 8}`;

export interface NpyScalarType {
  kind: "b" | "i" | "u" | "f";
  size: number;
  little: boolean;
}

export interface NpyFieldLayout {
  /** "" for a plain (non-structured) array. */
  name: string;
  type: NpyScalarType;
  /** Byte offset within one item. */
  offset: number;
}

export interface NpyHeader {
  version: number;
  shape: number[];
  /** The descr as written (plain), or a Python rendering of the field list (structured). */
  descr: string;
  structured: boolean;
  fields: NpyFieldLayout[];
  itemsize: number;
  /** Number of items (product of the shape). */
  count: number;
  /** Byte offset of the data. */
  dataOffset: number;
}

/** A plain numeric array. Floats come back as Float32Array/Float64Array, integers and bools as number[]. */
export interface NpyArray {
  shape: number[];
  /** numpy descr, e.g. "<f4" */
  dtype: string;
  data: Float32Array | Float64Array | Int32Array | Uint8Array | number[];
}

/** Any array as one Float64Array per field: structured arrays by field name, plain arrays under "". */
export interface NpyFields {
  shape: number[];
  fields: Record<string, Float64Array>;
}

export type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

/** Parses the subset of Python literals NumPy writes in headers (dicts, lists, tuples, strings, ints, True/False/None). */
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
  return value();
}

const SIZES: Record<string, number[]> = { b: [1], i: [1, 2, 4, 8], u: [1, 2, 4, 8], f: [4, 8] };

/** Parse a scalar descr such as "<f4", "|u1", ">i8" or "f8" (no endian char = native = little here). */
export function parseScalarDescr(descr: string): NpyScalarType {
  const m = /^([<>|=]?)([biuf])(\d+)$/.exec(descr);
  const kind = m?.[2] as NpyScalarType["kind"] | undefined;
  const size = Number(m?.[3]);
  if (!m || !SIZES[kind!]!.includes(size)) {
    throw new BinaryFormatError(
      `unsupported dtype "${descr}" (expected bool, int, uint or float)`,
      kind === "f" ? "float32 or float64 values" : "a float32/float64 or integer array",
      `dtype ${descr}`,
    );
  }
  return { kind: kind!, size, little: m[1] !== ">" };
}

/** Read one scalar. 8-byte integers become the nearest double (exact below 2^53). */
export function readNpyScalar(dv: DataView, o: number, t: NpyScalarType): number {
  const le = t.little;
  switch (t.kind + t.size) {
    case "b1":
    case "u1": return dv.getUint8(o);
    case "i1": return dv.getInt8(o);
    case "u2": return dv.getUint16(o, le);
    case "i2": return dv.getInt16(o, le);
    case "u4": return dv.getUint32(o, le);
    case "i4": return dv.getInt32(o, le);
    case "u8": return le ? dv.getUint32(o, true) + dv.getUint32(o + 4, true) * TWO32 : dv.getUint32(o + 4, false) + dv.getUint32(o, false) * TWO32;
    case "i8": return le ? dv.getUint32(o, true) + dv.getInt32(o + 4, true) * TWO32 : dv.getUint32(o + 4, false) + dv.getInt32(o, false) * TWO32;
    case "f4": return dv.getFloat32(o, le);
    case "f8": return dv.getFloat64(o, le);
  }
  throw new BinaryFormatError(`unsupported scalar ${t.kind}${t.size}`, "a float32/float64 or integer array", `dtype ${t.kind}${t.size}`);
}

/** Write one scalar; numbers are rounded for 8-byte integers, bigints are written exactly. */
export function writeNpyScalar(dv: DataView, o: number, t: NpyScalarType, v: number | bigint): void {
  const le = t.little;
  if (t.size === 8 && t.kind !== "f") {
    if (typeof v === "bigint") {
      if (t.kind === "u") dv.setBigUint64(o, v, le);
      else dv.setBigInt64(o, v, le);
      return;
    }
    const r = Math.round(v);
    const hi = Math.floor(r / TWO32);
    const lo = r - hi * TWO32;
    dv.setUint32(le ? o : o + 4, lo, le);
    if (t.kind === "u") dv.setUint32(le ? o + 4 : o, hi, le);
    else dv.setInt32(le ? o + 4 : o, hi, le);
    return;
  }
  const n = Number(v);
  switch (t.kind + t.size) {
    case "b1":
    case "u1": return dv.setUint8(o, n);
    case "i1": return dv.setInt8(o, n);
    case "u2": return dv.setUint16(o, n, le);
    case "i2": return dv.setInt16(o, n, le);
    case "u4": return dv.setUint32(o, n, le);
    case "i4": return dv.setInt32(o, n, le);
    case "f4": return dv.setFloat32(o, n, le);
    case "f8": return dv.setFloat64(o, n, le);
  }
  throw new BinaryFormatError(`unsupported scalar ${t.kind}${t.size}`, "a float32/float64 or integer array", `dtype ${t.kind}${t.size}`);
}

/** Parse and validate the magic, version and header dict; lay out the dtype. Does not touch the data. */
export function readNpyHeader(bytes: Uint8Array): NpyHeader {
  for (let i = 0; i < 6; i++) {
    if (bytes[i] !== MAGIC[i]) throw new BinaryFormatError("wrong magic: a .npy file starts with \\x93NUMPY", "a NumPy .npy array (magic \\x93NUMPY)", "other bytes");
  }
  const version = bytes[6]!;
  if (version !== 1 && version !== 2 && version !== 3) {
    throw new BinaryFormatError(`unsupported .npy format version ${version}`, "NPY format version 1, 2 or 3", `version ${version}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hstart = version === 1 ? 10 : 12;
  const truncated = (detail: string) => new BinaryFormatError(detail, "a complete NPY header", "a truncated file");
  if (bytes.length < hstart) throw truncated("truncated header: no header length");
  const hl = version === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (hstart + hl > bytes.length) throw truncated(`truncated header: declares ${hl} bytes`);
  const text = new TextDecoder(version === 3 ? "utf-8" : "latin1").decode(bytes.subarray(hstart, hstart + hl));
  const badHeader = (detail: string) => new BinaryFormatError(detail, "an NPY header dict with descr, fortran_order and shape", JSON.stringify(text.trim().slice(0, 60)));
  let header: PyValue;
  try {
    header = parsePyLiteral(text);
  } catch (e) {
    throw badHeader(`unreadable header (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw badHeader("header is not a dict");
  const { descr, shape, fortran_order: fortran } = header;
  if (!Array.isArray(shape)) throw badHeader("header has no shape tuple");
  if (typeof fortran !== "boolean") throw badHeader("header has no fortran_order");
  if (shape.some((d) => typeof d !== "number" || !Number.isInteger(d) || d < 0)) {
    const s = shape.map((d) => String(d)).join(", ");
    throw new BinaryFormatError(`header shape (${s}) is not a tuple of non-negative integers`, "integer dimensions in the NPY shape", s);
  }
  const dims = shape as number[];
  if (fortran && dims.filter((d) => d > 1).length > 1) {
    throw new BinaryFormatError("Fortran-ordered arrays are not supported", "a C-order array (fortran_order False; use np.ascontiguousarray)", "fortran_order True");
  }
  const fields: NpyFieldLayout[] = [];
  let itemsize = 0;
  let rendered: string;
  if (typeof descr === "string") {
    const type = parseScalarDescr(descr);
    fields.push({ name: "", type, offset: 0 });
    itemsize = type.size;
    rendered = descr;
  } else if (Array.isArray(descr)) {
    for (const f of descr) {
      if (!Array.isArray(f) || f.length < 2 || typeof f[0] !== "string" || typeof f[1] !== "string") {
        throw new BinaryFormatError(`unsupported structured dtype field ${JSON.stringify(f)}`, "a float32/float64 or integer array", `dtype field ${JSON.stringify(f)}`);
      }
      if (f.length > 2) throw new BinaryFormatError(`field ${f[0]} has a sub-array shape, which is not supported`, "a float32/float64 or integer array", `sub-array field ${f[0]}`);
      const type = parseScalarDescr(f[1]);
      fields.push({ name: f[0], type, offset: itemsize });
      itemsize += type.size;
    }
    rendered = `[${(descr as string[][]).map((f) => `('${f[0]}', '${f[1]}')`).join(", ")}]`;
  } else throw badHeader("header has no descr");
  const count = dims.reduce((a, b) => a * b, 1);
  return { version, shape: dims, descr: rendered, structured: typeof descr !== "string", fields, itemsize, count, dataOffset: hstart + hl };
}

function checkDataLength(bytes: Uint8Array, h: NpyHeader): void {
  const need = h.count * h.itemsize;
  const present = bytes.length - h.dataOffset;
  if (present < need) {
    const shape = h.shape.join(", ");
    throw new BinaryFormatError(`truncated data: shape (${shape}) needs ${need} bytes, ${present} present`, `${need} data bytes for shape (${shape}) ${h.descr}`, `${present}`);
  }
}

/** Parse a plain (non-structured) numeric .npy array. */
export function readNpyArray(bytes: Uint8Array): NpyArray {
  const h = readNpyHeader(bytes);
  if (h.structured) throw new BinaryFormatError(`expected a plain numeric array, got the structured dtype ${h.descr}`, "a float32/float64 or integer array", `dtype ${h.descr}`);
  checkDataLength(bytes, h);
  const t = h.fields[0]!.type;
  const { count: size, dataOffset: off } = h;
  let data: Float32Array | Float64Array | number[];
  if (t.kind === "f") {
    data = t.size === 4 ? new Float32Array(size) : new Float64Array(size);
    if (t.little && (off + bytes.byteOffset) % t.size === 0) {
      const buf = bytes.buffer as ArrayBuffer;
      data.set(t.size === 4 ? new Float32Array(buf, bytes.byteOffset + off, size) : new Float64Array(buf, bytes.byteOffset + off, size));
      return { shape: h.shape, dtype: h.descr, data };
    }
  } else data = new Array<number>(size);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < size; i++) data[i] = readNpyScalar(dv, off + i * t.size, t);
  return { shape: h.shape, dtype: h.descr, data };
}

/** Parse any supported .npy array into one Float64Array per field (plain arrays: field ""). */
export function readNpyFields(bytes: Uint8Array): NpyFields {
  const h = readNpyHeader(bytes);
  checkDataLength(bytes, h);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: Record<string, Float64Array> = {};
  for (const f of h.fields) {
    const a = new Float64Array(h.count);
    for (let i = 0, o = h.dataOffset + f.offset; i < h.count; i++, o += h.itemsize) a[i] = readNpyScalar(dv, o, f.type);
    fields[f.name] = a;
  }
  return { shape: h.shape, fields };
}

/** A v1.0 header (magic … newline) for a C-order array, padded so the data starts on a 64-byte boundary. */
export function npyHeader(descr: NpyDescr | readonly { name: string; dtype: NpyDescr }[], shape: readonly number[]): Uint8Array {
  const d = typeof descr === "string" ? `'${descr}'` : `[${descr.map((f) => `('${f.name}', '${f.dtype}')`).join(", ")}]`;
  let h = `{'descr': ${d}, 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  h += " ".repeat((64 - ((10 + h.length + 1) % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + h.length);
  out.set([...MAGIC, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, h.length, true);
  for (let i = 0; i < h.length; i++) out[10 + i] = h.charCodeAt(i);
  return out;
}

/** Serialise a plain C-order array as .npy v1.0. */
export function writeNpy(data: ArrayLike<number | bigint>, shape: readonly number[], dtype: NpyDescr = "<f4"): Uint8Array {
  return writeNpyRecords([{ name: "", dtype, values: data }], shape);
}

/**
 * Serialise a structured array (one record per item, fields packed in order) as .npy v1.0.
 * A single field named "" writes a plain array instead.
 */
export function writeNpyRecords(fields: readonly { name: string; dtype: NpyDescr; values: ArrayLike<number | bigint> }[], shape: readonly number[]): Uint8Array {
  const plain = fields.length === 1 && fields[0]!.name === "";
  const head = npyHeader(plain ? fields[0]!.dtype : fields, shape);
  const types = fields.map((f) => parseScalarDescr(f.dtype));
  const itemsize = types.reduce((a, t) => a + t.size, 0);
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(head.length + count * itemsize);
  out.set(head, 0);
  const dv = new DataView(out.buffer);
  let offset = head.length;
  fields.forEach((f, k) => {
    const t = types[k]!;
    for (let i = 0, o = offset; i < count; i++, o += itemsize) writeNpyScalar(dv, o, t, f.values[i]!);
    offset += t.size;
  });
  return out;
}
