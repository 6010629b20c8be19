/**
 * `spikecut data info|emulate|frames`: inspect datasets and event recordings, turn Fashion-MNIST into an
 * event dataset, integrate a recording into frames.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseNumberFlag, UserError, type CliCommand, type CliIO } from "../command.js";
import { progressBar } from "../progress.js";
import {
  DATA_FORMATS, EVENT_FORMATS, DataFormatError, DatasetNotFoundError, DATASETS, detectFormat, readEvents, readIdx, readCifar,
  eventStats, classCounts, loadDatasetFromDir, listEventFolder, loadBundledFashionMnist, loadDataset, emulateDataset,
  integrateEvents, integrateCached, writeFramesPng, encodeFrames, writeFileAtomic, subsetFrames, readEventManifest,
  manifestForRecording, parseSensor, MANIFEST_FILE, CIFAR100_COARSE_CLASSES,
  type DataFormat, type DatasetName, type EventFormat, type FrameDataset, type SplitMode, type EventStats, type SensorSize,
  type Compression,
} from "../../data/index.js";

const USAGE = `usage: spikecut data <info|emulate|frames> [options]

  spikecut data info PATH [--format F] [--sensor WxH] [--json]
      What a dataset folder or a single file holds. Frame data: count, shape, classes (CIFAR-100: both
      the 100 fine and the 20 coarse classes). Events: number of events, ON/OFF counts, duration, event
      rate, sensor resolution. The format is detected from the header or the name; --format overrides
      (${DATA_FORMATS.join(", ")}). The sensor size comes from the file, else from the dataset's
      ${MANIFEST_FILE} (written by emulate), else from the largest coordinate; --sensor gives it (plain
      .npy and N-MNIST files do not record it).

  spikecut data emulate [--source bundled|fashion-mnist|mnist|DIR] [--split train|test|both]
                        [--format ${EVENT_FORMATS.join("|")}] [--out DIR] [--limit N] [--seed S]
                        [--threshold C] [--threshold-noise S] [--mismatch S] [--refractory US]
                        [--compression lz4|zstd|none] [--json]
      Emulates a DVS looking at each image while it moves along three saccades (as N-MNIST was
      recorded) and writes one recording per image to DIR/<split>/<class>/<index><ext>, with a
      ${MANIFEST_FILE} (format, sensor size, classes) and classes.txt in DIR/<split>.
      Defaults: --source bundled (the Fashion-MNIST subset shipped with spikecut), --split both,
      --format nmnist, --out ./fashion-mnist-events, threshold 0.2, threshold noise 0.01 (std of the
      per-event threshold), mismatch 0.03 (std of the fixed per-pixel threshold), refractory 500 µs,
      seed 0; --compression (AEDAT 4 packets only) lz4.

  spikecut data frames PATH [-T 10] [--mode time|count] [--window START,END] [--size 48|WxH]
                      [--sensor WxH] [--png FILE] [--out FILE] [--cache DIR] [--format F] [--json]
      Integrates a recording into T frames with 2 polarity channels. --mode time is the reference
      convention (equal durations; the final event is dropped), count splits by equal event counts.
      --window keeps events with START < t − t_first < END (µs, strict). --size downsamples (e.g. 48).
      The sensor size is found as for info.

examples:
  spikecut data info /usr/share/datasets/fashion-mnist
  spikecut data info recording.aedat4 --json
  spikecut data emulate --format aedat4 --out /tmp/fmnist-dvs --limit 100
  spikecut data emulate --format npy --threshold 0.3 --threshold-noise 0 --out /tmp/fmnist-npy
  spikecut data info third-party-recording.npy --sensor 128x128
  spikecut data frames /tmp/fmnist-dvs/test/0/00000.aedat4 -T 10 --png sample.png
`;

function fmtDuration(us: number): string {
  if (us >= 1e6) return `${(us / 1e6).toFixed(3)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(3)} ms`;
  return `${us} µs`;
}

function fmtRate(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)} Mev/s`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(1)} kev/s`;
  return `${r.toFixed(1)} ev/s`;
}

function eventLines(s: EventStats): string[] {
  return [
    `sensor: ${s.width}x${s.height}`,
    `events: ${s.events} (ON ${s.on}, OFF ${s.off})`,
    `duration: ${fmtDuration(s.durationUs)}`,
    `event rate: ${fmtRate(s.rate)}`,
  ];
}

function parseFormat(v: unknown): DataFormat | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !(DATA_FORMATS as string[]).includes(v)) throw new UserError(`--format: expected one of ${DATA_FORMATS.join(", ")}, got "${String(v)}"`);
  return v as DataFormat;
}

function frameSummary(ds: FrameDataset) {
  const labelSets = ds.labelSets
    ? Object.fromEntries(Object.entries(ds.labelSets).map(([k, v]) => [k, { classes: v.classes, perClass: classCounts(v.labels, v.classes.length) }]))
    : undefined;
  return { count: ds.count, shape: [ds.channels, ds.height, ds.width], classes: ds.classes, perClass: classCounts(ds.labels, ds.classes.length), ...(labelSets ? { labelSets } : {}) };
}

/** "100 fine classes (500 each), 20 coarse classes (2500 each)": every label set's class count and sizes. */
function labelSetLine(sets: Record<string, { classes: string[]; perClass: number[] }>): string {
  return Object.entries(sets).map(([k, v]) => `${v.classes.length} ${k} classes (${perClassText(v.perClass)})`).join(", ");
}

function perClassText(counts: number[]): string {
  return counts.every((c) => c === counts[0]) ? `${counts[0] ?? 0} each` : counts.join(", ");
}

/** --sensor, or the manifest of the dataset the path belongs to (a split root, or a recording inside one). */
function sensorFor(path: string, flag: SensorSize | undefined, isDir: boolean): (SensorSize & { from: string }) | undefined {
  if (flag) return { ...flag, from: "--sensor" };
  const dirManifest = isDir ? readEventManifest(path) : null;
  const found = isDir ? (dirManifest ? { root: path, manifest: dirManifest } : null) : manifestForRecording(path);
  return found ? { ...found.manifest.sensor, from: join(found.root, MANIFEST_FILE) } : undefined;
}

function parseSensorFlag(v: unknown): SensorSize | undefined {
  if (v === undefined) return undefined;
  try {
    return parseSensor(String(v));
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

async function info(path: string, format: DataFormat | undefined, sensorFlag: SensorSize | undefined, json: boolean, io: CliIO): Promise<number> {
  if (!existsSync(path)) throw new UserError(`${path}: no such file or directory`);
  const out: Record<string, unknown> = { path };
  const lines: string[] = [`path: ${path}`];
  if (statSync(path).isDirectory()) {
    // a known frame dataset layout?
    for (const name of Object.keys(DATASETS) as DatasetName[]) {
      const spec = DATASETS[name];
      if (format && format !== spec.kind) continue;
      let ok = true;
      const splits: Record<string, unknown> = {};
      for (const split of ["train", "test"] as const) {
        try {
          const ds = loadDatasetFromDir(name, path, split);
          splits[split] = frameSummary(ds);
        } catch (e) {
          if (e instanceof DatasetNotFoundError) ok = false;
          else throw e;
        }
      }
      if (!ok) continue;
      out.kind = "frames";
      out.dataset = spec.title;
      out.splits = splits;
      lines.push(`dataset: ${spec.title} (${spec.kind}, ${spec.licence})`);
      for (const [k, v] of Object.entries(splits) as [string, ReturnType<typeof frameSummary>][]) {
        lines.push(`${k}: ${v.count} images, shape [${v.shape.join(", ")}], ${v.labelSets ? labelSetLine(v.labelSets) : `${v.classes.length} classes`}`);
      }
      lines.push(`classes: ${(Object.values(splits)[0] as ReturnType<typeof frameSummary>).classes.join(", ")}`);
      return emit(out, lines, json, io);
    }
    // an event dataset: <root>/<class>/<recording> or <root>/<split>/<class>/<recording>
    const subs = readdirSync(path).filter((d) => statSync(join(path, d)).isDirectory()).sort();
    const roots = subs.length > 0 && subs.every((d) => ["train", "test", "val"].includes(d)) ? subs.map((d) => [d, join(path, d)] as const) : [["all", path] as const];
    out.kind = "events";
    const splits: Record<string, unknown> = {};
    for (const [split, root] of roots) {
      const { classes, entries } = listEventFolder(root);
      const manifest = readEventManifest(root);
      const sensor = sensorFor(root, sensorFlag, true);
      const fmt = (format as EventFormat | undefined) ?? manifest?.format;
      const sample = entries.slice(0, 200);
      let events = 0;
      let on = 0;
      let dur = 0;
      let w = 0;
      let h = 0;
      for (const e of sample) {
        const st = eventStats(readEvents(e.path, fmt, { sensor }));
        events += st.events;
        on += st.on;
        dur += st.durationUs;
        w = Math.max(w, st.width);
        h = Math.max(h, st.height);
      }
      const k = Math.max(1, sample.length);
      const perClass = classes.map((_, c) => entries.filter((e) => e.label === c).length);
      // without a recorded sensor size the largest coordinate over the sample is a lower bound, and says so
      const sensorText = sensor ? `sensor ${w}x${h}${sensor.from === "--sensor" ? " (--sensor)" : ` (${MANIFEST_FILE})`}` : `sensor ${w}x${h}${fmt === "npy" || fmt === "nmnist" ? " (largest coordinate seen; the files do not record it: pass --sensor WxH)" : ""}`;
      splits[split] = {
        recordings: entries.length, classes, perClass, statsOver: sample.length, meanEvents: events / k, meanOn: on / k, meanOff: (events - on) / k, meanDurationUs: dur / k,
        sensor: [w, h], ...(fmt ? { format: fmt } : {}), sensorFrom: sensor?.from ?? null,
      };
      lines.push(`${split}: ${entries.length} recordings in ${classes.length} classes (${classes.join(", ")})${fmt ? `, ${fmt}` : ""}`);
      lines.push(`  per recording (mean over ${sample.length}): ${(events / k).toFixed(0)} events (ON ${(on / k).toFixed(0)}, OFF ${((events - on) / k).toFixed(0)}), duration ${fmtDuration(Math.round(dur / k))}, rate ${fmtRate(dur > 0 ? events / (dur / 1e6) : 0)}, ${sensorText}`);
    }
    out.splits = splits;
    return emit(out, lines, json, io);
  }
  const f = format ?? detectFormat(path);
  out.format = f;
  lines.push(`format: ${f}`);
  if (f === "idx") {
    const a = readIdx(path);
    out.shape = a.shape;
    out.type = `0x${a.typeCode.toString(16)}`;
    lines.push(`shape: [${a.shape.join(", ")}] (type 0x${a.typeCode.toString(16)})`);
    if (a.shape.length === 1) {
      const labels = Int32Array.from(a.data as ArrayLike<number>);
      const k = Math.max(0, ...labels) + 1;
      out.classes = k;
      out.perClass = classCounts(labels, k);
      lines.push(`count: ${a.shape[0]} labels, ${k} classes (${(out.perClass as number[]).join(", ")})`);
    } else {
      out.count = a.shape[0];
      lines.push(`count: ${a.shape[0]} items of [${a.shape.slice(1).join(", ")}]`);
    }
  } else if (f === "cifar") {
    const b = readCifar(path);
    const k = b.variant === "cifar10" ? 10 : 100;
    Object.assign(out, { variant: b.variant, count: b.count, shape: [3, 32, 32], classes: k, perClass: classCounts(b.labels, k) });
    if (b.coarseLabels) {
      const coarse = classCounts(b.coarseLabels, CIFAR100_COARSE_CLASSES.length);
      out.labelSets = { fine: { classes: k, perClass: out.perClass }, coarse: { classes: coarse.length, perClass: coarse } };
      lines.push(`CIFAR-100: ${b.count} images, shape [3, 32, 32], ${k} fine classes (${perClassText(out.perClass as number[])}), ${coarse.length} coarse classes (${perClassText(coarse)})`);
    } else lines.push(`CIFAR-10: ${b.count} images, shape [3, 32, 32], ${k} classes`);
  } else {
    const sensor = sensorFor(path, sensorFlag, false);
    const s = readEvents(path, f, { sensor });
    const st = eventStats(s);
    Object.assign(out, st);
    if (s.meta.compression) out.compression = s.meta.compression;
    if (s.meta.wraps) out.timestampWraps = s.meta.wraps;
    if (s.meta.compression) lines[lines.length - 1] += ` (${String(s.meta.compression)} packets)`;
    lines.push(...eventLines(st));
    if (sensor) {
      out.sensorFrom = sensor.from;
      lines[lines.findIndex((l) => l.startsWith("sensor: "))] += ` (from ${sensor.from})`;
    } else if (f === "npy" || f === "nmnist") {
      lines[lines.findIndex((l) => l.startsWith("sensor: "))] += " (not recorded in the file: largest coordinate; pass --sensor WxH)";
    }
    if (s.meta.wraps) lines.push(`timestamp wrap-arounds undone: ${s.meta.wraps}`);
  }
  return emit(out, lines, json, io);
}

function emit(out: unknown, lines: string[], json: boolean, io: CliIO): number {
  io.stdout(json ? JSON.stringify(out, null, 2) + "\n" : lines.join("\n") + "\n");
  return 0;
}

async function emulate(values: Record<string, unknown>, json: boolean, io: CliIO): Promise<number> {
  const source = (values.source as string | undefined) ?? "bundled";
  const splitArg = (values.split as string | undefined) ?? "both";
  if (!["train", "test", "both"].includes(splitArg)) throw new UserError(`--split: expected train, test or both, got "${splitArg}"`);
  const format = (values.format as string | undefined) ?? "nmnist";
  if (!(EVENT_FORMATS as string[]).includes(format)) throw new UserError(`--format: expected an event format (${EVENT_FORMATS.join(", ")}), got "${format}"`);
  const outDir = resolve((values.out as string | undefined) ?? "fashion-mnist-events");
  const limit = values.limit !== undefined ? parseNumberFlag(values.limit, "limit", { min: 1, integer: true }) : undefined;
  const seed = values.seed !== undefined ? parseNumberFlag(values.seed, "seed", { min: 0, integer: true }) : 0;
  const threshold = values.threshold !== undefined ? parseNumberFlag(values.threshold, "threshold", { min: 0, minExclusive: true }) : undefined;
  const refractoryUs = values.refractory !== undefined ? parseNumberFlag(values.refractory, "refractory", { min: 0 }) : undefined;
  const thresholdNoise = values["threshold-noise"] !== undefined ? parseNumberFlag(values["threshold-noise"], "threshold-noise", { min: 0 }) : undefined;
  const thresholdMismatch = values.mismatch !== undefined ? parseNumberFlag(values.mismatch, "mismatch", { min: 0 }) : undefined;
  let compression: Compression | undefined;
  if (values.compression !== undefined) {
    const c = String(values.compression);
    if (!["lz4", "zstd", "none"].includes(c)) throw new UserError(`--compression: expected lz4, zstd or none, got "${c}"`);
    if (format !== "aedat4") throw new UserError(`--compression: only AEDAT 4 packets are compressed; --format is ${format}`);
    compression = c as Compression;
  }
  const splits = splitArg === "both" ? (["train", "test"] as const) : ([splitArg] as ("train" | "test")[]);
  const result: Record<string, unknown> = { out: outDir, format, source };
  for (const split of splits) {
    let ds: FrameDataset;
    if (source === "bundled") ds = loadBundledFashionMnist(split);
    else if (source === "fashion-mnist" || source === "mnist") ds = await loadDataset(source, split);
    else ds = loadDatasetFromDir("fashion-mnist", source, split);
    if (limit !== undefined && limit < ds.count) ds = subsetFrames(ds, Int32Array.from({ length: limit }, (_, i) => i));
    const summary = emulateDataset(ds, join(outDir, split), {
      format: format as EventFormat, seed, threshold, thresholdNoise, thresholdMismatch, refractoryUs, compression, progress: progressBar(`emulating ${split}`, !json),
    });
    result[split] = summary;
    if (!json) {
      io.stdout(`${split}: ${summary.samples} recordings -> ${join(outDir, split)}\n`);
      io.stdout(`  events per sample: mean ${summary.events.mean.toFixed(0)}, min ${summary.events.min}, max ${summary.events.max}; ON fraction ${(summary.onFraction * 100).toFixed(1)}%\n`);
      io.stdout(`  duration: mean ${fmtDuration(Math.round(summary.durationUs.mean))} (min ${fmtDuration(summary.durationUs.min)}, max ${fmtDuration(summary.durationUs.max)})\n`);
    }
  }
  if (json) io.stdout(JSON.stringify(result, null, 2) + "\n");
  return 0;
}

function parseSize(v: unknown): [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)(?:x(\d+))?$/.exec(String(v));
  if (!m || Number(m[1]) < 1) throw new UserError(`--size: expected N or WxH (e.g. 48 or 64x48), got "${String(v)}"`);
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

async function frames(path: string, values: Record<string, unknown>, json: boolean, io: CliIO): Promise<number> {
  if (!existsSync(path)) throw new UserError(`${path}: no such file`);
  const T = parseNumberFlag(values.timesteps ?? 10, "timesteps", { min: 1, integer: true });
  const mode = ((values.mode as string | undefined) ?? "time") as SplitMode;
  if (mode !== "time" && mode !== "count") throw new UserError(`--mode: expected time or count, got "${mode}"`);
  let window: [number, number] | undefined;
  if (values.window !== undefined) {
    const parts = String(values.window).split(",").map(Number);
    if (parts.length !== 2 || parts.some((x) => !Number.isFinite(x)) || parts[1]! <= parts[0]!) throw new UserError(`--window: expected START,END in µs with END > START, got "${String(values.window)}"`);
    window = parts as [number, number];
  }
  const size = parseSize(values.size);
  const fmt = parseFormat(values.format);
  if (fmt === "idx" || fmt === "cifar") throw new UserError(`--format ${fmt} is a frame format; frames integrates event recordings`);
  const opts = { T, mode, window, outWidth: size?.[0], outHeight: size?.[1] };
  const sensor = sensorFor(path, parseSensorFlag(values.sensor), false);
  const load = () => readEvents(path, fmt as EventFormat | undefined, { sensor });
  const extra = sensor ? { sensor: [sensor.width, sensor.height] } : {};
  const f = values.cache ? integrateCached(String(values.cache), path, load, opts, extra) : integrateEvents(load(), opts);
  const [, , H, W] = f.shape;
  const perFrame: { on: number; off: number }[] = [];
  for (let t = 0; t < T; t++) {
    let off = 0;
    let on = 0;
    for (let i = 0; i < H * W; i++) {
      off += f.data[(t * 2) * H * W + i]!;
      on += f.data[(t * 2 + 1) * H * W + i]!;
    }
    perFrame.push({ on, off });
  }
  if (values.png) writeFramesPng(String(values.png), f);
  if (values.out) writeFileAtomic(String(values.out), encodeFrames(f));
  if (json) io.stdout(JSON.stringify({ path, shape: f.shape, mode, window: window ?? null, perFrame, png: values.png ?? null, out: values.out ?? null }, null, 2) + "\n");
  else {
    io.stdout(`${path}: [${f.shape.join(", ")}] (${mode === "time" ? "equal time" : "equal count"})\n`);
    perFrame.forEach((p, t) => io.stdout(`  frame ${t}: ON ${p.on}, OFF ${p.off}\n`));
    if (values.png) io.stdout(`wrote ${String(values.png)}\n`);
    if (values.out) io.stdout(`wrote ${String(values.out)}\n`);
  }
  return 0;
}

export const command: CliCommand = {
  name: "data",
  summary: "inspect datasets and event recordings, emulate events, integrate frames",
  usage: USAGE,
  allowPositionals: true,
  options: {
    format: { type: "string" },
    json: { type: "boolean" },
    out: { type: "string" },
    source: { type: "string" },
    split: { type: "string" },
    limit: { type: "string" },
    seed: { type: "string" },
    threshold: { type: "string" },
    "threshold-noise": { type: "string" },
    mismatch: { type: "string" },
    refractory: { type: "string" },
    compression: { type: "string" },
    sensor: { type: "string" },
    timesteps: { type: "string", short: "T" },
    mode: { type: "string" },
    window: { type: "string" },
    size: { type: "string" },
    png: { type: "string" },
    cache: { type: "string" },
  },
  async run({ values, positionals }, io) {
    const [sub, ...rest] = positionals;
    const json = values.json === true;
    try {
      switch (sub) {
        case "info":
          if (rest.length !== 1) throw new UserError("data info: expected exactly one PATH (see spikecut data --help)");
          return await info(rest[0]!, parseFormat(values.format), parseSensorFlag(values.sensor), json, io);
        case "emulate":
          if (rest.length) throw new UserError(`data emulate: unexpected argument "${rest[0]}"`);
          return await emulate(values, json, io);
        case "frames":
          if (rest.length !== 1) throw new UserError("data frames: expected exactly one PATH (see spikecut data --help)");
          return await frames(rest[0]!, values, json, io);
        case undefined:
          throw new UserError("data: missing subcommand (info, emulate or frames; see spikecut data --help)");
        default:
          throw new UserError(`data: unknown subcommand "${sub}" (info, emulate or frames)`);
      }
    } catch (e) {
      if (e instanceof DataFormatError || e instanceof DatasetNotFoundError) throw new UserError(e.message);
      throw e;
    }
  },
};
