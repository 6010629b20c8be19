/** Small file helpers shared by the readers and writers: atomic writes and gzip detection. */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { DataFormatError } from "./errors.js";

let tmpCounter = 0;

/**
 * Writes a file atomically: the bytes go to a temporary file in the same directory, which is renamed over
 * the destination only once it is complete, so a crash never leaves a partially written file behind.
 */
export function writeFileAtomic(path: string, data: Uint8Array | readonly Uint8Array[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${tmpCounter++}.tmp`);
  const parts = data instanceof Uint8Array ? [data] : data;
  let fd = -1;
  try {
    fd = openSync(tmp, "w");
    for (const part of parts) {
      let off = 0;
      // at most 1 GiB per call: one write cannot pass 2 GiB (a whole-dataset frame cache can)
      while (off < part.length) off += writeSync(fd, part, off, Math.min(part.length - off, 1 << 30));
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Reads a file, transparently gunzipping it when it starts with the gzip magic. */
export function readMaybeGzip(path: string): Uint8Array {
  const raw = readFileSync(path);
  if (!isGzip(raw)) return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  try {
    const out = gunzipSync(raw);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (e) {
    throw new DataFormatError(path, `gzip data is corrupt or truncated (${(e as Error).message})`);
  }
}

export function readBytes(path: string): Uint8Array {
  const raw = readFileSync(path);
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
}

export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
