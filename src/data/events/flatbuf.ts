/**
 * Just enough FlatBuffers to read and write the four small AEDAT 4 schemas (IOHeader, EventPacket,
 * FileDataTable): bounds-checked table/vector/string access on a DataView, and a forward-layout writer.
 * Wire format (flatbuffers.dev "internals"): little-endian; a table starts with an int32 soffset to its
 * vtable (vtable = table − soffset); the vtable holds uint16 vtable size, uint16 table size, then one
 * uint16 offset per field (0 = absent); references are uint32 offsets relative to where they are stored;
 * vectors and strings start with a uint32 length (strings are NUL-terminated).
 */
export class FlatBufferError extends Error {}

export class FbReader {
  readonly dv: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private check(pos: number, n: number, what: string): void {
    if (pos < 0 || pos + n > this.bytes.length) throw new FlatBufferError(`${what} at byte ${pos} lies outside the ${this.bytes.length}-byte buffer`);
  }
  u16(p: number): number { this.check(p, 2, "uint16"); return this.dv.getUint16(p, true); }
  u32(p: number): number { this.check(p, 4, "uint32"); return this.dv.getUint32(p, true); }
  i32(p: number): number { this.check(p, 4, "int32"); return this.dv.getInt32(p, true); }
  i64(p: number): number {
    this.check(p, 8, "int64");
    return this.dv.getUint32(p, true) + this.dv.getInt32(p + 4, true) * 4294967296;
  }
  /** Root table position. With a size prefix the buffer starts with a uint32 length. */
  root(sizePrefixed: boolean): number {
    const base = sizePrefixed ? 4 : 0;
    if (sizePrefixed) {
      const size = this.u32(0);
      if (size + 4 > this.bytes.length) throw new FlatBufferError(`size prefix says ${size} bytes, buffer holds ${this.bytes.length - 4}`);
    }
    return base + this.u32(base);
  }
  identifier(sizePrefixed: boolean): string {
    const o = sizePrefixed ? 8 : 4;
    this.check(o, 4, "file identifier");
    return String.fromCharCode(...this.bytes.subarray(o, o + 4));
  }
  /** Absolute position of field `i` of the table at `t`, or 0 when absent. */
  field(t: number, i: number): number {
    const vt = t - this.i32(t);
    const vtSize = this.u16(vt);
    const o = 4 + 2 * i;
    if (o + 2 > vtSize) return 0;
    const off = this.u16(vt + o);
    return off === 0 ? 0 : t + off;
  }
  deref(p: number): number { return p + this.u32(p); }
  /** [start, length] of the vector referenced at position p. */
  vector(p: number): [number, number] {
    const v = this.deref(p);
    const n = this.u32(v);
    return [v + 4, n];
  }
  string(p: number): string {
    const [s, n] = this.vector(p);
    this.check(s, n, "string");
    return Buffer.from(this.bytes.subarray(s, s + n)).toString("utf8");
  }
}

/** Append-only little-endian writer with alignment relative to the start of the buffer. */
export class FbWriter {
  buf = new Uint8Array(256);
  dv = new DataView(this.buf.buffer);
  pos = 0;
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf);
    this.buf = nb;
    this.dv = new DataView(nb.buffer);
  }
  align(n: number): void {
    const pad = (n - (this.pos % n)) % n;
    this.ensure(pad);
    this.pos += pad;
  }
  u8(v: number): number { this.ensure(1); this.dv.setUint8(this.pos, v); return this.pos++; }
  u16(v: number): number { this.ensure(2); this.dv.setUint16(this.pos, v, true); this.pos += 2; return this.pos - 2; }
  u32(v: number): number { this.ensure(4); this.dv.setUint32(this.pos, v >>> 0, true); this.pos += 4; return this.pos - 4; }
  i32(v: number): number { this.ensure(4); this.dv.setInt32(this.pos, v, true); this.pos += 4; return this.pos - 4; }
  i64(v: number): number {
    this.ensure(8);
    const hi = Math.floor(v / 4294967296);
    this.dv.setUint32(this.pos, v - hi * 4294967296, true);
    this.dv.setInt32(this.pos + 4, hi, true);
    this.pos += 8;
    return this.pos - 8;
  }
  ascii(s: string): void { for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i)); }
  bytes(b: Uint8Array): number { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; return this.pos - b.length; }
  /** Writes a uoffset at `at` pointing forward to `target`. */
  patchOffset(at: number, target: number): void { this.dv.setUint32(at, target - at, true); }
  patchU32(at: number, v: number): void { this.dv.setUint32(at, v, true); }
  patchI32(at: number, v: number): void { this.dv.setInt32(at, v, true); }
  /** vtable for a table of `tableSize` bytes with the given field offsets (0 = absent). */
  vtable(tableSize: number, fieldOffsets: number[]): number {
    this.align(2);
    const at = this.u16(4 + 2 * fieldOffsets.length);
    this.u16(tableSize);
    for (const f of fieldOffsets) this.u16(f);
    return at;
  }
  /** Starts a size-prefixed buffer: [size][root offset][identifier]; returns the root-offset position. */
  beginSizePrefixed(identifier: string): number {
    this.u32(0);
    const root = this.u32(0);
    this.ascii(identifier);
    return root;
  }
  finishSizePrefixed(): Uint8Array {
    this.align(8);
    this.patchU32(0, this.pos - 4);
    return this.buf.slice(0, this.pos);
  }
}
