/**
 * AEDAT 4.0 (iniVation DV). Layout:
 *   `#!AER-DAT4.0\r\n` (14 bytes), then a size-prefixed FlatBuffer `IOHeader` (identifier IOHE):
 *     field 0 compression: int32 (0 NONE, 1 LZ4, 2 LZ4_HIGH, 3 ZSTD, 4 ZSTD_HIGH),
 *     field 1 dataTablePosition: int64 (-1 when absent), field 2 infoNode: string (XML).
 *   then packets: int32 streamId, int32 size, `size` bytes = the packet compressed as a whole (LZ4 frame
 *   or Zstandard frame); decompressed, a size-prefixed FlatBuffer whose identifier names the type
 *   (EVTS EventPacket: field 0 = vector of 16-byte structs {int64 timestamp µs, int16 x, int16 y,
 *   bool polarity, 3 bytes padding}; FRME, IMUS, TRIG are skipped).
 *   At dataTablePosition: the FileDataTable (identifier FTAB), compressed like the packets.
 * The info node XML: <dv><node name="outInfo"><node name="<streamId>"><attr key="typeIdentifier">EVTS
 * </attr><node name="info"><attr key="sizeX">W</attr><attr key="sizeY">H</attr>...
 */
import { DataFormatError } from "../errors.js";
import { dataView, readBytes, writeFileAtomic } from "../fsutil.js";
import { compressPacket, COMPRESSION_CODES, COMPRESSION_NAMES, decompressPacket, type Compression } from "./compression.js";
import { FbReader, FbWriter } from "./flatbuf.js";
import { escapeXml, parseXml, type XmlElement } from "./xml.js";
import { startsWithAscii } from "./header.js";
import { checkStream, type EventStream } from "./types.js";

const MAGIC = "#!AER-DAT4.0\r\n";

export interface Aedat4Stream {
  id: number;
  type: string;
  width: number;
  height: number;
  attrs: Record<string, string>;
}

export interface Aedat4Options {
  /** Which event stream to read (default: the first EVTS stream). */
  streamId?: number;
}

function parseInfo(xml: string, name: string): Aedat4Stream[] {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    throw new DataFormatError(name, `IOHeader infoNode is not valid XML (${(e as Error).message})`);
  }
  const out = root.children.find((c) => c.tag === "node" && c.attrs.name === "outInfo");
  if (!out) throw new DataFormatError(name, 'IOHeader infoNode has no <node name="outInfo"> describing the streams');
  const streams: Aedat4Stream[] = [];
  for (const sn of out.children) {
    if (sn.tag !== "node") continue;
    const id = Number(sn.attrs.name);
    if (!Number.isInteger(id)) throw new DataFormatError(name, `infoNode stream node has a non-numeric name "${sn.attrs.name}"`);
    const attrs: Record<string, string> = {};
    for (const a of sn.children) if (a.tag === "attr" && a.attrs.key) attrs[a.attrs.key] = a.text;
    const info = sn.children.find((c) => c.tag === "node" && c.attrs.name === "info");
    const infoAttrs: Record<string, string> = {};
    for (const a of info?.children ?? []) if (a.tag === "attr" && a.attrs.key) infoAttrs[a.attrs.key] = a.text;
    if (!attrs.typeIdentifier) throw new DataFormatError(name, `infoNode stream ${id} has no typeIdentifier`);
    streams.push({ id, type: attrs.typeIdentifier, width: Number(infoAttrs.sizeX ?? 0), height: Number(infoAttrs.sizeY ?? 0), attrs: { ...attrs, ...infoAttrs } });
  }
  return streams;
}

export function decodeAedat4(bytes: Uint8Array, name = "<aedat4>", opts: Aedat4Options = {}): EventStream {
  if (!startsWithAscii(bytes, MAGIC)) {
    const what = startsWithAscii(bytes, "#!AER-DAT") ? Buffer.from(bytes.subarray(2, 12)).toString("latin1") : "no AEDAT header";
    throw new DataFormatError(name, `wrong magic (${what}): an AEDAT 4 file starts with #!AER-DAT4.0`);
  }
  const dv = dataView(bytes);
  const hpos = MAGIC.length;
  if (hpos + 4 > bytes.length) throw new DataFormatError(name, "truncated: no IOHeader after the magic");
  const hsize = dv.getUint32(hpos, true);
  if (hpos + 4 + hsize > bytes.length) throw new DataFormatError(name, `truncated IOHeader: declares ${hsize} bytes, ${bytes.length - hpos - 4} remain`);
  let compression: Compression;
  let dataTablePosition: number;
  let streams: Aedat4Stream[];
  try {
    const fb = new FbReader(bytes.subarray(hpos, hpos + 4 + hsize));
    const root = fb.root(true);
    const fc = fb.field(root, 0);
    const code = fc ? fb.i32(fc) : 0;
    const c = COMPRESSION_NAMES[code];
    if (!c) throw new DataFormatError(name, `IOHeader has unknown compression code ${code}`);
    compression = c;
    const fp = fb.field(root, 1);
    dataTablePosition = fp ? fb.i64(fp) : -1;
    const fi = fb.field(root, 2);
    if (!fi) throw new DataFormatError(name, "IOHeader has no infoNode (stream descriptions)");
    streams = parseInfo(fb.string(fi), name);
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new DataFormatError(name, `corrupt IOHeader (${(e as Error).message})`);
  }
  const evStream = opts.streamId !== undefined ? streams.find((s) => s.id === opts.streamId) : streams.find((s) => s.type === "EVTS");
  if (!evStream) throw new DataFormatError(name, opts.streamId !== undefined ? `no stream ${opts.streamId} in the infoNode` : `no event (EVTS) stream among the file's streams (${streams.map((s) => `${s.id}:${s.type}`).join(", ") || "none"})`);
  if (evStream.type !== "EVTS") throw new DataFormatError(name, `stream ${evStream.id} holds ${evStream.type}, not events (EVTS)`);
  const known = new Set(streams.map((s) => s.id));
  const end = dataTablePosition >= 0 ? dataTablePosition : bytes.length;
  if (end > bytes.length) throw new DataFormatError(name, `truncated: the data table should start at byte ${dataTablePosition}, the file has ${bytes.length} bytes`);
  const parts: { x: Uint16Array; y: Uint16Array; t: Float64Array; p: Uint8Array }[] = [];
  let total = 0;
  let packets = 0;
  let pos = hpos + 4 + hsize;
  while (pos < end) {
    if (pos + 8 > end) throw new DataFormatError(name, `truncated packet header at byte ${pos}`);
    const sid = dv.getInt32(pos, true);
    const size = dv.getInt32(pos + 4, true);
    if (size < 0 || pos + 8 + size > end) throw new DataFormatError(name, `truncated packet at byte ${pos}: declares ${size} bytes, ${end - pos - 8} remain`);
    if (!known.has(sid)) throw new DataFormatError(name, `packet at byte ${pos} belongs to stream ${sid}, which the infoNode does not declare`);
    const body = bytes.subarray(pos + 8, pos + 8 + size);
    if (sid === evStream.id) {
      let raw: Uint8Array;
      try {
        raw = decompressPacket(body, compression);
      } catch (e) {
        throw new DataFormatError(name, `packet at byte ${pos}: ${compression} decompression failed (${(e as Error).message})`);
      }
      try {
        const fb = new FbReader(raw);
        const ident = fb.identifier(true);
        if (ident !== "EVTS") throw new Error(`identifier is "${ident}", expected "EVTS"`);
        const root = fb.root(true);
        const fe = fb.field(root, 0);
        if (fe) {
          const [start, n] = fb.vector(fe);
          if (start + 16 * n > raw.length) throw new Error(`${n} events overrun the packet`);
          const pdv = fb.dv;
          const part = { x: new Uint16Array(n), y: new Uint16Array(n), t: new Float64Array(n), p: new Uint8Array(n) };
          for (let i = 0; i < n; i++) {
            const o = start + 16 * i;
            part.t[i] = pdv.getUint32(o, true) + pdv.getInt32(o + 4, true) * 4294967296;
            part.x[i] = pdv.getInt16(o + 8, true);
            part.y[i] = pdv.getInt16(o + 10, true);
            part.p[i] = pdv.getUint8(o + 12) ? 1 : 0;
          }
          parts.push(part);
          total += n;
        }
      } catch (e) {
        throw new DataFormatError(name, `event packet at byte ${pos} is corrupt (${(e as Error).message})`);
      }
    }
    packets++;
    pos += 8 + size;
  }
  const dataTableRows = dataTablePosition >= 0 ? checkDataTable(bytes, dataTablePosition, compression, name) : null;
  const s: EventStream = {
    x: new Uint16Array(total), y: new Uint16Array(total), t: new Float64Array(total), p: new Uint8Array(total),
    width: evStream.width, height: evStream.height,
    meta: { format: "aedat4", file: name, compression, streams, streamId: evStream.id, packets, dataTablePosition, dataTableRows },
  };
  let k = 0;
  for (const part of parts) {
    s.x.set(part.x, k);
    s.y.set(part.y, k);
    s.t.set(part.t, k);
    s.p.set(part.p, k);
    k += part.x.length;
  }
  if (!s.width || !s.height) {
    let mx = 0;
    let my = 0;
    for (let i = 0; i < total; i++) {
      mx = Math.max(mx, s.x[i]!);
      my = Math.max(my, s.y[i]!);
    }
    s.width ||= mx + 1;
    s.height ||= my + 1;
  }
  return s;
}

/**
 * Reads the FileDataTable at `at` (to the end of the file) and checks it against the file: a recording cut inside
 * its table, or a table pointing at packets that are not there, is an error rather than a silent success.
 * Returns the number of rows. Schema: FileDataTable { Table: [FileDataDefinition { ByteOffset: int64,
 * PacketInfo: struct { StreamID: int32, Size: int32 }, NumElements: int64, TimestampStart: int64, TimestampEnd: int64 }] }.
 */
function checkDataTable(bytes: Uint8Array, at: number, compression: Compression, name: string): number {
  const region = bytes.subarray(at);
  const cut = (what: string) => new DataFormatError(name, `truncated FileDataTable: the IOHeader places it at byte ${at}, ${what}; the file was cut short (the event packets before it are intact)`);
  if (region.length === 0) throw cut("where the file ends");
  let raw: Uint8Array;
  try {
    raw = decompressPacket(region, compression);
  } catch (e) {
    throw cut(`but its ${region.length} bytes to the end of the file do not decompress (${compression}: ${(e as Error).message})`);
  }
  if (raw.length < 4) throw cut(`but only ${raw.length} bytes of it are present`);
  const declared = dataView(raw).getUint32(0, true);
  if (declared + 4 > raw.length) throw cut(`declaring ${declared + 4} bytes, but only ${raw.length} are present${compression === "none" ? "" : " after decompression"}`);
  const dv = dataView(bytes);
  let rows: number;
  try {
    const fb = new FbReader(raw.subarray(0, declared + 4));
    const ident = fb.identifier(true);
    if (ident !== "FTAB") throw new Error(`identifier is "${ident}", expected "FTAB"`);
    const root = fb.root(true);
    const fv = fb.field(root, 0);
    const [start, n] = fv ? fb.vector(fv) : [0, 0];
    for (let i = 0; i < n; i++) {
      const row = fb.deref(start + 4 * i);
      const fo = fb.field(row, 0);
      const fi = fb.field(row, 1);
      if (!fo || !fi) throw new Error(`row ${i} lacks ByteOffset or PacketInfo`);
      const offset = fb.i64(fo);
      const sid = fb.i32(fi);
      const size = fb.i32(fi + 4);
      if (offset < 0 || size < 0 || offset + 8 + size > at) {
        throw new DataFormatError(name, `FileDataTable row ${i} points at a ${size}-byte packet at byte ${offset}, beyond the packets' end at byte ${at} (the table does not belong to this file's contents)`);
      }
      if (dv.getInt32(offset, true) !== sid || dv.getInt32(offset + 4, true) !== size) {
        throw new DataFormatError(name, `FileDataTable row ${i} says stream ${sid}, ${size} bytes at byte ${offset}; the packet there says stream ${dv.getInt32(offset, true)}, ${dv.getInt32(offset + 4, true)} bytes`);
      }
    }
    rows = n;
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new DataFormatError(name, `corrupt FileDataTable at byte ${at} (${(e as Error).message})`);
  }
  return rows;
}

export function readAedat4(path: string, opts: Aedat4Options = {}): EventStream {
  return decodeAedat4(readBytes(path), path, opts);
}

/**
 * Start a size-prefixed flatbuffer whose root table has a single field, an offset to a vector.
 * Returns the position of that offset, to patch once the vector is written.
 */
function beginVectorRoot(w: FbWriter, ident: string): number {
  const rootAt = w.beginSizePrefixed(ident);
  const vt = w.vtable(8, [4]);
  w.align(4);
  const table = w.i32(0);
  const vecRef = w.u32(0);
  w.patchI32(table, table - vt);
  w.patchOffset(rootAt, table);
  return vecRef;
}

function encodeEventPacket(s: EventStream, a: number, b: number): Uint8Array {
  const w = new FbWriter();
  const vecRef = beginVectorRoot(w, "EVTS");
  // vector length at 4 mod 8 so the 8-byte-aligned structs follow it directly
  while (w.pos % 8 !== 4) w.u8(0);
  const vec = w.u32(b - a);
  w.patchOffset(vecRef, vec);
  for (let i = a; i < b; i++) {
    w.i64(Math.round(s.t[i]!));
    w.u16(s.x[i]!);
    w.u16(s.y[i]!);
    w.u8(s.p[i]! ? 1 : 0);
    for (let pad = 0; pad < 3; pad++) w.u8(0);
  }
  return w.finishSizePrefixed();
}

function encodeDataTable(rows: { offset: number; streamId: number; size: number; n: number; t0: number; t1: number }[]): Uint8Array {
  const w = new FbWriter();
  const vecRef = beginVectorRoot(w, "FTAB");
  w.align(4);
  const vec = w.u32(rows.length);
  w.patchOffset(vecRef, vec);
  const refs = rows.map(() => w.u32(0));
  const vt = w.vtable(48, [8, 16, 24, 32, 40]);
  rows.forEach((r, i) => {
    w.align(8);
    const t = w.i32(0);
    w.patchI32(t, t - vt);
    w.u32(0);
    w.i64(r.offset);
    w.i32(r.streamId);
    w.i32(r.size);
    w.i64(r.n);
    w.i64(r.t0);
    w.i64(r.t1);
    w.patchOffset(refs[i]!, t);
  });
  return w.finishSizePrefixed();
}

function encodeIOHeader(compression: Compression, dataTablePosition: number, info: string): Uint8Array {
  const w = new FbWriter();
  const rootAt = w.beginSizePrefixed("IOHE");
  const vt = w.vtable(20, [4, 8, 16]);
  w.align(8);
  const t = w.i32(0);
  w.i32(COMPRESSION_CODES[compression]);
  w.i64(dataTablePosition);
  const strRef = w.u32(0);
  w.patchI32(t, t - vt);
  w.patchOffset(rootAt, t);
  w.align(4);
  const enc = Buffer.from(info, "utf8");
  const str = w.u32(enc.length);
  w.bytes(enc);
  w.u8(0);
  w.patchOffset(strRef, str);
  return w.finishSizePrefixed();
}

export interface Aedat4WriteOptions {
  compression?: Compression;
  /** Events per packet (default 4096). */
  packetSize?: number;
  /** Omit the FileDataTable (as an interrupted recording would). */
  noDataTable?: boolean;
  source?: string;
}

export function encodeAedat4(s: EventStream, opts: Aedat4WriteOptions = {}): Uint8Array {
  const n = checkStream(s, "encodeAedat4");
  const compression = opts.compression ?? "lz4";
  const packetSize = opts.packetSize ?? 4096;
  const cname = compression.toUpperCase().replace("-", "_");
  const info =
    `<dv version="2.0"><node name="outInfo" path="/mainloop/spikecut/outInfo/"><node name="0" path="/mainloop/spikecut/outInfo/0/">` +
    `<attr key="compression" type="string">${cname}</attr><attr key="originalModuleName" type="string">spikecut</attr>` +
    `<attr key="originalOutputName" type="string">events</attr><attr key="typeDescription" type="string">Array of events (polarity ON/OFF).</attr>` +
    `<attr key="typeIdentifier" type="string">EVTS</attr><node name="info" path="/mainloop/spikecut/outInfo/0/info/">` +
    `<attr key="sizeX" type="int">${s.width}</attr><attr key="sizeY" type="int">${s.height}</attr>` +
    `<attr key="source" type="string">${escapeXml(opts.source ?? "spikecut")}</attr><attr key="tsOffset" type="long">0</attr></node></node></node></dv>`;
  const packets: Uint8Array[] = [];
  const rows: { offset: number; streamId: number; size: number; n: number; t0: number; t1: number }[] = [];
  for (let a = 0; a < n; a += packetSize) {
    const b = Math.min(n, a + packetSize);
    const body = compressPacket(encodeEventPacket(s, a, b), compression);
    packets.push(body);
    rows.push({ offset: 0, streamId: 0, size: body.length, n: b - a, t0: Math.round(s.t[a]!), t1: Math.round(s.t[b - 1]!) });
  }
  const headerLen = encodeIOHeader(compression, 0, info).length;
  let pos = MAGIC.length + headerLen;
  for (let i = 0; i < packets.length; i++) {
    rows[i]!.offset = pos;
    pos += 8 + packets[i]!.length;
  }
  const table = opts.noDataTable ? null : compressPacket(encodeDataTable(rows), compression);
  const header = encodeIOHeader(compression, table ? pos : -1, info);
  const out = new Uint8Array(pos + (table?.length ?? 0));
  out.set(Buffer.from(MAGIC, "latin1"), 0);
  out.set(header, MAGIC.length);
  const dv = dataView(out);
  let p = MAGIC.length + header.length;
  for (const body of packets) {
    dv.setInt32(p, 0, true);
    dv.setInt32(p + 4, body.length, true);
    out.set(body, p + 8);
    p += 8 + body.length;
  }
  if (table) out.set(table, p);
  return out;
}

export function writeAedat4(path: string, s: EventStream, opts: Aedat4WriteOptions = {}): void {
  writeFileAtomic(path, encodeAedat4(s, opts));
}
