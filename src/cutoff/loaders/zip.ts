/**
 * ZIP access for .npz outputs files: the shared reader in src/io/zip.ts, with its errors turned into
 * one-line CutoffInputErrors naming the file and the archive member ("(zip)" for archive-level problems).
 */
import * as io from "../../io/zip.js";
import { asCutoffInput } from "../errors.js";

export { crc32, writeZip, type ZipEntry } from "../../io/zip.js";

/** List the entries of a zip archive. */
export function readZipEntries(buf: Uint8Array, source: string): io.ZipEntry[] {
  return asCutoffInput(source, "(zip)", () => io.readZipEntries(buf), "a valid .npz (zip) archive");
}

/** Extract one entry's bytes (stored or deflate), checking size and CRC. */
export function readZipEntry(buf: Uint8Array, entry: io.ZipEntry, source: string): Uint8Array {
  return asCutoffInput(source, entry.name, () => io.readZipEntry(buf, entry));
}
