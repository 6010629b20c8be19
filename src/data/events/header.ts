/** `#`-prefixed ASCII header lines shared by AEDAT 2.0 and 3.1. */
export interface TextHeader {
  lines: string[];
  /** Byte offset of the first binary byte. */
  end: number;
  /** The file ended inside a header line (no line end): a file cut short, never a complete header. */
  cutInLine: boolean;
}

/**
 * Reads consecutive lines starting with `#` (each ended by \n, optionally \r\n). With `terminator`, stops
 * after the line equal to it (AEDAT 3.1 `#!END-HEADER`).
 */
export function readTextHeader(bytes: Uint8Array, terminator?: string): TextHeader {
  const lines: string[] = [];
  let pos = 0;
  let cutInLine = false;
  while (pos < bytes.length && bytes[pos] === 0x23) {
    let e = pos;
    while (e < bytes.length && bytes[e] !== 0x0a) e++;
    const line = Buffer.from(bytes.subarray(pos, e)).toString("latin1").replace(/\r$/, "");
    lines.push(line);
    cutInLine = e === bytes.length;
    pos = Math.min(e + 1, bytes.length);
    if (terminator !== undefined && line === terminator) break;
  }
  return { lines, end: pos, cutInLine };
}

export function startsWithAscii(bytes: Uint8Array, s: string): boolean {
  if (bytes.length < s.length) return false;
  for (let i = 0; i < s.length; i++) if (bytes[i] !== s.charCodeAt(i)) return false;
  return true;
}
