/**
 * LZ4 frame format reader, written from the specification (lz4_Frame_format.md, v1.6.x), with lz4js's block
 * decoder for the compressed blocks. lz4js's own frame parser ignores the descriptor flags it does not expect
 * (it reads a block checksum where the block starts, so `lz4 -BX` output fails), and no maintained pure-JS or
 * WASM frame decoder is on the npm registry (lz4-wasm*, @foxglove/wasm-lz4, @rinsuki/lz4-ts decode blocks only).
 *
 * Handled: any number of concatenated frames; skippable frames (magic 0x184D2A5?); the legacy format
 * (magic 0x184C2102, what `lz4 -l` writes); block sizes 64 KB..4 MB; independent and linked blocks; stored
 * (uncompressed) blocks; block checksums, the content checksum and the header checksum (all verified, xxHash32);
 * the content size (checked against the decoded size). Frames that need a dictionary are refused.
 */
import { decompressBlock } from "lz4js";
import { hash as xxh32 } from "lz4js/xxh32.js";

const FRAME_MAGIC = 0x184d2204;
const LEGACY_MAGIC = 0x184c2102;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const LEGACY_BLOCK = 8 << 20;
const BLOCK_MAX: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

/** A malformed or truncated LZ4 stream; the message says where and what. */
export class Lz4FormatError extends Error {}

const u32 = (b: Uint8Array, p: number): number => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
const hex = (v: number): string => `0x${v.toString(16).padStart(8, "0")}`;

/** The decoded bytes, in one buffer: linked blocks copy matches out of earlier blocks, so they must stay adjacent. */
class Output {
  buf: Uint8Array;
  len = 0;
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(capacity, 1024));
  }
  reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.len + extra, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  /** Decodes one compressed block, checking it stays within `max` bytes (lz4js itself never checks bounds). */
  block(src: Uint8Array, start: number, size: number, max: number, where: string): void {
    this.reserve(max);
    const end = decompressBlock(src, this.buf, start, size, this.len);
    if (!(end >= this.len && end - this.len <= max)) throw new Lz4FormatError(`${where}: corrupt block (decodes past the ${max}-byte block limit)`);
    this.len = end;
  }
  stored(src: Uint8Array, start: number, size: number): void {
    this.reserve(size);
    this.buf.set(src.subarray(start, start + size), this.len);
    this.len += size;
  }
}

function need(src: Uint8Array, pos: number, n: number, what: string): void {
  if (pos + n > src.length) throw new Lz4FormatError(`truncated ${what} at byte ${pos}: needs ${n} bytes, ${Math.max(0, src.length - pos)} remain`);
}

/** One LZ4 frame starting at `pos` (its magic already checked); returns the position after it. */
function readFrame(src: Uint8Array, pos: number, out: Output, index: number): number {
  const where = `frame ${index} (byte ${pos})`;
  need(src, pos, 7, `${where} descriptor`);
  const flg = src[pos + 4]!;
  const bd = src[pos + 5]!;
  if (flg >> 6 !== 1) throw new Lz4FormatError(`${where}: frame version ${flg >> 6}, only version 1 exists`);
  if (flg & 0x02 || bd & 0x8f) throw new Lz4FormatError(`${where}: reserved descriptor bits are set (FLG 0x${flg.toString(16)}, BD 0x${bd.toString(16)})`);
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const hasDict = (flg & 0x01) !== 0;
  const blockMax = BLOCK_MAX[(bd >> 4) & 7];
  if (blockMax === undefined) throw new Lz4FormatError(`${where}: block size code ${(bd >> 4) & 7} is not one of 4..7`);
  const descLen = 2 + (hasContentSize ? 8 : 0) + (hasDict ? 4 : 0);
  need(src, pos + 4, descLen + 1, `${where} descriptor`);
  const hc = (xxh32(0, src, pos + 4, descLen) >>> 8) & 0xff;
  if (hc !== src[pos + 4 + descLen]) throw new Lz4FormatError(`${where}: header checksum mismatch (corrupt descriptor)`);
  let contentSize = -1;
  if (hasContentSize) {
    const hi = u32(src, pos + 10);
    if (hi >= 1 << 21) throw new Lz4FormatError(`${where}: declares ${hi} × 2^32 bytes of content, beyond what can be held in memory`);
    contentSize = hi * 4294967296 + u32(src, pos + 6);
  }
  if (hasDict) throw new Lz4FormatError(`${where}: needs the external dictionary ${hex(u32(src, pos + 4 + descLen - 4))}, which is not available`);
  const start = out.len;
  if (contentSize >= 0) out.reserve(contentSize);
  let p = pos + 4 + descLen + 1;
  for (let block = 0; ; block++) {
    need(src, p, 4, `${where} block ${block} header (no end mark)`);
    const word = u32(src, p);
    p += 4;
    if (word === 0) break;
    const stored = word >= 0x80000000;
    const size = word & 0x7fffffff;
    if (size > blockMax) throw new Lz4FormatError(`${where}: block ${block} holds ${size} bytes, more than the frame's ${blockMax}-byte maximum`);
    need(src, p, size + (blockChecksum ? 4 : 0), `${where} block ${block}`);
    if (blockChecksum && xxh32(0, src, p, size) !== u32(src, p + size)) throw new Lz4FormatError(`${where}: block ${block} checksum mismatch (corrupt data)`);
    if (stored) out.stored(src, p, size);
    else out.block(src, p, size, blockMax, `${where} block ${block}`);
    p += size + (blockChecksum ? 4 : 0);
  }
  if (contentChecksum) {
    need(src, p, 4, `${where} content checksum`);
    if (xxh32(0, out.buf, start, out.len - start) !== u32(src, p)) throw new Lz4FormatError(`${where}: content checksum mismatch (corrupt data)`);
    p += 4;
  }
  if (contentSize >= 0 && out.len - start !== contentSize) throw new Lz4FormatError(`${where}: declares ${contentSize} bytes of content, decodes to ${out.len - start}`);
  return p;
}

const isMagic = (v: number): boolean => v === FRAME_MAGIC || v === LEGACY_MAGIC || (v & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC;

/** A legacy frame: independent blocks of up to 8 MB, each prefixed by its compressed size, up to EOF or the next magic. */
function readLegacy(src: Uint8Array, pos: number, out: Output, index: number): number {
  let p = pos + 4;
  for (let block = 0; p < src.length; block++) {
    need(src, p, 4, `legacy frame ${index} block ${block} header`);
    const size = u32(src, p);
    if (isMagic(size)) break;
    p += 4;
    need(src, p, size, `legacy frame ${index} block ${block}`);
    out.block(src, p, size, LEGACY_BLOCK, `legacy frame ${index} block ${block}`);
    p += size;
  }
  return p;
}

/** Decodes an LZ4 stream (one or more frames, as the `lz4` tool and liblz4 write them). */
export function decompressLz4Frames(src: Uint8Array): Uint8Array {
  if (src.length < 4 || !isMagic(u32(src, 0))) throw new Lz4FormatError(`not an LZ4 frame (bad magic ${src.length < 4 ? "(too short)" : hex(u32(src, 0))})`);
  const out = new Output(Math.min(src.length * 3, 64 << 20));
  let pos = 0;
  for (let index = 0; pos < src.length; index++) {
    if (src.length - pos < 4) throw new Lz4FormatError(`${src.length - pos} stray bytes after the last frame (byte ${pos})`);
    const magic = u32(src, pos);
    if (magic === FRAME_MAGIC) pos = readFrame(src, pos, out, index);
    else if (magic === LEGACY_MAGIC) pos = readLegacy(src, pos, out, index);
    else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      need(src, pos, 8, `skippable frame ${index} header`);
      const size = u32(src, pos + 4);
      need(src, pos + 8, size, `skippable frame ${index}`);
      pos += 8 + size;
    } else throw new Lz4FormatError(`unknown data after frame ${index - 1}: magic ${hex(magic)} at byte ${pos}`);
  }
  return out.buf.slice(0, out.len);
}
