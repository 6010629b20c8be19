/** Renders integrated frames [T, 2, H, W] as one PNG strip: ON events red, OFF events blue, on black. */
import { PNG } from "pngjs";
import { writeFileAtomic } from "./fsutil.js";
import type { Frames } from "./integrate.js";

export function framesToPng(f: Frames, scale = 4, gap = 2): Uint8Array {
  const [T, , H, W] = f.shape;
  const width = T * (W * scale + gap) - gap;
  const height = H * scale;
  const png = new PNG({ width, height });
  png.data.fill(255);
  let max = 0;
  for (const v of f.data) if (v > max) max = v;
  const norm = max > 0 ? 1 / Math.min(max, 4) : 0;
  for (let t = 0; t < T; t++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < W * scale; x++) {
        const sx = Math.floor(x / scale);
        const sy = Math.floor(y / scale);
        const off = f.data[((t * 2 + 0) * H + sy) * W + sx]!;
        const on = f.data[((t * 2 + 1) * H + sy) * W + sx]!;
        const o = (y * width + t * (W * scale + gap) + x) * 4;
        png.data[o] = Math.round(255 * Math.min(1, on * norm));
        png.data[o + 1] = Math.round(64 * Math.min(1, (on + off) * norm * 0.5));
        png.data[o + 2] = Math.round(255 * Math.min(1, off * norm));
        png.data[o + 3] = 255;
      }
  return PNG.sync.write(png);
}

export function writeFramesPng(path: string, f: Frames, scale = 4): void {
  writeFileAtomic(path, framesToPng(f, scale));
}
