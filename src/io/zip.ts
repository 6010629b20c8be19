/**
 * Minimal ZIP reader/writer (for .npz), from the PKWARE APPNOTE: find the End Of Central Directory record
 * (signature 0x06054b50, searched backwards over the ≤ 64 KiB comment), follow the ZIP64 EOCD locator
 * when present, walk the central directory (0x02014b50) for names, methods, sizes and local-header offsets
 * (with ZIP64 extra fields, id 0x0001), then skip each local header (0x04034b50) to the data.
 * Methods: 0 (stored) and 8 (deflate, via node:zlib inflateRawSync). Sizes and CRC-32 are verified.
 * The writer (stored or deflate, no ZIP64) is used by tests and exporters.
 * Errors are BinaryFormatError (see ./errors.ts).
 */
import { crc32 as zlibCrc32, deflateRawSync, inflateRawSync } from "node:zlib";
import { BinaryFormatError } from "./errors.js";

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localOffset: number;
}

export interface ZipMember {
  name: string;
  data: Uint8Array;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE). Uses zlib.crc32 when the Node version has it. */
export function crc32(data: Uint8Array): number {
  if (typeof zlibCrc32 === "function") return zlibCrc32(data) >>> 0;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** List the entries of a zip archive. */
export function readZipEntries(buf: Uint8Array): ZipEntry[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (detail: string, got: string): never => {
    throw new BinaryFormatError(detail, "a valid zip archive", got);
  };
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) bad("no ZIP end-of-central-directory record (truncated or not a zip)", "no end-of-central-directory record");
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOff = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOff === 0xffffffff || cdSize === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== 0x07064b50) bad("ZIP64 locator missing", "a ZIP64 archive without its locator");
    const z64 = Number(dv.getBigUint64(loc + 8, true));
    if (z64 + 56 > buf.length || dv.getUint32(z64, true) !== 0x06064b50) bad("broken ZIP64 end record", "a broken ZIP64 end record");
    count = Number(dv.getBigUint64(z64 + 32, true));
    cdSize = Number(dv.getBigUint64(z64 + 40, true));
    cdOff = Number(dv.getBigUint64(z64 + 48, true));
  }
  if (cdOff + cdSize > buf.length) bad("ZIP central directory runs past the end of the file", "a central directory past the end of the file");
  const entries: ZipEntry[] = [];
  let p = cdOff;
  for (let e = 0; e < count; e++) {
    if (p + 46 > buf.length || dv.getUint32(p, true) !== 0x02014b50) bad(`corrupt ZIP central directory at byte ${p}`, `a broken central directory entry ${e}`);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localOffset = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(buf.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: the 0xFFFFFFFF fields follow in order size, compressed size, offset
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = dv.getUint16(x, true), len = dv.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        if (size === 0xffffffff) { size = Number(dv.getBigUint64(q, true)); q += 8; }
        if (compressedSize === 0xffffffff) { compressedSize = Number(dv.getBigUint64(q, true)); q += 8; }
        if (localOffset === 0xffffffff) { localOffset = Number(dv.getBigUint64(q, true)); q += 8; }
      }
      x += 4 + len;
    }
    entries.push({ name, method, compressedSize, size, crc, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Extract one entry's bytes (stored or deflate), checking size and CRC. */
export function readZipEntry(buf: Uint8Array, entry: ZipEntry): Uint8Array {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const { name } = entry;
  const bad = (detail: string, expected: string, got: string): never => {
    throw new BinaryFormatError(detail, expected, got, name);
  };
  const p = entry.localOffset;
  if (p + 30 > buf.length || dv.getUint32(p, true) !== 0x04034b50) bad(`corrupt ZIP local header for ${name}`, "a zip local file header", "a broken archive");
  const start = p + 30 + dv.getUint16(p + 26, true) + dv.getUint16(p + 28, true);
  if (start + entry.compressedSize > buf.length) bad(`ZIP member ${name} is truncated`, `${entry.compressedSize} bytes of member data`, `${Math.max(0, buf.length - start)}`);
  const raw = buf.subarray(start, start + entry.compressedSize);
  let data: Uint8Array = raw;
  if (entry.method === 8) {
    try {
      data = new Uint8Array(inflateRawSync(raw));
    } catch (e) {
      bad(`ZIP member ${name}: invalid deflate data (${(e as Error).message})`, "valid deflate data", (e as Error).message);
    }
  } else if (entry.method !== 0) {
    bad(`ZIP member ${name} uses unsupported compression method ${entry.method}`, "zip method 0 (stored) or 8 (deflate)", `method ${entry.method}`);
  }
  if (data.length !== entry.size) bad(`ZIP member ${name}: ${data.length} bytes after decompression, expected ${entry.size}`, `${entry.size} uncompressed bytes`, `${data.length}`);
  if (crc32(data) !== entry.crc) bad(`ZIP member ${name} fails its CRC-32 check`, "data matching its CRC-32", "a CRC mismatch");
  return data;
}

/** Read every member of a zip archive, in central-directory order. */
export function readZip(buf: Uint8Array): ZipMember[] {
  return readZipEntries(buf).map((e) => ({ name: e.name, data: readZipEntry(buf, e) }));
}

/** Write a zip archive (no ZIP64; for tests and small exports). Method 0 = stored, 8 = deflate. */
export function writeZip(files: readonly ZipMember[], method: 0 | 8 = 0): Uint8Array {
  const locals: Uint8Array[] = [], centrals: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = new TextEncoder().encode(f.name);
    const body = method === 8 ? new Uint8Array(deflateRawSync(f.data)) : f.data;
    const crc = crc32(f.data);
    const lh = new Uint8Array(30 + name.length);
    const l = new DataView(lh.buffer);
    l.setUint32(0, 0x04034b50, true); l.setUint16(4, 20, true); l.setUint16(8, method, true);
    l.setUint16(12, 0x21, true); // modification date 1980-01-01 (the earliest valid DOS date)
    l.setUint32(14, crc, true); l.setUint32(18, body.length, true); l.setUint32(22, f.data.length, true);
    l.setUint16(26, name.length, true); lh.set(name, 30);
    const ch = new Uint8Array(46 + name.length);
    const c = new DataView(ch.buffer);
    c.setUint32(0, 0x02014b50, true); c.setUint16(4, 20, true); c.setUint16(6, 20, true); c.setUint16(10, method, true);
    c.setUint16(14, 0x21, true);
    c.setUint32(16, crc, true); c.setUint32(20, body.length, true); c.setUint32(24, f.data.length, true);
    c.setUint16(28, name.length, true); c.setUint32(42, offset, true); ch.set(name, 46);
    locals.push(lh, body); centrals.push(ch);
    offset += lh.length + body.length;
  }
  const cdSize = centrals.reduce((a, b) => a + b.length, 0);
  const end = new Uint8Array(22);
  const e = new DataView(end.buffer);
  e.setUint32(0, 0x06054b50, true); e.setUint16(8, files.length, true); e.setUint16(10, files.length, true);
  e.setUint32(12, cdSize, true); e.setUint32(16, offset, true);
  const all = [...locals, ...centrals, end];
  const out = new Uint8Array(all.reduce((a, b) => a + b.length, 0));
  let q = 0;
  for (const a of all) { out.set(a, q); q += a.length; }
  return out;
}
