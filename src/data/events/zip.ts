/** ZIP reader/writer for .npz event archives: the shared implementation in src/io/zip.ts. */
import { writeZip as writeZipMethod, type ZipMember } from "../../io/zip.js";

export { readZip, type ZipMember } from "../../io/zip.js";

/** Write a zip archive of stored (or, with `deflate`, deflated) members. */
export function writeZip(members: readonly ZipMember[], deflate = false): Uint8Array {
  return writeZipMethod(members, deflate ? 8 : 0);
}
