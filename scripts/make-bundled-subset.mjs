#!/usr/bin/env node
/**
 * Builds the bundled Fashion-MNIST subset in data/fashion-mnist-subset/ from the full dataset
 * (Debian's dataset-fashion-mnist by default, or a directory given as the first argument).
 *
 * Selection rule (deterministic, no randomness): in the official file order, keep the first 600 images
 * of each of the 10 classes from the training set (6000 images) and the first 100 images of each class
 * from the test set (1000 images); kept images stay in their original relative order. Output: gzipped
 * IDX files with the official names, plus indices.json listing the original indices.
 *
 * usage: node scripts/make-bundled-subset.mjs [SOURCE_DIR] [OUT_DIR]
 */
import { readFileSync, writeFileSync, mkdirSync, renameSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const src = process.argv[2] ?? "/usr/share/datasets/fashion-mnist";
const out = process.argv[3] ?? join(here, "..", "data", "fashion-mnist-subset");
const PER_CLASS = { train: 600, t10k: 100 };

function readIdx(path) {
  let b = readFileSync(path);
  if (b[0] === 0x1f && b[1] === 0x8b) b = gunzipSync(b);
  if (b[0] !== 0 || b[1] !== 0 || b[2] !== 0x08) throw new Error(`${path}: not a ubyte IDX file`);
  const nd = b[3];
  const shape = [];
  for (let i = 0; i < nd; i++) shape.push(b.readUInt32BE(4 + 4 * i));
  return { shape, data: b.subarray(4 + 4 * nd) };
}

function encodeIdx(shape, data) {
  const h = Buffer.alloc(4 + 4 * shape.length);
  h[2] = 0x08;
  h[3] = shape.length;
  shape.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([h, Buffer.from(data)]);
}

function writeAtomic(path, bytes) {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

mkdirSync(out, { recursive: true });
const indices = {};
for (const split of ["train", "t10k"]) {
  const im = readIdx(join(src, `${split}-images-idx3-ubyte.gz`));
  const lb = readIdx(join(src, `${split}-labels-idx1-ubyte.gz`));
  const [n, h, w] = im.shape;
  const taken = new Array(10).fill(0);
  const keep = [];
  for (let i = 0; i < n; i++) {
    const c = lb.data[i];
    if (taken[c] < PER_CLASS[split]) {
      taken[c]++;
      keep.push(i);
    }
  }
  if (taken.some((t) => t !== PER_CLASS[split])) throw new Error(`${split}: a class has fewer than ${PER_CLASS[split]} images`);
  const images = new Uint8Array(keep.length * h * w);
  const labels = new Uint8Array(keep.length);
  keep.forEach((j, k) => {
    images.set(im.data.subarray(j * h * w, (j + 1) * h * w), k * h * w);
    labels[k] = lb.data[j];
  });
  // mtime 0 in the gzip header (zlib writes none), so the output is byte-reproducible
  const files = {
    [`${split}-images-idx3-ubyte.gz`]: gzipSync(encodeIdx([keep.length, h, w], images), { level: 9 }),
    [`${split}-labels-idx1-ubyte.gz`]: gzipSync(encodeIdx([keep.length], labels), { level: 9 }),
  };
  for (const [name, bytes] of Object.entries(files)) {
    writeAtomic(join(out, name), bytes);
    console.log(`${name}\t${bytes.length} bytes\tsha256 ${createHash("sha256").update(bytes).digest("hex")}`);
  }
  indices[split === "t10k" ? "test" : "train"] = keep;
}
writeAtomic(join(out, "indices.json"), JSON.stringify(indices) + "\n");
console.log(`wrote ${out}`);
