/**
 * `dataset.json`: what an event dataset folder cannot say through its files. Some formats record no sensor size
 * (a NumPy .npy structured array, an N-MNIST .bin), and guessing it from the largest coordinate gives each
 * recording its own size (an emulated 34×34 recording whose events reach x = 29 "is" 30 wide), so recordings
 * integrate to frames of different shapes. `spikecut data emulate` writes this manifest at each split root
 * (`<root>/dataset.json`, beside the class folders); the readers (loadEventFolder, `data info`, `data frames`,
 * training) take the sensor size, format and class names from it. For a third-party folder, write one with
 * `writeEventManifest` or pass the sensor size (`--sensor WxH`).
 *
 *   { "kind": "spikecut-event-dataset", "version": 1, "format": "npy", "sensor": { "width": 34, "height": 34 },
 *     "classes": ["T-shirt/top", ...], "recordings": 6000, "source": "..." }
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DataFormatError } from "./errors.js";
import { writeFileAtomic } from "./fsutil.js";
import type { EventFormat, EventStream } from "./events/types.js";

export const MANIFEST_FILE = "dataset.json";
const KIND = "spikecut-event-dataset";
const FORMATS: EventFormat[] = ["nmnist", "aedat2", "aedat3", "aedat4", "npy"];

export interface SensorSize {
  width: number;
  height: number;
}

export interface EventDatasetManifest {
  format: EventFormat;
  sensor: SensorSize;
  classes: string[];
  recordings?: number;
  source?: string;
}

export function writeEventManifest(root: string, m: EventDatasetManifest): void {
  const doc = { kind: KIND, version: 1, ...m };
  writeFileAtomic(join(root, MANIFEST_FILE), Buffer.from(JSON.stringify(doc, null, 2) + "\n"));
}

const isPosInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0;

/** The manifest at `<root>/dataset.json`, or null when there is none; a malformed one is an error naming the field. */
export function readEventManifest(root: string): EventDatasetManifest | null {
  const file = join(root, MANIFEST_FILE);
  if (!existsSync(file)) return null;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new DataFormatError(file, `not valid JSON (${(e as Error).message})`);
  }
  const bad = (field: string, expected: string) => new DataFormatError(file, `field "${field}": expected ${expected}, got ${JSON.stringify(doc[field.split(".")[0]!]) ?? "nothing"}`);
  if (typeof doc !== "object" || doc === null || doc.kind !== KIND) throw bad("kind", `"${KIND}"`);
  if (doc.version !== 1) throw bad("version", "1 (a newer spikecut wrote this manifest?)");
  if (!FORMATS.includes(doc.format as EventFormat)) throw bad("format", `one of ${FORMATS.join(", ")}`);
  const sensor = doc.sensor as Record<string, unknown> | undefined;
  if (!sensor || !isPosInt(sensor.width) || !isPosInt(sensor.height)) throw bad("sensor", "{ width, height } in pixels (positive integers)");
  if (!Array.isArray(doc.classes) || !doc.classes.every((c) => typeof c === "string")) throw bad("classes", "an array of class names");
  return {
    format: doc.format as EventFormat,
    sensor: { width: sensor.width, height: sensor.height },
    classes: doc.classes as string[],
    ...(isPosInt(doc.recordings) ? { recordings: doc.recordings } : {}),
    ...(typeof doc.source === "string" ? { source: doc.source } : {}),
  };
}

/** The manifest of the dataset a recording `<root>/<class>/<file>` belongs to (or one beside the file), with its folder. */
export function manifestForRecording(path: string): { root: string; manifest: EventDatasetManifest } | null {
  for (const root of [dirname(path), dirname(dirname(path))]) {
    const manifest = readEventManifest(root);
    if (manifest) return { root, manifest };
  }
  return null;
}

/** Parses `WxH` (e.g. "34x34"), as the --sensor flags take it. */
export function parseSensor(v: string, what = "--sensor"): SensorSize {
  const m = /^(\d+)x(\d+)$/.exec(v.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new Error(`${what}: expected WxH in pixels (e.g. 34x34), got "${v}"`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

/**
 * Sets the stream's sensor size to the given one (`from` names where it came from, for errors). Every event must
 * lie on it: a coordinate outside means the size is wrong for this file, which must not pass silently.
 */
export function applySensor(s: EventStream, sensor: SensorSize, file: string, from: string): EventStream {
  const { width, height } = sensor;
  for (let i = 0; i < s.x.length; i++) {
    if (s.x[i]! >= width || s.y[i]! >= height) {
      throw new DataFormatError(file, `event ${i} at (${s.x[i]}, ${s.y[i]}) lies outside the ${width}x${height} sensor given by ${from}`);
    }
  }
  s.width = width;
  s.height = height;
  return s;
}
