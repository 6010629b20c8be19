/**
 * NumPy .npy reader/writer, written from the NPY format specification (versions 1.0, 2.0, 3.0):
 * magic "\x93NUMPY", major, minor, header length (uint16 LE for v1, uint32 LE for v2/3), then an ASCII
 * Python-literal dict {'descr': '<f4', 'fortran_order': False, 'shape': (T, N, K), } padded with spaces
 * and a newline, then the raw C-order data.
 * Supported dtypes: float32/float64 (outputs), and integer/bool/float (labels), little or big endian.
 * Fortran order is rejected (re-save with np.ascontiguousarray).
 */
import { CutoffInputError } from "../errors.js";

export interface NpyArray {
  shape: number[];
  /** numpy descr, e.g. "<f4" */
  dtype: string;
  data: Float32Array | Float64Array | Int32Array | Uint8Array | number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

function parseHeader(h: string, source: string, field: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]+)['"]/.exec(h)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(h)?.[1];
  const shapeStr = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(h)?.[1];
  if (descr === undefined || fortran === undefined || shapeStr === undefined) {
    throw new CutoffInputError(source, field, "an NPY header dict with descr, fortran_order and shape", JSON.stringify(h.trim().slice(0, 60)));
  }
  const shape = shapeStr.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((s) => Number(s.replace(/L$/, "")));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new CutoffInputError(source, field, "integer dimensions in the NPY shape", shapeStr);
  return { descr, fortran: fortran === "True", shape };
}

/** Parse a .npy buffer. `field` names the array in error messages (e.g. "labels" or "outputs.npy"). */
export function parseNpy(buf: Uint8Array, source: string, field = "(array)"): NpyArray {
  for (let i = 0; i < 6; i++) {
    if (buf[i] !== MAGIC[i]) throw new CutoffInputError(source, field, "a NumPy .npy array (magic \\x93NUMPY)", "other bytes");
  }
  const major = buf[6];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let hlen: number, start: number;
  if (major === 1) { hlen = dv.getUint16(8, true); start = 10; }
  else if (major === 2 || major === 3) { hlen = dv.getUint32(8, true); start = 12; }
  else throw new CutoffInputError(source, field, "NPY format version 1, 2 or 3", `version ${major}`);
  if (start + hlen > buf.length) throw new CutoffInputError(source, field, "a complete NPY header", "a truncated file");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(buf.subarray(start, start + hlen));
  const { descr, fortran, shape } = parseHeader(header, source, field);
  const size = shape.reduce((a, b) => a * b, 1);
  if (fortran && shape.filter((d) => d > 1).length > 1) throw new CutoffInputError(source, field, "a C-order array (fortran_order False; use np.ascontiguousarray)", "fortran_order True");
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  if (!m) throw new CutoffInputError(source, field, "a float32/float64 or integer array", `dtype ${descr}`);
  const [, endian, kind, bytesStr] = m;
  const bytes = Number(bytesStr);
  const little = endian !== ">";
  const off = start + hlen;
  if (off + size * bytes > buf.length) throw new CutoffInputError(source, field, `${size * bytes} data bytes for shape (${shape.join(", ")}) ${descr}`, `${buf.length - off}`);
  const read = (i: number): number => {
    const p = off + i * bytes;
    if (kind === "f") {
      if (bytes === 4) return dv.getFloat32(p, little);
      if (bytes === 8) return dv.getFloat64(p, little);
    } else if (kind === "i") {
      if (bytes === 1) return dv.getInt8(p);
      if (bytes === 2) return dv.getInt16(p, little);
      if (bytes === 4) return dv.getInt32(p, little);
      if (bytes === 8) return Number(dv.getBigInt64(p, little));
    } else if (kind === "u" || kind === "b") {
      if (bytes === 1) return dv.getUint8(p);
      if (bytes === 2) return dv.getUint16(p, little);
      if (bytes === 4) return dv.getUint32(p, little);
      if (bytes === 8) return Number(dv.getBigUint64(p, little));
    }
    throw new CutoffInputError(source, field, "a float32/float64 or integer array", `dtype ${descr}`);
  };
  let data: Float32Array | Float64Array | Int32Array | number[];
  if (kind === "f" && bytes === 4) data = new Float32Array(size);
  else if (kind === "f" && bytes === 8) data = new Float64Array(size);
  else if (kind === "f") throw new CutoffInputError(source, field, "float32 or float64 values", `dtype ${descr}`);
  else data = new Array<number>(size);
  if (kind === "f" && little && (off + buf.byteOffset) % bytes === 0) {
    const src = bytes === 4 ? new Float32Array(buf.buffer as ArrayBuffer, buf.byteOffset + off, size) : new Float64Array(buf.buffer as ArrayBuffer, buf.byteOffset + off, size);
    (data as Float32Array | Float64Array).set(src);
  } else {
    for (let i = 0; i < size; i++) data[i] = read(i);
  }
  return { shape, dtype: descr, data };
}

/** Serialise a float32/float64/int32/int64 C-order array as .npy v1.0 (used by tests and exporters). */
export function writeNpy(data: Float32Array | Float64Array | Int32Array | BigInt64Array | ArrayLike<number>, shape: readonly number[], dtype: "<f4" | "<f8" | "<i4" | "<i8" = "<f4"): Uint8Array {
  const bytes = dtype === "<f4" || dtype === "<i4" ? 4 : 8;
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(10 + header.length + size * bytes);
  out.set(MAGIC, 0);
  out[6] = 1; out[7] = 0;
  const dv = new DataView(out.buffer);
  dv.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const off = 10 + header.length;
  for (let i = 0; i < size; i++) {
    const v = (data as ArrayLike<number | bigint>)[i];
    const p = off + i * bytes;
    if (dtype === "<f4") dv.setFloat32(p, Number(v), true);
    else if (dtype === "<f8") dv.setFloat64(p, Number(v), true);
    else if (dtype === "<i4") dv.setInt32(p, Number(v), true);
    else dv.setBigInt64(p, BigInt(v), true);
  }
  return out;
}
