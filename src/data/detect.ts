/** Format detection from a file's first bytes and name, and format-generic event reading/writing. */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { basename } from "node:path";
import { gunzipSync } from "node:zlib";
import { DataFormatError } from "./errors.js";
import { guessCifarVariant } from "./cifar.js";
import { readNmnist, writeNmnist } from "./events/nmnist.js";
import { readAedat2, writeAedat2 } from "./events/aedat2.js";
import { readAedat3, writeAedat3 } from "./events/aedat3.js";
import { readAedat4, writeAedat4, type Aedat4WriteOptions } from "./events/aedat4.js";
import { readNpyEvents, writeNpyEvents } from "./events/npy.js";
import type { EventFormat, EventStream } from "./events/types.js";
import { applySensor, type SensorSize } from "./event-manifest.js";

export type DataFormat = "idx" | "cifar" | EventFormat;
export const DATA_FORMATS: DataFormat[] = ["idx", "cifar", "nmnist", "aedat2", "aedat3", "aedat4", "npy"];
export const EVENT_FORMATS: EventFormat[] = ["nmnist", "aedat2", "aedat3", "aedat4", "npy"];

/** File extension used when writing each event format. */
export const EVENT_EXTENSIONS: Record<EventFormat, string> = { nmnist: ".bin", aedat2: ".aedat", aedat3: ".aedat", aedat4: ".aedat4", npy: ".npy" };

function head(path: string, n: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const b = new Uint8Array(n);
    const got = readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

const ascii = (b: Uint8Array, s: string) => b.length >= s.length && [...s].every((c, i) => b[i] === c.charCodeAt(0));

/** Detects the format of one file from its header (magic bytes) first, then its name and size. */
export function detectFormat(path: string): DataFormat {
  const size = statSync(path).size;
  const b = head(path, 64);
  const name = basename(path).toLowerCase();
  if (ascii(b, "#!AER-DAT4")) return "aedat4";
  if (ascii(b, "#!AER-DAT3")) return "aedat3";
  if (ascii(b, "#!AER-DAT2")) return "aedat2";
  if (b[0] === 0x93 && ascii(b.subarray(1), "NUMPY")) return "npy";
  if (b[0] === 0x50 && b[1] === 0x4b && name.endsWith(".npz")) return "npy";
  if (b[0] === 0 && b[1] === 0 && b.length >= 4 && [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e].includes(b[2]!)) return "idx";
  if (b[0] === 0x1f && b[1] === 0x8b) {
    if (/idx\d-ubyte/.test(name)) return "idx";
    try {
      const u = gunzipSync(head(path, Math.min(size, 1 << 16)), { finishFlush: 2 /* Z_SYNC_FLUSH */ });
      if (u[0] === 0 && u[1] === 0) return "idx";
    } catch {
      /* fall through */
    }
  }
  if (name.endsWith(".aedat4")) return "aedat4";
  if (name.endsWith(".npy") || name.endsWith(".npz")) return "npy";
  if (/idx\d-ubyte/.test(name)) return "idx";
  if (name.endsWith(".bin") && guessCifarVariant(name, size) && /^(data_batch|test_batch|train\.bin|test\.bin)/.test(name)) return "cifar";
  if (name.endsWith(".bin") && size % 5 === 0) return "nmnist";
  if (name.endsWith(".bin") && guessCifarVariant(name, size)) return "cifar";
  if (name.endsWith(".aedat")) return "aedat2";
  if (name.endsWith(".bin") && size % 5 !== 0) {
    // .bin is N-MNIST's extension (CIFAR's names are recognised above): a size off the 5-byte record is a cut file
    throw new DataFormatError(path, `looks like a truncated N-MNIST file: ${size} bytes is not a multiple of 5 (the 5-byte event record; the last event has ${size % 5} bytes); pass --format if it is another format`);
  }
  throw new DataFormatError(path, `cannot tell the format from the header or the name; pass --format (one of ${DATA_FORMATS.join(", ")})`);
}

export interface ReadEventsOptions {
  /**
   * The sensor size, for files that do not record one (.npy, N-MNIST) or to override the file's; every event
   * must lie on it. `from` names its origin in errors (e.g. "--sensor", "dataset.json").
   */
  sensor?: SensorSize & { from?: string };
}

export function readEvents(path: string, format?: EventFormat, opts: ReadEventsOptions = {}): EventStream {
  const s = readEventsAsStored(path, format ?? detectFormat(path));
  return opts.sensor ? applySensor(s, opts.sensor, path, opts.sensor.from ?? "the sensor option") : s;
}

function readEventsAsStored(path: string, f: DataFormat): EventStream {
  switch (f) {
    case "nmnist":
      return readNmnist(path);
    case "aedat2":
      return readAedat2(path);
    case "aedat3":
      return readAedat3(path);
    case "aedat4":
      return readAedat4(path);
    case "npy":
      return readNpyEvents(path);
    default:
      throw new DataFormatError(path, `${f} is a frame format, not an event format`);
  }
}

export function writeEvents(path: string, s: EventStream, format: EventFormat, opts: Aedat4WriteOptions = {}): void {
  switch (format) {
    case "nmnist":
      return writeNmnist(path, s);
    case "aedat2":
      return writeAedat2(path, s);
    case "aedat3":
      return writeAedat3(path, s);
    case "aedat4":
      return writeAedat4(path, s, opts);
    case "npy":
      return writeNpyEvents(path, s);
  }
}
