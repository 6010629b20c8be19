/** An in-memory image classification dataset: uint8 images in [N, C, H, W] order plus integer labels. */
export interface FrameDataset {
  name: string;
  /** uint8 pixels, [count, channels, height, width], channel-planar. */
  images: Uint8Array;
  labels: Int32Array;
  count: number;
  channels: number;
  height: number;
  width: number;
  classes: string[];
  /** Where the data came from (a directory, file list or "bundled"). */
  source: string;
  /**
   * Datasets with more than one labelling (CIFAR-100: 100 "fine" classes and 20 "coarse" superclasses): every set,
   * by name; `labels`/`classes` hold the selected one (selectLabels).
   */
  labelSets?: Record<string, LabelSet>;
}

export interface LabelSet {
  labels: Int32Array;
  classes: string[];
}

/** The dataset labelled by another of its label sets (e.g. CIFAR-100's "coarse" superclasses); shares the images. */
export function selectLabels(ds: FrameDataset, set: string): FrameDataset {
  const chosen = ds.labelSets?.[set];
  if (!chosen) {
    const have = Object.keys(ds.labelSets ?? {});
    throw new Error(`${ds.name}: no "${set}" labels (${have.length ? `it has ${have.join(", ")}` : "it has a single label set"})`);
  }
  return { ...ds, labels: chosen.labels, classes: chosen.classes };
}

export const FASHION_MNIST_CLASSES = [
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
];
export const MNIST_CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
/** CIFAR-100's 20 superclasses in label order (coarse_label_names.txt of the official archive). */
export const CIFAR100_COARSE_CLASSES = [
  "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables", "household_electrical_devices",
  "household_furniture", "insects", "large_carnivores", "large_man-made_outdoor_things", "large_natural_outdoor_scenes",
  "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals",
  "trees", "vehicles_1", "vehicles_2",
];
export const CIFAR10_CLASSES = [
  "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
];

/** Counts of each label, for info output. */
export function classCounts(labels: Int32Array, numClasses: number): number[] {
  const c = new Array<number>(numClasses).fill(0);
  for (const l of labels) if (l >= 0 && l < numClasses) c[l]!++;
  return c;
}

/** A new dataset holding the given rows (copying). */
export function subsetFrames(ds: FrameDataset, indices: ArrayLike<number>): FrameDataset {
  const size = ds.channels * ds.height * ds.width;
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    images.set(ds.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = ds.labels[j]!;
  }
  const labelSets = ds.labelSets
    ? Object.fromEntries(Object.entries(ds.labelSets).map(([k, v]) => [k, { classes: v.classes, labels: Int32Array.from(indices, (j) => v.labels[j]!) }]))
    : undefined;
  return { ...ds, images, labels, count: indices.length, ...(labelSets ? { labelSets } : {}) };
}
