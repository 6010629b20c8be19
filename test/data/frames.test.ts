import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  decodeIdx, encodeIdx, readIdx, writeIdx, decodeCifar, encodeCifar, readCifar, writeCifar, guessCifarVariant,
  loadIdxPair, loadBundledFashionMnist, classCounts, DataFormatError,
} from "../../src/data/index.js";
import { tmp } from "./helpers.js";

describe("IDX", () => {
  it("round-trips every element type, plain and gzipped", () => {
    const d = tmp();
    const cases = [
      new Uint8Array([0, 1, 255, 7, 8, 9]), new Int8Array([-128, 0, 127, 1, 2, 3]), new Int16Array([-300, 300, 0, 1, 2, 3]),
      new Int32Array([-70000, 70000, 0, 1, 2, 3]), new Float32Array([1.5, -2.25, 0, 1, 2, 3]), new Float64Array([Math.PI, -1e300, 0, 1, 2, 3]),
    ];
    for (const [k, data] of cases.entries()) {
      for (const ext of ["", ".gz"]) {
        const p = join(d, `a${k}-idx${ext}`);
        writeIdx(p, data, [2, 3]);
        const r = readIdx(p);
        expect(r.shape).toEqual([2, 3]);
        expect(Array.from(r.data)).toEqual(Array.from(data));
        expect(r.data.constructor).toBe(data.constructor);
      }
    }
  });

  it("names the file and the problem", () => {
    const good = encodeIdx(new Uint8Array(12), [3, 2, 2]);
    expect(() => decodeIdx(new Uint8Array([1, 2, 8, 1, 0, 0, 0, 0]), "x.idx")).toThrow(/x\.idx: wrong magic number 0x01020801/);
    expect(() => decodeIdx(good.subarray(0, good.length - 1), "t.idx")).toThrow(/t\.idx: truncated: header declares shape \[3, 2, 2\]/);
    expect(() => decodeIdx(good.subarray(0, 10), "h.idx")).toThrow(/h\.idx: truncated IDX header/);
    expect(() => decodeIdx(new Uint8Array([...good, 0]), "l.idx")).toThrow(/inconsistent: 1 bytes after/);
    expect(() => decodeIdx(new Uint8Array([0, 0, 0x42, 1, 0, 0, 0, 0]), "k.idx")).toThrow(/unknown IDX type code 0x42/);
    expect(() => decodeIdx(gzipSync(good).subarray(0, 20), "g.gz")).toThrow(/g\.gz: gzip data is corrupt or truncated/);
    expect(() => decodeIdx(good.subarray(0, 20), "t.idx")).toThrow(DataFormatError);
  });

  it("checks that image and label counts agree", () => {
    const d = tmp();
    writeIdx(join(d, "im"), new Uint8Array(3 * 4), [3, 2, 2]);
    writeIdx(join(d, "lb"), new Uint8Array([0, 1]), [2]);
    expect(() => loadIdxPair(join(d, "im"), join(d, "lb"))).toThrow(/lb: inconsistent counts: 2 labels for 3 images/);
  });
});

describe("CIFAR binary", () => {
  it("round-trips CIFAR-10 and CIFAR-100 records", () => {
    const d = tmp();
    const images = new Uint8Array(2 * 3072).map((_, i) => i % 251);
    writeCifar(join(d, "data_batch_1.bin"), { variant: "cifar10", images, labels: Int32Array.from([3, 9]) });
    const a = readCifar(join(d, "data_batch_1.bin"));
    expect(a.variant).toBe("cifar10");
    expect(Array.from(a.labels)).toEqual([3, 9]);
    expect(a.images).toEqual(images);
    writeCifar(join(d, "train.bin"), { variant: "cifar100", images, labels: Int32Array.from([42, 99]), coarseLabels: Int32Array.from([7, 19]) });
    const b = readCifar(join(d, "train.bin"));
    expect(b.variant).toBe("cifar100");
    expect(Array.from(b.labels)).toEqual([42, 99]);
    expect(Array.from(b.coarseLabels!)).toEqual([7, 19]);
    expect(b.images).toEqual(images);
  });

  it("rejects truncated records and bad labels, naming the file", () => {
    const rec = encodeCifar({ variant: "cifar10", images: new Uint8Array(3072 * 2), labels: Int32Array.from([1, 2]) });
    expect(() => decodeCifar(rec.subarray(0, rec.length - 5), "cifar10", "b.bin")).toThrow(/b\.bin: truncated or not CIFAR-10 binary: .*last record has 3068 bytes/);
    const bad = rec.slice();
    bad[3073] = 12;
    expect(() => decodeCifar(bad, "cifar10", "b.bin")).toThrow(/b\.bin: record 1: label 12 out of range 0\.\.9/);
    expect(() => decodeCifar(new Uint8Array(0), "cifar10", "e.bin")).toThrow(/e\.bin: empty file/);
    const d = tmp();
    writeFileSync(join(d, "x.bin"), new Uint8Array(1000));
    expect(() => readCifar(join(d, "x.bin"))).toThrow(/multiple of neither 3073/);
    expect(guessCifarVariant("test_batch.bin", 30730000)).toBe("cifar10");
    expect(guessCifarVariant("test.bin", 30740000)).toBe("cifar100");
  });
});

describe("bundled Fashion-MNIST subset", () => {
  it("holds 6000 + 1000 class-balanced real images", () => {
    const tr = loadBundledFashionMnist("train");
    const te = loadBundledFashionMnist("test");
    expect([tr.count, tr.channels, tr.height, tr.width]).toEqual([6000, 1, 28, 28]);
    expect(classCounts(tr.labels, 10)).toEqual(new Array(10).fill(600));
    expect(classCounts(te.labels, 10)).toEqual(new Array(10).fill(100));
    expect(tr.classes[9]).toBe("Ankle boot");
    // real images: not blank, mean intensity in Fashion-MNIST's range
    const mean = tr.images.reduce((a, b) => a + b, 0) / tr.images.length / 255;
    expect(mean).toBeGreaterThan(0.2);
    expect(mean).toBeLessThan(0.4);
  });
});
