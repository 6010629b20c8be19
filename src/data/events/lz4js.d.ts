declare module "lz4js" {
  /** Decompresses an LZ4 frame (ignores block checksums' position: use lz4-frame.ts to read frames). */
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  /** Compresses to an LZ4 frame. */
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
  /** Decodes the LZ4 block src[sIndex, sIndex + sLength) into dst from dIndex; returns the end index in dst. */
  export function decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}
declare module "lz4js/xxh32.js" {
  /** xxHash32 of src[index, index + len) with the given seed (unsigned 32-bit). */
  export function hash(seed: number, src: Uint8Array, index: number, len: number): number;
}
