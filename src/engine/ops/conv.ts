/** 2-D convolution (cross-correlation, like PyTorch) on the backend's conv kernels. */
import { allocUninit } from "../memory.js";
import { record } from "../autograd.js";
import { getBackend } from "../backends.js";
import type { Conv2dParams } from "../backend.js";
import { ShapeError, fmtShape } from "../errors.js";
import { Tensor, assertTensor, relayout } from "../tensor.js";
import { blockedActivations } from "../layout.js";
import { outSize, pair } from "./params.js";

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  groups?: number;
}

/** Validates the arguments and returns the kernel parameters. */
export function conv2dParams(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions = {}): Conv2dParams {
  const op = "conv2d";
  if (x.ndim !== 4) throw new ShapeError(op, `input must be 4-D [N, C, H, W], got ${fmtShape(x.shape)}`);
  if (w.ndim !== 4) throw new ShapeError(op, `weight must be 4-D [K, C/groups, kh, kw], got ${fmtShape(w.shape)} (input ${fmtShape(x.shape)})`);
  const [strideH, strideW] = pair(op, "stride", opts.stride ?? 1, 1, x.shape);
  const [padH, padW] = pair(op, "padding", opts.padding ?? 0, 0, x.shape);
  const groups = opts.groups ?? 1;
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [k, cg, kh, kw] = w.shape as [number, number, number, number];
  if (!Number.isInteger(groups) || groups < 1) throw new ShapeError(op, `groups must be a positive integer, got ${String(groups)}`);
  if (c % groups !== 0 || k % groups !== 0) {
    throw new ShapeError(op, `groups=${groups} must divide input channels and output channels (input ${fmtShape(x.shape)}, weight ${fmtShape(w.shape)})`);
  }
  if (cg !== c / groups) {
    throw new ShapeError(op, `weight ${fmtShape(w.shape)} expects ${cg * groups} input channels with groups=${groups}, input ${fmtShape(x.shape)} has ${c}`);
  }
  if (b !== null) {
    if (b.ndim !== 1 || b.shape[0] !== k) throw new ShapeError(op, `bias ${fmtShape(b.shape)} must be [${k}] for weight ${fmtShape(w.shape)}`);
  }
  if (kh < 1 || kw < 1) throw new ShapeError(op, `empty kernel in weight ${fmtShape(w.shape)}`);
  const oh = outSize(h, kh, strideH, padH);
  const ow = outSize(wd, kw, strideW, padW);
  if (oh < 1 || ow < 1) {
    throw new ShapeError(op, `kernel ${kh}x${kw} (weight ${fmtShape(w.shape)}) is larger than the padded input ${fmtShape(x.shape)} with padding ${padH},${padW}`);
  }
  return { n, c, h, w: wd, k, kh, kw, strideH, strideW, padH, padW, groups, oh, ow };
}

/** x[N,C,H,W] * w[K,C/groups,kh,kw] (+ b[K]) -> [N,K,oh,ow]. dx is only computed when x requires grad. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  assertTensor("conv2d", "x", x);
  assertTensor("conv2d", "w", w);
  if (b !== null && b !== undefined) assertTensor("conv2d", "b", b);
  const bias = b ?? null;
  const p = conv2dParams(x, w, bias, opts ?? {});
  const be = getBackend();
  // x goes in as stored (a backend that does not take blocked16 natively converts it); y comes out blocked16 where
  // the backend writes that layout itself, so the next layer need not reorder
  const xBlocked = x.layout === "blocked16";
  const yBlocked = (xBlocked || blockedActivations()) && (be.conv2dLayouts(p, bias !== null) & 2) !== 0;
  const pk: Conv2dParams = { ...p, xBlocked, yBlocked };
  const y = allocUninit(p.n * p.k * p.oh * p.ow);
  be.conv2dForward(x.storage, w.data, bias ? bias.data : null, y, pk);
  const inputs = bias ? [x, w, bias] : [x, w];
  const out = new Tensor(y, [p.n, p.k, p.oh, p.ow], false, yBlocked ? "blocked16" : "plain");
  return record(
    "conv2d",
    inputs,
    [out],
    ([g]) => {
      const be = getBackend();
      let dx: Float32Array | null = null;
      let dw: Float32Array | null = null;
      let db: Float32Array | null = null;
      const wantB = bias !== null && bias.requiresGrad;
      if (x.requiresGrad) dx = allocUninit(x.size);
      if (w.requiresGrad) {
        dw = allocUninit(w.size);
        if (wantB) db = new Float32Array(p.k);
      }
      // g has y's layout and dx gets x's (the tape's contract for layout-aware ops)
      if (dx || dw) be.conv2dBackward(x.storage, g!, w.data, dx, dw, db, pk);
      if (wantB && !dw) db = channelSums(yBlocked ? relayout(g!, out.shape, false) : g!, p);
      return [dx, dw, db];
    },
    { layoutAware: true },
  )[0];
}

/** Per-output-channel sums of an NCHW gradient (the bias gradient when the weight pass is not run). */
function channelSums(g: Float32Array, p: Conv2dParams): Float32Array {
  const acc = new Float64Array(p.k);
  const ohw = p.oh * p.ow;
  for (let i = 0; i < p.n; i++) {
    for (let o = 0; o < p.k; o++) {
      const base = (i * p.k + o) * ohw;
      let s = 0;
      for (let j = 0; j < ohw; j++) s += g[base + j]!;
      acc[o]! += s;
    }
  }
  return Float32Array.from(acc);
}
