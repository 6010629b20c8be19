/** Minimal ustar reader, enough to unpack the CIFAR binary archives (regular files only). */
import { DataFormatError } from "./errors.js";

export interface TarEntry {
  name: string;
  data: Uint8Array;
}

export function readTar(bytes: Uint8Array, name = "<tar>"): TarEntry[] {
  const out: TarEntry[] = [];
  let pos = 0;
  let longName: string | null = null;
  while (pos + 512 <= bytes.length) {
    const h = bytes.subarray(pos, pos + 512);
    if (h.every((b) => b === 0)) break;
    const str = (o: number, n: number) => {
      let e = o;
      while (e < o + n && h[e] !== 0) e++;
      return Buffer.from(h.subarray(o, e)).toString("utf8");
    };
    const sizeField = str(124, 12).trim();
    const size = parseInt(sizeField || "0", 8);
    if (!Number.isFinite(size)) throw new DataFormatError(name, `bad tar header at byte ${pos}`);
    const type = String.fromCharCode(h[156] || 0x30);
    const prefix = str(345, 155);
    let entryName = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    longName = null;
    const dataStart = pos + 512;
    if (dataStart + size > bytes.length) throw new DataFormatError(name, `truncated tar archive: entry ${entryName} needs ${size} bytes`);
    const data = bytes.subarray(dataStart, dataStart + size);
    if (type === "L") longName = Buffer.from(data).toString("utf8").replace(/\0+$/, "");
    else if (type === "0" || type === "\0") out.push({ name: entryName, data });
    entryName = "";
    pos = dataStart + Math.ceil(size / 512) * 512;
  }
  return out;
}
