/**
 * Frame datasets by name: where to find them, how to fetch them, how to load them.
 *
 * Lookup order (first hit wins): an explicit path; `$SPIKECUT_DATA/<name>` (then `$SPIKECUT_DATA` itself);
 * the user cache `~/.cache/spikecut/<name>` (`$XDG_CACHE_HOME/spikecut/<name>` when set); the Debian
 * location (`/usr/share/datasets/<name>`, from `apt-get install dataset-fashion-mnist`). When none holds
 * the files, they are downloaded from the official address into the cache (resumable, SHA-256 checked,
 * with a progress bar); offline, the error says exactly which files to place where.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import cliProgress from "cli-progress";
import { DatasetNotFoundError, DataFormatError, DownloadError } from "./errors.js";
import { downloadFile, type DownloadProgress } from "./download.js";
import { readIdx } from "./idx.js";
import { decodeCifar } from "./cifar.js";
import { readTar } from "./tar.js";
import { writeFileAtomic, readBytes } from "./fsutil.js";
import { CIFAR10_CLASSES, CIFAR100_COARSE_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES, selectLabels, type FrameDataset } from "./frame-dataset.js";

export type DatasetName = "fashion-mnist" | "mnist" | "cifar10" | "cifar100";
export type Split = "train" | "test";

interface DownloadItem {
  url: string;
  /** File name in the cache directory. */
  file: string;
  sha256: string;
  bytes: number;
}

export interface DatasetSpec {
  name: DatasetName;
  title: string;
  licence: string;
  homepage: string;
  kind: "idx" | "cifar";
  /** Files needed per split (IDX files may also be present without `.gz`). */
  files: Record<Split, string[]>;
  downloads: DownloadItem[];
  /** Sub-folder an archive unpacks into (files may also sit there). */
  archiveDir?: string;
  systemDirs: string[];
}

// SHA-256 sums of the official files as published in TensorFlow Datasets' url_checksums (the dataset
// authors publish MD5 only); Debian's repackaged .gz files differ byte-wise but hold the same IDX data.
export const DATASETS: Record<DatasetName, DatasetSpec> = {
  "fashion-mnist": {
    name: "fashion-mnist",
    title: "Fashion-MNIST",
    licence: "MIT (Zalando Research)",
    homepage: "https://github.com/zalandoresearch/fashion-mnist",
    kind: "idx",
    files: {
      train: ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"],
      test: ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
    },
    downloads: [
      { file: "train-images-idx3-ubyte.gz", bytes: 26421880, sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84" },
      { file: "train-labels-idx1-ubyte.gz", bytes: 29515, sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845" },
      { file: "t10k-images-idx3-ubyte.gz", bytes: 4422102, sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073" },
      { file: "t10k-labels-idx1-ubyte.gz", bytes: 5148, sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5" },
    ].map((d) => ({ ...d, url: `http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/${d.file}` })),
    systemDirs: ["/usr/share/datasets/fashion-mnist"],
  },
  mnist: {
    name: "mnist",
    title: "MNIST",
    licence: "CC BY-SA 3.0 (Y. LeCun, C. Cortes, C. Burges)",
    homepage: "http://yann.lecun.com/exdb/mnist/",
    kind: "idx",
    files: {
      train: ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"],
      test: ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
    },
    downloads: [
      { file: "train-images-idx3-ubyte.gz", bytes: 9912422, sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609" },
      { file: "train-labels-idx1-ubyte.gz", bytes: 28881, sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c" },
      { file: "t10k-images-idx3-ubyte.gz", bytes: 1648877, sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6" },
      { file: "t10k-labels-idx1-ubyte.gz", bytes: 4542, sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6" },
    ].map((d) => ({ ...d, url: `https://storage.googleapis.com/cvdf-datasets/mnist/${d.file}` })),
    systemDirs: ["/usr/share/datasets/mnist"],
  },
  cifar10: {
    name: "cifar10",
    title: "CIFAR-10",
    licence: "see https://www.cs.toronto.edu/~kriz/cifar.html (A. Krizhevsky)",
    homepage: "https://www.cs.toronto.edu/~kriz/cifar.html",
    kind: "cifar",
    files: {
      train: ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
      test: ["test_batch.bin"],
    },
    downloads: [
      { url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", file: "cifar-10-binary.tar.gz", bytes: 170052171, sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd" },
    ],
    archiveDir: "cifar-10-batches-bin",
    systemDirs: ["/usr/share/datasets/cifar10"],
  },
  cifar100: {
    name: "cifar100",
    title: "CIFAR-100",
    licence: "see https://www.cs.toronto.edu/~kriz/cifar.html (A. Krizhevsky)",
    homepage: "https://www.cs.toronto.edu/~kriz/cifar.html",
    kind: "cifar",
    files: { train: ["train.bin"], test: ["test.bin"] },
    downloads: [
      { url: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", file: "cifar-100-binary.tar.gz", bytes: 168513733, sha256: "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec" },
    ],
    archiveDir: "cifar-100-binary",
    systemDirs: ["/usr/share/datasets/cifar100"],
  },
};

export interface LookupOptions {
  /** An explicit directory (first in the lookup order). */
  path?: string;
  /** Environment to read SPIKECUT_DATA / XDG_CACHE_HOME from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Overrides the user cache root (default ~/.cache/spikecut). */
  cacheRoot?: string;
  /** Overrides the system directories (default: the dataset's Debian location). */
  systemDirs?: string[];
  /** Try downloading when not found (default true). */
  download?: boolean;
  /** Replaces the official base address, for mirrors and tests: `${mirror}/${file}`. */
  mirror?: string;
  /** Show a progress bar on stderr (default: when stderr is a TTY). */
  progress?: boolean;
  /** Receives progress instead of (or as well as) the bar. */
  onProgress?: (p: DownloadProgress) => void;
}

export type Origin = "path" | "env" | "cache" | "system" | "download";

export function cacheRoot(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), ".cache"), "spikecut");
}

/** The directories searched, in order, each with its origin. */
export function candidateDirs(name: DatasetName, opts: LookupOptions = {}): { dir: string; origin: Origin }[] {
  const env = opts.env ?? process.env;
  const out: { dir: string; origin: Origin }[] = [];
  if (opts.path) out.push({ dir: resolve(opts.path), origin: "path" });
  const sd = env.SPIKECUT_DATA;
  if (sd) {
    out.push({ dir: resolve(sd, name), origin: "env" });
    out.push({ dir: resolve(sd), origin: "env" });
  }
  out.push({ dir: join(opts.cacheRoot ?? cacheRoot(env), name), origin: "cache" });
  for (const d of opts.systemDirs ?? DATASETS[name].systemDirs) out.push({ dir: d, origin: "system" });
  return out;
}

/** Finds a needed file in a directory: as named, without `.gz`, or inside the archive's sub-folder. */
export function findDatasetFile(spec: DatasetSpec, dir: string, file: string): string | null {
  const names = file.endsWith(".gz") ? [file, file.slice(0, -3)] : [file];
  const dirs = spec.archiveDir ? [dir, join(dir, spec.archiveDir)] : [dir];
  for (const d of dirs) for (const n of names) {
    const p = join(d, n);
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return null;
}

function hasAll(spec: DatasetSpec, dir: string, splits: Split[]): boolean {
  return splits.every((s) => spec.files[s].every((f) => findDatasetFile(spec, dir, f) !== null));
}

/** The first directory holding every needed file, or null. Never downloads. */
export function locateDataset(name: DatasetName, opts: LookupOptions = {}, splits: Split[] = ["train", "test"]): { dir: string; origin: Origin } | null {
  const spec = DATASETS[name];
  if (!spec) throw new Error(`unknown dataset "${name}" (known: ${Object.keys(DATASETS).join(", ")})`);
  for (const c of candidateDirs(name, opts)) if (existsSync(c.dir) && hasAll(spec, c.dir, splits)) return c;
  return null;
}

function notFoundMessage(spec: DatasetSpec, opts: LookupOptions, reason: string): string {
  const cache = join(opts.cacheRoot ?? cacheRoot(opts.env ?? process.env), spec.name);
  const needed = [...spec.files.train, ...spec.files.test];
  const lines = [
    `${spec.title} was not found and could not be downloaded (${reason}).`,
    `Looked in: ${candidateDirs(spec.name, opts).map((c) => c.dir).join(", ")}.`,
  ];
  if (spec.kind === "idx") {
    lines.push(`Place these files in ${cache}/ (or in $SPIKECUT_DATA/${spec.name}/): ${needed.join(", ")}`);
  } else {
    lines.push(`Place these files in ${cache}/ (or in $SPIKECUT_DATA/${spec.name}/): ${needed.join(", ")} — they are inside ${spec.downloads[0]!.file}; the archive itself in that folder works too.`);
  }
  lines.push(`Official address: ${spec.downloads.map((d) => d.url).join(" ")}`);
  if (spec.name === "fashion-mnist") lines.push("On Debian: apt-get install dataset-fashion-mnist (files go to /usr/share/datasets/fashion-mnist).");
  return lines.join("\n");
}

function progressReporter(opts: LookupOptions): { onProgress: (p: DownloadProgress) => void; stop: () => void } {
  const show = opts.progress ?? Boolean(process.stderr.isTTY);
  let bar: cliProgress.SingleBar | null = null;
  let current = "";
  return {
    onProgress: (p) => {
      opts.onProgress?.(p);
      if (!show) return;
      if (current !== p.url) {
        bar?.stop();
        current = p.url;
        bar = new cliProgress.SingleBar(
          { format: `${p.url.split("/").pop()} [{bar}] {percentage}% {value}/{total} bytes`, stream: process.stderr },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total ?? 0, p.received);
      }
      bar!.update(p.received);
    },
    stop: () => bar?.stop(),
  };
}

/** Unpacks a downloaded CIFAR archive next to it (atomically per file). */
function unpackCifar(spec: DatasetSpec, dir: string, archive: string): void {
  const gz = readBytes(archive);
  let tarBytes: Uint8Array;
  try {
    tarBytes = gunzipSync(gz);
  } catch (e) {
    throw new DataFormatError(archive, `gzip data is corrupt (${(e as Error).message})`);
  }
  const wanted = new Set([...spec.files.train, ...spec.files.test]);
  for (const entry of readTar(tarBytes, archive)) {
    const base = entry.name.split("/").pop()!;
    if (wanted.has(base) || base.endsWith(".txt")) writeFileAtomic(join(dir, base), entry.data);
  }
}

/**
 * Finds a dataset (lookup order above) or downloads it into the cache. Throws DatasetNotFoundError with
 * placement instructions when it is neither present nor downloadable.
 */
export async function ensureDataset(name: DatasetName, opts: LookupOptions = {}): Promise<{ dir: string; origin: Origin }> {
  const found = locateDataset(name, opts);
  if (found) return found;
  const spec = DATASETS[name];
  const dir = join(opts.cacheRoot ?? cacheRoot(opts.env ?? process.env), name);
  // a CIFAR archive already in the cache (placed by hand): unpack it
  if (spec.kind === "cifar") {
    const archive = join(dir, spec.downloads[0]!.file);
    if (existsSync(archive)) {
      unpackCifar(spec, dir, archive);
      if (hasAll(spec, dir, ["train", "test"])) return { dir, origin: "cache" };
    }
  }
  if (opts.download === false) throw new DatasetNotFoundError(name, notFoundMessage(spec, opts, "downloads disabled"));
  mkdirSync(dir, { recursive: true });
  const reporter = progressReporter(opts);
  try {
    for (const d of spec.downloads) {
      const dest = join(dir, d.file);
      if (existsSync(dest)) continue;
      const url = opts.mirror ? `${opts.mirror.replace(/\/$/, "")}/${d.file}` : d.url;
      await downloadFile(url, dest, { sha256: d.sha256, onProgress: reporter.onProgress });
    }
  } catch (e) {
    reporter.stop();
    if (e instanceof DownloadError) throw new DatasetNotFoundError(name, notFoundMessage(spec, opts, e.message));
    throw e;
  }
  reporter.stop();
  if (spec.kind === "cifar") unpackCifar(spec, dir, join(dir, spec.downloads[0]!.file));
  return { dir, origin: "download" };
}

function classesOf(name: DatasetName, dir: string): string[] {
  if (name === "fashion-mnist") return FASHION_MNIST_CLASSES;
  if (name === "mnist") return MNIST_CLASSES;
  if (name === "cifar10") return CIFAR10_CLASSES;
  return cifar100Names(dir, "fine") ?? Array.from({ length: 100 }, (_, i) => String(i));
}

/** CIFAR-100's label names from the archive's text files (beside the .bin files or in its sub-folder). */
function cifar100Names(dir: string, set: "fine" | "coarse"): string[] | null {
  for (const p of [join(dir, `${set}_label_names.txt`), join(dir, "cifar-100-binary", `${set}_label_names.txt`)]) {
    if (existsSync(p)) return readFileSync(p, "utf8").split(/\r?\n/).filter((l) => l.trim().length > 0);
  }
  return null;
}

/** The label sets a dataset offers: CIFAR-100 has "fine" (100 classes, the default) and "coarse" (20 superclasses). */
export type LabelSetName = "fine" | "coarse";

export interface LoadOptions extends LookupOptions {
  /** Which labels to use where a dataset has two (CIFAR-100); default "fine". */
  labels?: LabelSetName;
}

/** Loads an IDX image/label file pair into a FrameDataset, checking the counts agree. */
export function loadIdxPair(imagesPath: string, labelsPath: string, name = "idx", classes?: string[]): FrameDataset {
  const im = readIdx(imagesPath);
  const lb = readIdx(labelsPath);
  if (im.typeCode !== 0x08 || (im.shape.length !== 3 && im.shape.length !== 4)) {
    throw new DataFormatError(imagesPath, `expected a ubyte image array [N,H,W] or [N,C,H,W], got type 0x${im.typeCode.toString(16)} shape [${im.shape.join(", ")}]`);
  }
  if (lb.shape.length !== 1) throw new DataFormatError(labelsPath, `expected a label vector [N], got shape [${lb.shape.join(", ")}]`);
  if (lb.shape[0] !== im.shape[0]) {
    throw new DataFormatError(labelsPath, `inconsistent counts: ${lb.shape[0]} labels for ${im.shape[0]} images in ${imagesPath}`);
  }
  const [n, c, h, w] = im.shape.length === 3 ? [im.shape[0]!, 1, im.shape[1]!, im.shape[2]!] : (im.shape as [number, number, number, number]);
  const labels = Int32Array.from(lb.data as ArrayLike<number>);
  const k = classes?.length ?? Math.max(0, ...labels) + 1;
  return { name, images: im.data as Uint8Array, labels, count: n, channels: c, height: h, width: w, classes: classes ?? Array.from({ length: k }, (_, i) => String(i)), source: imagesPath };
}

/** Loads one split of a named dataset from a directory that holds its files. */
export function loadDatasetFromDir(name: DatasetName, dir: string, split: Split, opts: { labels?: LabelSetName } = {}): FrameDataset {
  const ds = loadAllLabels(name, dir, split);
  const set = opts.labels ?? "fine";
  if (set === "fine") return ds;
  if (!ds.labelSets) throw new Error(`${DATASETS[name].title} has one label set; labels "${set}" exists for CIFAR-100 only`);
  return selectLabels(ds, set);
}

function loadAllLabels(name: DatasetName, dir: string, split: Split): FrameDataset {
  const spec = DATASETS[name];
  const paths = spec.files[split].map((f) => {
    const p = findDatasetFile(spec, dir, f);
    if (!p) throw new DatasetNotFoundError(name, `${spec.title}: ${f} (or ${f.replace(/\.gz$/, "")}) is missing from ${dir}`);
    return p;
  });
  if (spec.kind === "idx") return { ...loadIdxPair(paths[0]!, paths[1]!, name, classesOf(name, dir)), source: dir };
  const batches = paths.map((p) => decodeCifar(readBytes(p), name === "cifar10" ? "cifar10" : "cifar100", p));
  const count = batches.reduce((a, b) => a + b.count, 0);
  const images = new Uint8Array(count * 3072);
  const labels = new Int32Array(count);
  const coarse = name === "cifar100" ? new Int32Array(count) : null;
  let o = 0;
  for (const b of batches) {
    images.set(b.images, o * 3072);
    labels.set(b.labels, o);
    if (coarse && b.coarseLabels) coarse.set(b.coarseLabels, o);
    o += b.count;
  }
  const classes = classesOf(name, dir);
  const ds: FrameDataset = { name, images, labels, count, channels: 3, height: 32, width: 32, classes, source: dir };
  if (coarse) ds.labelSets = { fine: { labels, classes }, coarse: { labels: coarse, classes: cifar100Names(dir, "coarse") ?? CIFAR100_COARSE_CLASSES } };
  return ds;
}

/** Finds (or downloads) a dataset and loads one split. */
export async function loadDataset(name: DatasetName, split: Split, opts: LoadOptions = {}): Promise<FrameDataset> {
  const { dir } = await ensureDataset(name, opts);
  return loadDatasetFromDir(name, dir, split, { labels: opts.labels });
}
