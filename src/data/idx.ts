/**
 * IDX files (MNIST, Fashion-MNIST), plain or gzipped. Format (LeCun): two zero bytes, a type code byte
 * (0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double), a byte with the number of
 * dimensions, then each dimension as a big-endian uint32, then the data in row-major order, big-endian.
 */
import { gzipSync } from "node:zlib";
import { DataFormatError } from "./errors.js";
import { dataView, readMaybeGzip, writeFileAtomic, isGzip } from "./fsutil.js";
import { gunzipSync } from "node:zlib";

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  typeCode: number;
  shape: number[];
  data: IdxData;
}

const TYPE_SIZES: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };

/** Decodes IDX bytes (gzip is detected and undone). `name` is used in error messages. */
export function decodeIdx(input: Uint8Array, name = "<idx>"): IdxArray {
  let bytes = input;
  if (isGzip(bytes)) {
    try {
      const u = gunzipSync(bytes);
      bytes = new Uint8Array(u.buffer, u.byteOffset, u.length);
    } catch (e) {
      throw new DataFormatError(name, `gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4) throw new DataFormatError(name, `too short for an IDX header (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataFormatError(name, `wrong magic number 0x${hex(bytes, 0, 4)}: an IDX file starts with two zero bytes`);
  }
  const typeCode = bytes[2]!;
  const size = TYPE_SIZES[typeCode];
  if (size === undefined) throw new DataFormatError(name, `unknown IDX type code 0x${typeCode.toString(16)}`);
  const ndim = bytes[3]!;
  if (ndim === 0) throw new DataFormatError(name, "IDX header declares 0 dimensions");
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < headerLen) throw new DataFormatError(name, `truncated IDX header (${ndim} dimensions need ${headerLen} bytes, file has ${bytes.length})`);
  const dv = dataView(bytes);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(dv.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const need = headerLen + count * size;
  if (bytes.length < need) {
    throw new DataFormatError(name, `truncated: header declares shape [${shape.join(", ")}] (${need} bytes) but the file has ${bytes.length} bytes`);
  }
  if (bytes.length > need) {
    throw new DataFormatError(name, `inconsistent: ${bytes.length - need} bytes after the declared shape [${shape.join(", ")}]`);
  }
  let data: IdxData;
  switch (typeCode) {
    case 0x08:
      data = bytes.slice(headerLen, need);
      break;
    case 0x09:
      data = new Int8Array(bytes.slice(headerLen, need).buffer);
      break;
    case 0x0b: {
      const a = new Int16Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getInt16(headerLen + 2 * i, false);
      data = a;
      break;
    }
    case 0x0c: {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getInt32(headerLen + 4 * i, false);
      data = a;
      break;
    }
    case 0x0d: {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getFloat32(headerLen + 4 * i, false);
      data = a;
      break;
    }
    default: {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = dv.getFloat64(headerLen + 8 * i, false);
      data = a;
    }
  }
  return { typeCode, shape, data };
}

export function readIdx(path: string): IdxArray {
  return decodeIdx(readMaybeGzip(path), path);
}

function typeCodeOf(data: IdxData): number {
  if (data instanceof Uint8Array) return 0x08;
  if (data instanceof Int8Array) return 0x09;
  if (data instanceof Int16Array) return 0x0b;
  if (data instanceof Int32Array) return 0x0c;
  if (data instanceof Float32Array) return 0x0d;
  return 0x0e;
}

/** Encodes an array as IDX (big-endian). */
export function encodeIdx(data: IdxData, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeIdx: shape [${shape.join(", ")}] holds ${count} values, data has ${data.length}`);
  const typeCode = typeCodeOf(data);
  const size = TYPE_SIZES[typeCode]!;
  const headerLen = 4 + 4 * shape.length;
  const out = new Uint8Array(headerLen + count * size);
  const dv = dataView(out);
  out[2] = typeCode;
  out[3] = shape.length;
  shape.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  if (size === 1) out.set(new Uint8Array(data.buffer, data.byteOffset, data.length), headerLen);
  else {
    for (let i = 0; i < count; i++) {
      const v = data[i]!;
      const o = headerLen + i * size;
      if (typeCode === 0x0b) dv.setInt16(o, v, false);
      else if (typeCode === 0x0c) dv.setInt32(o, v, false);
      else if (typeCode === 0x0d) dv.setFloat32(o, v, false);
      else dv.setFloat64(o, v, false);
    }
  }
  return out;
}

/** Writes an IDX file atomically; gzipped when the path ends in `.gz`. */
export function writeIdx(path: string, data: IdxData, shape: readonly number[]): void {
  const raw = encodeIdx(data, shape);
  writeFileAtomic(path, path.endsWith(".gz") ? gzipSync(raw, { level: 9 }) : raw);
}

function hex(b: Uint8Array, start: number, n: number): string {
  let s = "";
  for (let i = start; i < Math.min(b.length, start + n); i++) s += b[i]!.toString(16).padStart(2, "0");
  return s;
}
