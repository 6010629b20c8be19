/**
 * CIFAR-10 / CIFAR-100 binary versions (https://www.cs.toronto.edu/~kriz/cifar.html).
 * CIFAR-10 record: 1 label byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B, rows of 32).
 * CIFAR-100 record: 1 coarse label byte + 1 fine label byte + 3072 pixel bytes.
 */
import { DataFormatError } from "./errors.js";
import { readBytes, writeFileAtomic } from "./fsutil.js";
import { basename } from "node:path";

export type CifarVariant = "cifar10" | "cifar100";

export interface CifarBatch {
  variant: CifarVariant;
  count: number;
  images: Uint8Array;
  /** CIFAR-10 label, or CIFAR-100 fine label. */
  labels: Int32Array;
  /** CIFAR-100 coarse labels (undefined for CIFAR-10). */
  coarseLabels?: Int32Array;
}

const PIXELS = 3072;

/** Guesses the variant from the file name (`train.bin`/`test.bin` are CIFAR-100) or the record size. */
export function guessCifarVariant(name: string, byteLength: number): CifarVariant | null {
  const b = basename(name);
  if (/^(data_batch_\d|test_batch)/.test(b)) return "cifar10";
  if (/^(train|test)\.bin$/.test(b)) return "cifar100";
  if (byteLength > 0 && byteLength % (PIXELS + 1) === 0) return "cifar10";
  if (byteLength > 0 && byteLength % (PIXELS + 2) === 0) return "cifar100";
  return null;
}

export function decodeCifar(bytes: Uint8Array, variant: CifarVariant, name = "<cifar>"): CifarBatch {
  const rec = PIXELS + (variant === "cifar10" ? 1 : 2);
  if (bytes.length === 0) throw new DataFormatError(name, "empty file");
  if (bytes.length % rec !== 0) {
    throw new DataFormatError(
      name,
      `truncated or not ${variant === "cifar10" ? "CIFAR-10" : "CIFAR-100"} binary: ${bytes.length} bytes is not a multiple of the ${rec}-byte record (last record has ${bytes.length % rec} bytes)`,
    );
  }
  const count = bytes.length / rec;
  const images = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  const coarse = variant === "cifar100" ? new Int32Array(count) : undefined;
  const maxLabel = variant === "cifar10" ? 9 : 99;
  for (let i = 0; i < count; i++) {
    const o = i * rec;
    if (coarse) {
      coarse[i] = bytes[o]!;
      labels[i] = bytes[o + 1]!;
      if (coarse[i]! > 19) throw new DataFormatError(name, `record ${i}: coarse label ${coarse[i]} out of range 0..19`);
    } else labels[i] = bytes[o]!;
    if (labels[i]! > maxLabel) throw new DataFormatError(name, `record ${i}: label ${labels[i]} out of range 0..${maxLabel}`);
    images.set(bytes.subarray(o + rec - PIXELS, o + rec), i * PIXELS);
  }
  return { variant, count, images, labels, coarseLabels: coarse };
}

export function readCifar(path: string, variant?: CifarVariant): CifarBatch {
  const bytes = readBytes(path);
  const v = variant ?? guessCifarVariant(path, bytes.length);
  if (!v) throw new DataFormatError(path, `not a CIFAR binary file: ${bytes.length} bytes is a multiple of neither 3073 (CIFAR-10) nor 3074 (CIFAR-100)`);
  return decodeCifar(bytes, v, path);
}

export function encodeCifar(batch: Omit<CifarBatch, "count"> & { count?: number }): Uint8Array {
  const count = batch.labels.length;
  if (batch.images.length !== count * PIXELS) throw new Error(`encodeCifar: ${count} labels need ${count * PIXELS} pixels, got ${batch.images.length}`);
  const rec = PIXELS + (batch.variant === "cifar10" ? 1 : 2);
  const out = new Uint8Array(count * rec);
  for (let i = 0; i < count; i++) {
    const o = i * rec;
    if (batch.variant === "cifar100") {
      out[o] = batch.coarseLabels ? batch.coarseLabels[i]! : 0;
      out[o + 1] = batch.labels[i]!;
    } else out[o] = batch.labels[i]!;
    out.set(batch.images.subarray(i * PIXELS, (i + 1) * PIXELS), o + rec - PIXELS);
  }
  return out;
}

export function writeCifar(path: string, batch: Omit<CifarBatch, "count">): void {
  writeFileAtomic(path, encodeCifar(batch));
}
