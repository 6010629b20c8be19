/**
 * Event datasets stored as folders: `<root>/<class>/<recording>` (N-MNIST, CIFAR10-DVS and the emulated
 * Fashion-MNIST all use this layout; a `classes.txt` at the root names the classes in folder order, and a
 * `dataset.json` manifest (event-manifest.ts) gives the format, sensor size and class names when present).
 * Class folders and files are taken in sorted (natural) order, never in directory-walk order.
 * `loadEventFolder` integrates every recording to T frames (with the disk cache) into an
 * EventFrameDataset for the loader, reporting progress when asked.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DataFormatError } from "./errors.js";
import { readEvents, writeEvents, EVENT_EXTENSIONS } from "./detect.js";
import { integrateCached, integrateEvents, type IntegrateOptions } from "./integrate.js";
import { emulateEvents, type EmulateOptions } from "./emulate.js";
import { eventStats, type EventFormat, type EventStream } from "./events/types.js";
import type { Compression } from "./events/compression.js";
import { allocSharedFloat32, type EventFrameDataset } from "./loader.js";
import type { FrameDataset } from "./frame-dataset.js";
import { writeFileAtomic } from "./fsutil.js";
import { MANIFEST_FILE, readEventManifest, writeEventManifest, type SensorSize } from "./event-manifest.js";
import { progressReporter, type ProgressOption } from "./progress.js";

const natural = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

export interface EventFolderEntry {
  path: string;
  label: number;
}

export function listEventFolder(root: string): { classes: string[]; entries: EventFolderEntry[] } {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new DataFormatError(root, "not a directory");
  const dirs = readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory()).sort(natural);
  if (dirs.length === 0) throw new DataFormatError(root, "holds no class folders (expected <root>/<class>/<recording>)");
  let classes = dirs;
  let labelOf = (_d: string, i: number) => i;
  const ct = join(root, "classes.txt");
  const manifest = readEventManifest(root);
  if (manifest || existsSync(ct)) {
    const names = manifest ? manifest.classes : readFileSync(ct, "utf8").split(/\r?\n/).filter((l) => l.trim().length > 0);
    if (dirs.every((d) => /^\d+$/.test(d) && Number(d) < names.length)) {
      // numbered class folders (as `data emulate` writes): the number is the label, even if some are absent
      classes = names;
      labelOf = (d) => Number(d);
    } else if (names.length === dirs.length) classes = names;
  }
  const entries: EventFolderEntry[] = [];
  dirs.forEach((d, i) => {
    const label = labelOf(d, i);
    for (const f of readdirSync(join(root, d)).sort(natural)) {
      const p = join(root, d, f);
      if (!f.startsWith(".") && statSync(p).isFile()) entries.push({ path: p, label });
    }
  });
  return { classes, entries };
}

export interface LoadEventFolderOptions extends IntegrateOptions {
  /** Default: the manifest's format, else detected per file. */
  format?: EventFormat;
  /** Sensor size for every recording; default: the manifest's (dataset.json), else what each file records or implies. */
  sensor?: SensorSize;
  /** Directory for cached integrated frames (none: no cache). */
  cacheDir?: string;
  /** A progress callback, or true for a bar on stderr when it is a terminal. */
  progress?: ProgressOption;
  /** Use only the first `limit` recordings (in sorted order). */
  limit?: number;
}

export function loadEventFolder(root: string, opts: LoadEventFolderOptions): EventFrameDataset {
  const { classes, entries: all } = listEventFolder(root);
  const entries = opts.limit !== undefined ? all.slice(0, opts.limit) : all;
  if (entries.length === 0) throw new DataFormatError(root, "holds no recordings");
  const manifest = readEventManifest(root);
  const format = opts.format ?? manifest?.format;
  const sensor = opts.sensor ? { ...opts.sensor, from: "the sensor option" } : manifest ? { ...manifest.sensor, from: join(root, MANIFEST_FILE) } : undefined;
  const integ: IntegrateOptions = { T: opts.T, mode: opts.mode, window: opts.window, outWidth: opts.outWidth, outHeight: opts.outHeight };
  const report = progressReporter(opts.progress, "integrating events");
  let frames: Float32Array | null = null;
  let H = 0;
  let W = 0;
  let sampleSize = 0;
  const labels = new Int32Array(entries.length);
  try {
    entries.forEach((e, i) => {
      const load = () => readEvents(e.path, format, { sensor });
      const extra = { format: format ?? null, sensor: sensor ? [sensor.width, sensor.height] : null };
      const f = opts.cacheDir ? integrateCached(opts.cacheDir, e.path, load, integ, extra) : integrateEvents(load(), integ);
      if (!frames) {
        [, , H, W] = f.shape;
        sampleSize = f.data.length;
        frames = allocSharedFloat32(entries.length * sampleSize);
      } else if (f.data.length !== sampleSize) {
        const hint = sensor
          ? "pass an output size (outWidth/outHeight, --size)"
          : `its file format may not record the sensor size: give it (sensor option, --sensor WxH, or a ${MANIFEST_FILE} in ${root}) or an output size`;
        throw new DataFormatError(e.path, `integrates to [${f.shape.join(", ")}], unlike the first recording ([${opts.T}, 2, ${H}, ${W}]); ${hint}`);
      }
      frames.set(f.data, i * sampleSize);
      labels[i] = e.label;
      report?.(i + 1, entries.length);
    });
  } finally {
    report?.done();
  }
  return { name: root, frames: frames!, labels, count: entries.length, T: opts.T, height: H, width: W, classes, source: root };
}

export interface EmulateDatasetOptions extends EmulateOptions {
  format: EventFormat;
  /** AEDAT 4 packet compression (default lz4). */
  compression?: Compression;
  /** Images per split to convert (default all). */
  limit?: number;
  /** A progress callback, or true for a bar on stderr when it is a terminal. */
  progress?: ProgressOption;
}

export interface EmulationSummary {
  samples: number;
  events: { mean: number; min: number; max: number; total: number };
  durationUs: { mean: number; min: number; max: number };
  onFraction: number;
}

/**
 * Converts a frame dataset (grey images) into an event dataset `<out>/<NN>/<index><ext>` with a classes.txt and a
 * dataset.json manifest (format, sensor size, classes); each image gets its own seed (seed + index), so any
 * subset reproduces.
 */
export function emulateDataset(ds: FrameDataset, out: string, opts: EmulateDatasetOptions): EmulationSummary {
  if (ds.channels !== 1) throw new Error(`emulateDataset: expects grey images, ${ds.name} has ${ds.channels} channels`);
  const n = Math.min(ds.count, opts.limit ?? ds.count);
  const ext = EVENT_EXTENSIONS[opts.format];
  const size = ds.height * ds.width;
  const report = progressReporter(opts.progress, "emulating events");
  const counts: number[] = [];
  const durs: number[] = [];
  let on = 0;
  let sensor: SensorSize | null = null;
  const pad = String(Math.max(0, ds.classes.length - 1)).length;
  try {
    for (let i = 0; i < n; i++) {
      const img = ds.images.subarray(i * size, (i + 1) * size);
      const ev = emulateEvents(img, ds.width, ds.height, { ...opts, seed: (opts.seed ?? 0) + i });
      ev.meta.format = opts.format;
      let s: EventStream = ev;
      if (opts.format === "aedat2" && (ev.width > 128 || ev.height > 128)) throw new Error("aedat2 holds at most 128×128 sensors");
      if (opts.format === "aedat2") s = { ...ev, width: 128, height: 128 };
      sensor ??= { width: s.width, height: s.height };
      const label = ds.labels[i]!;
      writeEvents(join(out, String(label).padStart(pad, "0"), `${String(i).padStart(5, "0")}${ext}`), s, opts.format, { compression: opts.compression });
      const st = eventStats(ev);
      counts.push(st.events);
      durs.push(st.durationUs);
      on += st.on;
      report?.(i + 1, n);
    }
  } finally {
    report?.done();
  }
  writeFileAtomic(join(out, "classes.txt"), Buffer.from(ds.classes.join("\n") + "\n"));
  // the emulator's sensor even when no image was converted, so the manifest is always complete
  sensor ??= opts.format === "aedat2" ? { width: 128, height: 128 } : { width: opts.width ?? 34, height: opts.height ?? 34 };
  writeEventManifest(out, { format: opts.format, sensor, classes: ds.classes, recordings: n, source: `emulated from ${ds.source}` });
  const total = counts.reduce((a, b) => a + b, 0);
  const summary: EmulationSummary = {
    samples: n,
    events: { mean: total / Math.max(1, n), min: Math.min(...counts), max: Math.max(...counts), total },
    durationUs: { mean: durs.reduce((a, b) => a + b, 0) / Math.max(1, n), min: Math.min(...durs), max: Math.max(...durs) },
    onFraction: total > 0 ? on / total : 0,
  };
  const { progress: _progress, ...options } = opts;
  writeFileAtomic(join(out, "emulation.json"), Buffer.from(JSON.stringify({ source: ds.name, options, summary }, null, 2) + "\n"));
  return summary;
}
