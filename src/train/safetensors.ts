/**
 * safetensors reader/writer, written from the format description (huggingface/safetensors README):
 *
 *   [8 bytes]  N = header length, unsigned 64-bit little-endian
 *   [N bytes]  JSON header (UTF-8), an object: tensor name -> { dtype, shape, data_offsets: [begin, end] }
 *              plus an optional "__metadata__": { string: string }. May be padded with trailing spaces.
 *   [rest]     the byte buffer; offsets are relative to its start, little-endian, row-major.
 *              The buffer must be entirely indexed by the tensors, without holes or overlaps.
 *
 * Every read error is a SafetensorsError naming the file (when known) and the offending tensor.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export type Dtype = "F64" | "F32" | "I64" | "I32" | "I16" | "I8" | "U8" | "U16" | "U32" | "BOOL";

export type TypedArray =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

const DTYPE_SIZE: Record<Dtype, number> = { F64: 8, F32: 4, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U16: 2, U32: 4, BOOL: 1 };

/** Header-size cap (the reference implementation refuses headers over 100 MB). */
const MAX_HEADER = 100_000_000;

export interface StTensor {
  dtype: Dtype;
  shape: number[];
  data: TypedArray;
}

export interface StFile {
  tensors: Map<string, StTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

function dtypeOf(data: TypedArray): Dtype {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Float64Array) return "F64";
  if (data instanceof BigInt64Array) return "I64";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof Int16Array) return "I16";
  if (data instanceof Int8Array) return "I8";
  if (data instanceof Uint8Array) return "U8";
  if (data instanceof Uint16Array) return "U16";
  if (data instanceof Uint32Array) return "U32";
  throw new SafetensorsError("safetensors: unsupported array type");
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Serialises tensors and string metadata into one safetensors byte buffer. Tensors are laid out in name order. */
export function encodeSafetensors(
  tensors: Map<string, { data: TypedArray; shape: readonly number[]; dtype?: Dtype }> | Record<string, { data: TypedArray; shape: readonly number[]; dtype?: Dtype }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") throw new SafetensorsError(`safetensors: metadata value for "${k}" must be a string`);
  }
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new SafetensorsError(`safetensors: "__metadata__" is reserved and cannot name a tensor`);
    const dtype = t.dtype ?? dtypeOf(t.data);
    if (dtype === "BOOL" && !(t.data instanceof Uint8Array)) throw new SafetensorsError(`safetensors: tensor "${name}": BOOL data must be a Uint8Array`);
    if (dtype !== "BOOL" && dtypeOf(t.data) !== dtype) {
      throw new SafetensorsError(`safetensors: tensor "${name}": dtype ${dtype} does not match its ${t.data.constructor.name}`);
    }
    for (const d of t.shape) {
      if (!Number.isInteger(d) || d < 0) throw new SafetensorsError(`safetensors: tensor "${name}" has an invalid shape [${t.shape.join(", ")}]`);
    }
    if (numel(t.shape) !== t.data.length) {
      throw new SafetensorsError(`safetensors: tensor "${name}": shape [${t.shape.join(", ")}] needs ${numel(t.shape)} elements, data has ${t.data.length}`);
    }
    const nbytes = t.data.byteLength;
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hbytes = enc.encode(json);
  // pad with spaces so the data buffer starts 8-byte aligned (as the reference writer does)
  const pad = (8 - (hbytes.length % 8)) % 8;
  if (pad) {
    json += " ".repeat(pad);
    hbytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + hbytes.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let pos = 8 + hbytes.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  if (!littleEndianHost()) throw new SafetensorsError("safetensors: big-endian hosts are not supported");
  return out;
}

function littleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function makeArray(dtype: Dtype, bytes: Uint8Array): TypedArray {
  // copy into a fresh, aligned buffer (Buffer#slice would share the pool, so copy explicitly)
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const buf = copy.buffer;
  switch (dtype) {
    case "F64": return new Float64Array(buf);
    case "F32": return new Float32Array(buf);
    case "I64": return new BigInt64Array(buf);
    case "I32": return new Int32Array(buf);
    case "I16": return new Int16Array(buf);
    case "I8": return new Int8Array(buf);
    case "U8":
    case "BOOL": return new Uint8Array(buf);
    case "U16": return new Uint16Array(buf);
    case "U32": return new Uint32Array(buf);
  }
}

/** Parses a safetensors byte buffer, validating the header completely before touching data. */
export function decodeSafetensors(bytes: Uint8Array, file = "<buffer>"): StFile {
  const where = `safetensors file ${file}`;
  if (bytes.length < 8) throw new SafetensorsError(`${where}: truncated (${bytes.length} bytes, the 8-byte header length is missing)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) throw new SafetensorsError(`${where}: header length ${n64} is larger than the ${MAX_HEADER}-byte limit (not a safetensors file?)`);
  const n = Number(n64);
  if (8 + n > bytes.length) {
    throw new SafetensorsError(`${where}: truncated: header says ${n} header bytes but the file has only ${bytes.length - 8} after the length`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError(`${where}: header is not valid UTF-8`);
  }
  if (!text.startsWith("{")) throw new SafetensorsError(`${where}: bad header: it must be a JSON object starting with '{'`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`${where}: bad header: invalid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError(`${where}: bad header: not a JSON object`);
  }
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, StTensor>();
  const pending: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new SafetensorsError(`${where}: bad header: __metadata__ must be an object of strings`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") throw new SafetensorsError(`${where}: bad header: __metadata__["${k}"] is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const tw = `${where}: tensor "${name}"`;
    if (typeof raw !== "object" || raw === null) throw new SafetensorsError(`${tw}: entry is not an object`);
    const e = raw as Record<string, unknown>;
    const dtype = e.dtype;
    if (typeof dtype !== "string" || !(dtype in DTYPE_SIZE)) {
      throw new SafetensorsError(`${tw}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(", ")})`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new SafetensorsError(`${tw}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new SafetensorsError(`${tw}: data_offsets ${JSON.stringify(off)} must be [begin, end] non-negative integers`);
    }
    const [begin, end] = off as [number, number];
    if (end < begin) throw new SafetensorsError(`${tw}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) {
      throw new SafetensorsError(`${tw}: data_offsets [${begin}, ${end}] are out of range: the data buffer has ${dataLen} bytes (truncated file?)`);
    }
    const want = numel(shape as number[]) * DTYPE_SIZE[dtype as Dtype];
    if (end - begin !== want) {
      throw new SafetensorsError(`${tw}: dtype ${dtype} and shape [${(shape as number[]).join(", ")}] need ${want} bytes, data_offsets give ${end - begin}`);
    }
    spans.push({ name, begin, end });
    pending.push({ name, dtype: dtype as Dtype, shape: shape as number[], begin, end });
  }
  // the buffer must be covered exactly: no holes, no overlaps
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of spans) {
    if (s.begin < cursor) throw new SafetensorsError(`${where}: tensor "${s.name}" overlaps the previous tensor (data_offsets [${s.begin}, ${s.end}])`);
    if (s.begin > cursor) throw new SafetensorsError(`${where}: hole in the data buffer before tensor "${s.name}" (bytes ${cursor}..${s.begin} unused)`);
    cursor = s.end;
  }
  if (cursor !== dataLen) {
    throw new SafetensorsError(`${where}: the data buffer has ${dataLen} bytes but the tensors index only ${cursor} (trailing bytes)`);
  }
  for (const p of pending) {
    tensors.set(p.name, { dtype: p.dtype, shape: p.shape, data: makeArray(p.dtype, bytes.subarray(dataStart + p.begin, dataStart + p.end)) });
  }
  return { tensors, metadata };
}

/** Writes a file atomically: temp file in the same directory, fsync, rename over the target. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* ignore */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function saveSafetensors(
  path: string,
  tensors: Map<string, { data: TypedArray; shape: readonly number[]; dtype?: Dtype }> | Record<string, { data: TypedArray; shape: readonly number[]; dtype?: Dtype }>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function loadSafetensors(path: string): StFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SafetensorsError(code === "ENOENT" ? `safetensors file ${path}: not found` : `safetensors file ${path}: cannot read (${(e as Error).message})`);
  }
  return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}
