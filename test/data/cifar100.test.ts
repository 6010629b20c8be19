/** CIFAR-100's two label sets: 100 fine classes and 20 coarse superclasses, both kept and selectable. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDatasetFromDir, selectLabels, subsetFrames, writeCifar, CIFAR100_COARSE_CLASSES } from "../../src/data/index.js";
import { runDataCommand, tmp } from "./helpers.js";

const run = runDataCommand;

/** A tiny CIFAR-100 folder: n images per split, fine label i % 100, coarse label ⌊fine / 5⌋ (not the real mapping). */
function fakeCifar100(n: number): string {
  const d = tmp();
  for (const file of ["train.bin", "test.bin"]) {
    const labels = Int32Array.from({ length: n }, (_, i) => i % 100);
    const coarseLabels = Int32Array.from(labels, (l) => Math.floor(l / 5));
    writeCifar(join(d, file), { variant: "cifar100", images: new Uint8Array(n * 3072).map((_, i) => i & 255), labels, coarseLabels });
  }
  return d;
}

describe("CIFAR-100 coarse labels", () => {
  it("the loader keeps both label sets and selects the coarse ones on request", () => {
    const d = fakeCifar100(200);
    const fine = loadDatasetFromDir("cifar100", d, "train");
    expect(fine.classes).toHaveLength(100);
    expect(fine.labelSets!.coarse!.classes).toEqual(CIFAR100_COARSE_CLASSES);
    const coarse = loadDatasetFromDir("cifar100", d, "train", { labels: "coarse" });
    expect(coarse.classes).toHaveLength(20);
    expect(Array.from(coarse.labels.subarray(0, 12))).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2]);
    expect(selectLabels(fine, "coarse").images).toBe(fine.images);
    // subsets carry both sets; names come from the archive's coarse_label_names.txt when present
    const sub = subsetFrames(fine, [7, 99]);
    expect(Array.from(selectLabels(sub, "coarse").labels)).toEqual([1, 19]);
    writeFileSync(join(d, "coarse_label_names.txt"), CIFAR100_COARSE_CLASSES.map((c) => c.toUpperCase()).join("\n") + "\n");
    expect(loadDatasetFromDir("cifar100", d, "test", { labels: "coarse" }).classes[0]).toBe("AQUATIC_MAMMALS");
    expect(() => loadDatasetFromDir("fashion-mnist", d, "test", { labels: "coarse" })).toThrow();
  });

  it("data info prints the class counts of both label sets, for the folder and for one file", async () => {
    const d = fakeCifar100(200);
    const folder = await run("info", d);
    expect(folder.out).toContain("train: 200 images, shape [3, 32, 32], 100 fine classes (2 each), 20 coarse classes (10 each)");
    const j = JSON.parse((await run("info", d, "--json")).out);
    expect(j.splits.train.labelSets.coarse.perClass).toEqual(new Array(20).fill(10));
    const file = await run("info", join(d, "train.bin"));
    expect(file.out).toContain("CIFAR-100: 200 images, shape [3, 32, 32], 100 fine classes (2 each), 20 coarse classes (10 each)");
    expect(JSON.parse((await run("info", join(d, "train.bin"), "--json")).out).labelSets.coarse.classes).toBe(20);
  });
});
