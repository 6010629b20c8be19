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
}

export const FASHION_MNIST_CLASSES = [
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
];
export const MNIST_CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
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
  return { ...ds, images, labels, count: indices.length };
}
