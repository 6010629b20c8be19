/** 2-D pooling on the backend kernels; adaptive average pooling in TypeScript. */
import { allocUninit, allocZeroed } from "../memory.js";
import { record } from "../autograd.js";
import { getBackend } from "../backends.js";
import type { Pool2dParams } from "../backend.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Tensor, assertTensor } from "../tensor.js";
import { outSize, pair } from "./params.js";

type Size2 = number | [number, number];

function poolParams(op: string, x: Tensor, kernel: Size2, stride: Size2 | undefined | null, padding: Size2): Pool2dParams {
  assertTensor(op, "x", x);
  if (x.ndim !== 4) throw new ShapeError(op, `input must be 4-D [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [kh, kw] = pair(op, "kernel", kernel, 1, x.shape);
  const [strideH, strideW] = pair(op, "stride", stride ?? [kh, kw], 1, x.shape);
  const [padH, padW] = pair(op, "padding", padding ?? 0, 0, x.shape);
  if (2 * padH > kh || 2 * padW > kw) {
    throw new ShapeError(op, `padding ${padH},${padW} must be at most half the kernel ${kh}x${kw} (input ${fmtShape(x.shape)})`);
  }
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = outSize(h, kh, strideH, padH);
  const ow = outSize(w, kw, strideW, padW);
  if (oh < 1 || ow < 1) {
    throw new ShapeError(op, `kernel ${kh}x${kw} is larger than the padded input ${fmtShape(x.shape)} (padding ${padH},${padW})`);
  }
  return { n, c, h, w, kh, kw, strideH, strideW, padH, padW, oh, ow, countIncludePad: true };
}

/** Average pooling (padded cells count in the divisor, PyTorch's default count_include_pad=True). */
export function avgPool2d(x: Tensor, kernel: Size2, stride?: Size2 | null, padding: Size2 = 0): Tensor {
  const p = poolParams("avgPool2d", x, kernel, stride, padding);
  // blocked16 in, blocked16 out: every 16-channel block pools as one vector per pixel
  p.blocked = x.layout === "blocked16";
  const y = allocUninit(p.n * p.c * p.oh * p.ow);
  getBackend().avgPool2dForward(x.storage, y, p);
  const out = new Tensor(y, [p.n, p.c, p.oh, p.ow], false, x.layout);
  return record(
    "avgPool2d",
    [x],
    [out],
    ([g]) => {
      const dx = allocUninit(x.size);
      getBackend().avgPool2dBackward(g!, dx, p);
      return [dx];
    },
    { layoutAware: true },
  )[0];
}

/** Max pooling; the gradient goes to the (first) maximal cell of each window. */
export function maxPool2d(x: Tensor, kernel: Size2, stride?: Size2 | null, padding: Size2 = 0): Tensor {
  const p = poolParams("maxPool2d", x, kernel, stride, padding);
  // blocked16 in, blocked16 out (the argmax follows y's storage order), as average pooling
  p.blocked = x.layout === "blocked16";
  const m = p.n * p.c * p.oh * p.ow;
  const y = allocUninit(m);
  const arg = new Int32Array(m);
  getBackend().maxPool2dForward(x.storage, y, arg, p);
  return record(
    "maxPool2d",
    [x],
    [new Tensor(y, [p.n, p.c, p.oh, p.ow], false, x.layout)],
    ([g]) => {
      const dx = allocUninit(x.size);
      getBackend().maxPool2dBackward(g!, arg, dx, p);
      return [dx];
    },
    { layoutAware: true },
  )[0];
}

/**
 * Adaptive average pooling to [oh, ow] (PyTorch's windows: start = floor(i*H/oh), end = ceil((i+1)*H/oh)).
 * Output size 1 (global average pooling) is the common case.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Size2 = 1): Tensor {
  const op = "adaptiveAvgPool2d";
  assertTensor(op, "x", x);
  if (x.ndim !== 4) throw new ShapeError(op, `input must be 4-D [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [oh, ow] = pair(op, "outputSize", outputSize, 1, x.shape);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (h < 1 || w < 1) throw new ShapeError(op, `input ${fmtShape(x.shape)} has an empty spatial size`);
  const planes = n * c;
  const hw = h * w;
  const ys = new Int32Array(oh);
  const ye = new Int32Array(oh);
  const xs = new Int32Array(ow);
  const xe = new Int32Array(ow);
  for (let i = 0; i < oh; i++) {
    ys[i] = Math.floor((i * h) / oh);
    ye[i] = Math.ceil(((i + 1) * h) / oh);
  }
  for (let j = 0; j < ow; j++) {
    xs[j] = Math.floor((j * w) / ow);
    xe[j] = Math.ceil(((j + 1) * w) / ow);
  }
  const y = allocZeroed(planes * oh * ow);
  const xd = x.data;
  if (oh === 1 && ow === 1) {
    const inv = 1 / hw;
    for (let pl = 0; pl < planes; pl++) {
      let acc = 0;
      const base = pl * hw;
      for (let i = 0; i < hw; i++) acc += xd[base + i]!;
      y[pl] = acc * inv;
    }
  } else {
    for (let pl = 0; pl < planes; pl++) {
      const base = pl * hw;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let acc = 0;
          for (let r = ys[i]!; r < ye[i]!; r++) for (let s = xs[j]!; s < xe[j]!; s++) acc += xd[base + r * w + s]!;
          y[(pl * oh + i) * ow + j] = acc / ((ye[i]! - ys[i]!) * (xe[j]! - xs[j]!));
        }
      }
    }
  }
  return record(op, [x], [new Tensor(y, [n, c, oh, ow])], ([g]) => {
    const dx = allocZeroed(x.size);
    if (oh === 1 && ow === 1) {
      for (let pl = 0; pl < planes; pl++) dx.fill(g![pl]! / hw, pl * hw, (pl + 1) * hw);
      return [dx];
    }
    for (let pl = 0; pl < planes; pl++) {
      const base = pl * hw;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const v = g![(pl * oh + i) * ow + j]! / ((ye[i]! - ys[i]!) * (xe[j]! - xs[j]!));
          for (let r = ys[i]!; r < ye[i]!; r++) for (let s = xs[j]!; s < xe[j]!; s++) dx[base + r * w + s]! += v;
        }
      }
    }
    return [dx];
  })[0];
}
